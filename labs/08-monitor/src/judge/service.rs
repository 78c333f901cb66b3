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
        todo!(
            "stage 6: true for no events; else append them to the log (on an error: log it, false), then deliver them"
        )
    }
}

impl Service for JudgeService {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        LengthCodec::new(MAX_PAYLOAD_BYTES)
    }

    fn call(&self, payload: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        todo!(
            "stage 6: decode (refuse anything but a batch), keep_valid, observe each point, report the events under the lock; not logged: close, no ack; else the ack"
        )
    }
}

/// Refuses a frame: the refusal, then the connection closed.
fn refuse(cx: &mut Context<'_>, reason: String) -> Option<Vec<u8>> {
    todo!("stage 6: close the connection after a Refused")
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
        todo!("stage 8: set the judge's rules, under the lock")
    }

    /// The judge's rules.
    pub fn rules(&self) -> Vec<Rule> {
        todo!("stage 8: a copy of the judge's rules, under the lock")
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
    todo!(
        "stage 6: open the log, restore from it, rebuild from the store (log and deliver what was missed), bind, stop on the shutdown, run the loop on a thread and tick on another every shard.tick; stage 8: keep a JudgeHandle on the same state"
    )
}

impl JudgeServer {
    /// The address relays connect to.
    pub fn local_addr(&self) -> SocketAddr {
        todo!("stage 6: the bound address")
    }

    /// Its rules, to change while it runs.
    pub fn handle(&self) -> JudgeHandle {
        todo!("stage 8: a clone of the handle")
    }

    /// Waits until the server has stopped.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the event loop failed.
    pub fn join(self) -> crate::Result<()> {
        todo!("stage 6: join the clock, then the event loop")
    }
}
