//! A judge shard on nbnet: it takes the relay's batches as a store shard does, judges their points,
//! logs the events they cause and hands them on before it acks, and checks for silence on its
//! clock.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nbnet::codec::HEADER_LEN;
use nbnet::{Context, LengthCodec, Options, Server, Service};
use tracing::{error, info, warn};

use super::engine::{Judge, JudgeConfig};
use super::event::Event;
use super::log::EventLog;
use super::rule::Rule;
use crate::error::Error;
use crate::point::now_millis;
use crate::query::Source;
use crate::shutdown::Shutdown;
use crate::wire::{MAX_PAYLOAD_BYTES, Message, Rejections, decode, encode, keep_valid};

/// Where a judge's events go: the alarm, in the end.
pub trait EventSink: Send + Sync + 'static {
    /// Takes `events`, in the order they happened. It must not block for long: the judge holds
    /// a batch's ack until it returns.
    fn deliver(&self, events: &[Event]);
}

impl EventSink for std::sync::mpsc::Sender<Event> {
    fn deliver(&self, events: &[Event]) {
        for event in events {
            // A receiver that is gone wants no more events: nothing to do about it here.
            let _ = self.send(event.clone());
        }
    }
}

impl EventSink for Mutex<Vec<Event>> {
    fn deliver(&self, events: &[Event]) {
        self.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(events);
    }
}

/// What a judge shard needs to run.
#[derive(Clone)]
pub struct JudgeShard {
    /// Where the relay connects (port 0: any free port).
    pub listen: SocketAddr,
    /// The judge's settings.
    pub config: JudgeConfig,
    /// The rules.
    pub rules: Vec<Rule>,
    /// The event log, kept across restarts.
    pub log: PathBuf,
    /// Where the series' recent values are read back from at a start (the store); `None` starts
    /// with empty windows.
    pub store: Option<Arc<dyn Source>>,
    /// How often to check for silence.
    pub tick: Duration,
}

impl std::fmt::Debug for JudgeShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgeShard")
            .field("listen", &self.listen)
            .field("config", &self.config)
            .field("rules", &self.rules.len())
            .field("log", &self.log)
            .field("store", &self.store.is_some())
            .field("tick", &self.tick)
            .finish()
    }
}

/// The judge on nbnet: its [`Judge`], its log and its sink, shared by the event loop's workers.
pub struct JudgeService {
    /// The judge and its log, under one lock: events are logged in the order they are judged.
    state: Arc<Mutex<Judged>>,
    /// Where events go.
    sink: Arc<dyn EventSink>,
}

/// A judge and the log of what it reported.
#[derive(Debug)]
struct Judged {
    /// The judge.
    judge: Judge,
    /// Its log.
    log: EventLog,
}

impl Judged {
    /// Logs `events` and hands them to `sink`; false when they could not be logged.
    fn report(&mut self, events: &[Event], sink: &dyn EventSink) -> bool {
        if events.is_empty() {
            return true;
        }
        if let Err(err) = self.log.append(events) {
            error!(cause = %err, "events not logged");
            return false;
        }
        sink.deliver(events);
        true
    }
}

impl Service for JudgeService {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        LengthCodec::new(MAX_PAYLOAD_BYTES)
    }

    fn call(&self, payload: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        let (seq, mut points) = match decode(&payload) {
            Ok(Message::Batch { seq, points }) => (seq, points),
            Ok(_) => return refuse(cx, "expected a batch".to_owned()),
            Err(err) => return refuse(cx, err.to_string()),
        };
        let rejected = keep_valid(&mut points, now_millis(), &mut Rejections::default());
        let accepted = points.len();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let events: Vec<Event> = points.into_iter().flat_map(|point| state.judge.observe(point)).collect();
        if !state.report(&events, &*self.sink) {
            // Not acked: the relay sends the batch again, and what it causes is judged again.
            cx.close();
            return None;
        }
        drop(state);
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let mut out = Vec::new();
        encode(&Message::Ack { seq, accepted: count(accepted), rejected: count(rejected) }, &mut out);
        Some(out)
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

/// A running judge shard's rules, to change while it runs (the dashboard's rule form).
#[derive(Debug, Clone)]
pub struct JudgeHandle {
    /// The judge and its log.
    state: Arc<Mutex<Judged>>,
}

impl JudgeHandle {
    /// Replaces the judge's rules ([`Judge::set_rules`]).
    pub fn set_rules(&self, rules: Vec<Rule>) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).judge.set_rules(rules);
    }

    /// The judge's rules.
    pub fn rules(&self) -> Vec<Rule> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).judge.rules().to_vec()
    }
}

