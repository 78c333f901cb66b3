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
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nbnet::codec::HEADER_LEN;
use nbnet::{ConnId, Context, Handle, LengthCodec, Options, Server, Service};
use tracing::{debug, error, info, warn};

use super::engine::Store;
use crate::error::Error;
use crate::point::now_millis;
use crate::point::{Millis, Point};
use crate::shutdown::Shutdown;
use crate::wire::{MAX_PAYLOAD_BYTES, Message, Rejections, decode, encode, encode_frame, keep_valid};

/// Committer threads: each appends one batch at a time, and their appends share fsyncs.
pub const COMMITTERS: usize = 4;

/// How often a served store enforces its retention.
pub const RETENTION_EVERY: Duration = Duration::from_secs(600);

/// A batch waiting for its committer.
struct Job {
    /// Its connection.
    conn: ConnId,
    /// The loop that serves the connection.
    handle: Handle,
    /// Its number, for the ack.
    seq: u64,
    /// Its valid points.
    points: Vec<Point>,
    /// Its points refused as invalid.
    invalid: u64,
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
        todo!("stage 4: COMMITTERS threads, each with its channel, running commit")
    }
}

impl Service for StoreService {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        LengthCodec::new(MAX_PAYLOAD_BYTES)
    }

    fn call(&self, payload: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        todo!(
            "stage 4: decode (refuse anything but a batch), keep_valid, then hand the batch to its connection's committer and answer later"
        )
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
    todo!("stage 4: append each job and write its framed ack through the loop's handle")
}

/// Appends the valid points of the batch in `payload` (checked) and returns its ack; `None` when
/// the append failed (the sender will send the batch again, here or elsewhere).
fn stored(store: &Store, payload: &[u8]) -> Option<Message> {
    todo!(
        "stage 4: decode, drop and count the invalid points, append the rest; the ack counts the invalid and the refused as rejected"
    )
}

/// Refuses a frame: the refusal, then the connection closed.
fn refuse(cx: &mut Context<'_>, reason: String) -> Option<Vec<u8>> {
    todo!("stage 4: close the connection after a Refused")
}

/// What kind of message `message` is, for a refusal's reason.
fn kind(message: &Message) -> &'static str {
    todo!("stage 4: a batch, an ack, a refusal")
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
    todo!(
        "stage 4: bind with room for a whole frame, stop on the shutdown, run on a thread that flushes the store at the end; enforce retention every RETENTION_EVERY"
    )
}

impl StoreServer {
    /// The address relays connect to.
    pub fn local_addr(&self) -> SocketAddr {
        todo!("stage 4: the bound address")
    }

    /// Waits until the server has stopped and the store is flushed.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the event loop failed, [`Error::File`] when the flush did.
    pub fn join(self) -> crate::Result<()> {
        todo!("stage 4: join the threads")
    }
}

/// Starts a named thread.
fn spawn<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> crate::Result<JoinHandle<T>> {
    todo!("stage 4: a named thread")
}
