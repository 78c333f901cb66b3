//! The store's server, `monitor store`: Open-Falcon's *graph*, on lab 07's event loop.
//!
//! A relay (or an agent) sends batches in nbNet's length frames; each is checked on the event loop
//! thread and handed to a *committer* thread, which drops and counts its invalid points (the checks
//! of [`validate`](crate::wire::validate())), appends the rest and writes the [`Message::Ack`]
//! through the loop's [`Handle`] once they are durable. The loop never waits for an fsync, and the committers' appends
//! share fsyncs. A connection's batches always go to the same committer, so they are stored in
//! the order sent. A frame that is not a batch of this protocol version is answered with
//! [`Message::Refused`] and the connection is closed.

use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nbnet::codec::HEADER_LEN;
use nbnet::{ConnId, Context, Handle, LengthCodec, Options, Server, Service};
use tracing::{debug, error, info, warn};

use super::engine::Store;
use crate::error::Error;

use crate::point::now_millis;
use crate::shutdown::Shutdown;
use crate::wire::message::decode_batch_view;
use crate::wire::validate::{validate_sample, validate_series};
use crate::wire::{MAX_PAYLOAD_BYTES, Message, Reject, decode, encode, encode_frame};

/// Committer threads: each appends one batch at a time, and their appends share fsyncs.
pub const COMMITTERS: usize = 4;

/// How often a served store enforces its retention.
pub const RETENTION_EVERY: Duration = Duration::from_secs(600);

/// How often a served store's background thread looks whether the log has grown enough for a
/// checkpoint.
const CHECKPOINT_CHECK: Duration = Duration::from_millis(200);

/// A batch waiting for its committer.
struct Job {
    /// Its connection.
    conn: ConnId,
    /// The loop that serves the connection.
    handle: Handle,
    /// The batch's frame, checked.
    payload: Vec<u8>,
}

/// The store's [`Service`]: batches in, acks out once durable.
pub struct StoreService {
    /// The store.
    store: Arc<Store>,
    /// Each committer's queue.
    lanes: Vec<Sender<Job>>,
    /// The committers.
    committers: Vec<JoinHandle<()>>,
    /// Picks a connection's committer.
    hasher: RandomState,
}

impl StoreService {
    /// A service appending to `store`, with [`COMMITTERS`] committer threads that end when it is
    /// dropped (after the batches queued).
    ///
    /// # Panics
    ///
    /// When a thread cannot be started.
    pub fn new(store: Arc<Store>) -> StoreService {
        let mut lanes = Vec::new();
        let mut committers = Vec::new();
        for index in 0..COMMITTERS {
            let (sender, receiver) = mpsc::channel();
            let store = Arc::clone(&store);
            let thread = thread::Builder::new()
                .name(format!("store-commit-{index}"))
                .spawn(move || commit(&store, &receiver))
                .expect("a committer thread");
            lanes.push(sender);
            committers.push(thread);
        }
        StoreService { store, lanes, committers, hasher: RandomState::new() }
    }
}

impl Service for StoreService {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        LengthCodec::new(MAX_PAYLOAD_BYTES)
    }

    fn call(&self, payload: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        // Checked here, where a bad frame can still close its connection; read again, as
        // cheaply, by the committer.
        match decode_batch_view(&payload) {
            Ok(Some(_)) => {}
            Ok(None) => {
                let found = decode(&payload).map_or("an unknown message", |other| kind(&other));
                return refuse(cx, format!("expected a batch, got {found}"));
            }
            Err(err) => return refuse(cx, err.to_string()),
        }
        let Some(handle) = cx.handle() else {
            // Outside a mio loop no one can answer later: append here, holding up this loop.
            return stored(&self.store, &payload).map(|message| {
                let mut payload = Vec::new();
                encode(&message, &mut payload);
                payload
            });
        };
        let job = Job { conn: cx.id(), handle: handle.clone(), payload };
        let lane = self.hasher.hash_one(cx.id()) as usize % self.lanes.len();
        if self.lanes[lane].send(job).is_err() {
            warn!("committer gone: batch not stored, and not acked");
        }
        None
    }
}

impl Drop for StoreService {
    fn drop(&mut self) {
        self.lanes.clear();
        for committer in self.committers.drain(..) {
            let _ = committer.join();
        }
    }
}

impl std::fmt::Debug for StoreService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreService").field("committers", &self.committers.len()).finish_non_exhaustive()
    }
}

/// A committer: appends each batch of its queue and acks it, until the queue is closed.
fn commit(store: &Store, jobs: &Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        if let Some(message) = stored(store, &job.payload) {
            let mut frame = Vec::new();
            encode_frame(&message, &mut frame);
            job.handle.write(job.conn, frame);
        }
    }
}