/// A judge shard being served: its event loop and its clock, each on a thread, until the
/// [`Shutdown`] it was started with.
#[derive(Debug)]
pub struct JudgeServer {
    /// The address it listens on.
    local_addr: SocketAddr,
    /// Its rules.
    handle: JudgeHandle,
    /// The event loop's thread.
    server: JoinHandle<Result<(), nbnet::Error>>,
    /// The clock's thread.
    clock: JoinHandle<()>,
}

/// Starts the judge shard `shard`, its events going to `sink`: opens its log and restores the
/// alerts' states from it, rebuilds the series' recent values from the store (reporting what an
/// earlier run missed), then serves on `shard.listen` and checks for silence every `shard.tick`.
///
/// # Errors
///
/// [`Error::File`] when the log cannot be opened or written, [`Error::Sys`] when the address
/// cannot be bound or a thread cannot be started.
pub fn serve_judge(
    shard: JudgeShard,
    sink: Arc<dyn EventSink>,
    shutdown: &Shutdown,
) -> crate::Result<JudgeServer> {
    let (log, earlier) = EventLog::open(&shard.log)?;
    let mut judge = Judge::new(shard.config.clone(), shard.rules.clone());
    judge.restore(earlier);
    let mut judged = Judged { judge, log };
    if let Some(store) = &shard.store {
        let missed = judged.judge.rebuild(store.as_ref(), now_millis());
        if !missed.is_empty() {
            info!(events = missed.len(), "events an earlier run missed");
        }
        if !missed.is_empty() && judged.log.append(&missed).is_ok() {
            sink.deliver(&missed);
        }
    }
    let state = Arc::new(Mutex::new(judged));
    let rules = JudgeHandle { state: Arc::clone(&state) };
    let service = JudgeService { state: Arc::clone(&state), sink: Arc::clone(&sink) };
    let options = Options { max_input: MAX_PAYLOAD_BYTES + HEADER_LEN, ..Options::default() };
    let server = Server::bind(shard.listen, service, options).map_err(|err| match err {
        nbnet::Error::Bind { addr, source } => Error::Sys { call: format!("bind {addr}"), source },
        other => Error::Sys { call: "start the event loop".to_owned(), source: io::Error::other(other) },
    })?;
    let local_addr = server.local_addr();
    let handle = server.handle();
    shutdown.on_stop(move || handle.shutdown());
    let server = thread::Builder::new()
        .name("judge-server".to_owned())
        .spawn(move || server.run())
        .map_err(Error::sys("start thread judge-server"))?;
    let stop = shutdown.clone();
    let tick = shard.tick.max(Duration::from_millis(1));
    let clock = thread::Builder::new()
        .name("judge-clock".to_owned())
        .spawn(move || {
            while !stop.wait_timeout(tick) {
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                let events = state.judge.tick(now_millis());
                state.report(&events, &*sink);
            }
        })
        .map_err(Error::sys("start thread judge-clock"))?;
    info!(addr = %local_addr, rules = shard.rules.len(), "judge listening");
    Ok(JudgeServer { local_addr, handle: rules, server, clock })
}

impl JudgeServer {
    /// The address relays connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Its rules, to change while it runs.
    pub fn handle(&self) -> JudgeHandle {
        self.handle.clone()
    }

    /// Waits until the server has stopped.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the event loop failed.
    pub fn join(self) -> crate::Result<()> {
        let _ = self.clock.join();
        match self.server.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                Err(Error::Sys { call: "the judge's event loop".to_owned(), source: io::Error::other(err) })
            }
            Err(_) => Err(Error::Sys {
                call: "the judge's event loop".to_owned(),
                source: io::Error::other("its thread panicked"),
            }),
        }
    }
}