/// Appends the valid points of the batch in `payload` (checked) and returns its ack; `None` when
/// the append failed (the sender will send the batch again, here or elsewhere).
fn stored(store: &Store, payload: &[u8]) -> Option<Message> {
    // Read where it lies, no point built: each of the batch's series is checked and found once,
    // which more than halves the cost of a batch of known series (malloc and free were a third).
    let Ok(Some((seq, batch))) = decode_batch_view(payload) else {
        error!("a checked batch does not decode: not stored, and not acked");
        return None;
    };
    let now = now_millis();
    let series: Vec<Result<(), Reject>> = batch
        .series
        .iter()
        .map(|series| validate_series(series.host, series.metric, batch.tags_of(series)))
        .collect();
    let mut invalid = 0u64;
    let keep: Vec<bool> = batch
        .points
        .iter()
        .map(|&(at, time, value)| {
            let valid = validate_sample(time, value, now).and(series[at as usize]).is_ok();
            invalid += u64::from(!valid);
            valid
        })
        .collect();
    match store.append_view(&batch, &keep) {
        Ok(outcome) => {
            let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
            debug!(seq, accepted = outcome.accepted, "batch stored");
            Some(Message::Ack {
                seq,
                accepted: count(outcome.accepted),
                rejected: count(invalid + outcome.refused()),
            })
        }
        Err(err) => {
            error!(seq, cause = %err, "batch not stored");
            None
        }
    }
}

/// Refuses a frame: the refusal, then the connection closed.
fn refuse(cx: &mut Context<'_>, reason: String) -> Option<Vec<u8>> {
    warn!(peer = ?cx.peer(), reason = %reason, "frame refused");
    cx.close();
    let mut payload = Vec::new();
    encode(&Message::Refused { reason }, &mut payload);
    Some(payload)
}

/// What kind of message `message` is, for a refusal's reason.
fn kind(message: &Message) -> &'static str {
    match message {
        Message::Batch { .. } => "a batch",
        Message::Ack { .. } => "an ack",
        Message::Refused { .. } => "a refusal",
    }
}

/// A store being served: its event loop and its retention, each on a thread, until the
/// [`Shutdown`] it was started with.
#[derive(Debug)]
pub struct StoreServer {
    /// The address it listens on.
    local_addr: SocketAddr,
    /// The event loop's thread, which flushes the store when the loop ends.
    server: JoinHandle<crate::Result<()>>,
    /// The retention thread.
    retention: JoinHandle<()>,
}

/// Serves `store` on `addr` (port 0: any free port, see [`StoreServer::local_addr`]) until
/// `shutdown`; then the committers finish the batches they have, and the store is flushed. Every
/// [`RETENTION_EVERY`] the store enforces its retention at the time of day; its checkpoints run on
/// the same thread, not in the append that filled the log.
///
/// # Errors
///
/// [`Error::Sys`] when the address cannot be bound or a thread cannot be started.
pub fn serve(addr: SocketAddr, store: Arc<Store>, shutdown: &Shutdown) -> crate::Result<StoreServer> {
    let options = Options { max_input: MAX_PAYLOAD_BYTES + HEADER_LEN, ..Options::default() };
    let server =
        Server::bind(addr, StoreService::new(Arc::clone(&store)), options).map_err(|err| match err {
            nbnet::Error::Bind { addr, source } => Error::Sys { call: format!("bind {addr}"), source },
            other => Error::Sys { call: "start the event loop".to_owned(), source: io::Error::other(other) },
        })?;
    let local_addr = server.local_addr();
    let handle = server.handle();
    shutdown.on_stop(move || handle.shutdown());
    let flushed = Arc::clone(&store);
    let server = spawn("store-server", move || {
        let ran = server.run().map_err(|err| Error::Sys {
            call: "the store's event loop".to_owned(),
            source: io::Error::other(err),
        });
        // The server and its committers are gone: nothing appends any more.
        ran.and(flushed.flush())
    })?;
    let stop = shutdown.clone();
    // Checkpoints run here, not in the append that filled the log: a committer that ran one would
    // hold up its connections' batches for the whole checkpoint (seconds, with a million series).
    store.background_checkpoints.store(true, Ordering::Relaxed);
    let retention = spawn("store-retention", move || {
        let mut retained = Instant::now();
        while !stop.wait_timeout(CHECKPOINT_CHECK) {
            if store.checkpoint_due() {
                store.checkpoint_if_idle();
            }
            if retained.elapsed() >= RETENTION_EVERY {
                retained = Instant::now();
                if let Err(err) = store.enforce_retention(now_millis()) {
                    warn!(cause = %err, "retention failed");
                }
            }
        }
    })?;
    info!(addr = %local_addr, "store listening");
    Ok(StoreServer { local_addr, server, retention })
}

impl StoreServer {
    /// The address relays connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits until the server has stopped and the store is flushed.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the event loop failed, [`Error::File`] when the flush did.
    pub fn join(self) -> crate::Result<()> {
        let _ = self.retention.join();
        match self.server.join() {
            Ok(result) => result,
            Err(_) => Err(Error::Sys {
                call: "the store's event loop".to_owned(),
                source: io::Error::other("its thread panicked"),
            }),
        }
    }
}

/// Starts a named thread.
fn spawn<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> crate::Result<JoinHandle<T>> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(Error::sys(format!("start thread {name}")))
}
