//! The alarm running: its decisions under a lock, fed by the judges (it is their
//! [`EventSink`]) and by a clock, journaled, its messages handed to the [`Dispatcher`].

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::dispatch::{DeliveryStats, DispatchSettings, Dispatcher};
use super::engine::{Alarm, AlarmConfig, AlarmStats, Outgoing};
use super::journal::{Entry, Journal, replay};
use super::notify::Notifier;
use crate::error::Error;
use crate::judge::{Event, EventSink};
use crate::point::now_millis;
use crate::shutdown::Shutdown;

/// How often the alarm's clock ticks: digests and summaries go out at most this late.
pub const TICK: Duration = Duration::from_millis(250);

/// The alarm and its senders.
#[derive(Debug)]
pub struct AlarmCore {
    /// The decisions, their journal and the next message's number.
    state: Mutex<Decisions>,
    /// The senders.
    dispatcher: Dispatcher,
}

/// The decisions and their journal, under one lock: the journal's order is the decisions' order.
#[derive(Debug)]
struct Decisions {
    /// The decisions.
    alarm: Alarm,
    /// The journal, if the alarm keeps one.
    journal: Option<Journal>,
    /// The number of the next message.
    next: u64,
}

impl Decisions {
    /// Journals `entry` (synced), then numbers `outgoing`.
    fn record(&mut self, entries: &[Entry], outgoing: Vec<Outgoing>) -> Vec<(u64, Outgoing)> {
        if let Some(journal) = &mut self.journal
            && let Err(err) = journal.append(entries, true)
        {
            tracing::error!(cause = %err, "alarm journal not written: a restart may send these again");
        }
        outgoing
            .into_iter()
            .map(|message| {
                self.next += 1;
                (self.next - 1, message)
            })
            .collect()
    }
}

impl AlarmCore {
    /// Runs `f` on the alarm, under its lock (to change its silences, or read its counters).
    pub fn with_alarm<T>(&self, f: impl FnOnce(&mut Alarm) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner).alarm)
    }

    /// Checks the clock at `now`: the digests and summaries due, journaled and sent.
    fn tick(&self, now: crate::point::Millis) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let outgoing = state.alarm.tick(now);
        if outgoing.is_empty() {
            return;
        }
        let numbered = state.record(&[Entry::Tick { at: now }], outgoing);
        drop(state);
        self.dispatcher.dispatch_numbered(numbered);
    }

    /// The alarm's counters.
    pub fn stats(&self) -> AlarmStats {
        self.with_alarm(|alarm| alarm.stats())
    }

    /// Each receiver's deliveries.
    pub fn deliveries(&self) -> Vec<DeliveryStats> {
        self.dispatcher.stats()
    }
}

impl EventSink for AlarmCore {
    /// Decides, journals (synced) and queues: when it returns, the events survive a crash.
    fn deliver(&self, events: &[Event]) {
        let now = now_millis();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let outgoing: Vec<Outgoing> =
            events.iter().flat_map(|event| state.alarm.receive(event.clone(), now)).collect();
        let entries: Vec<Entry> =
            events.iter().map(|event| Entry::Event { at: now, event: event.clone() }).collect();
        let numbered = state.record(&entries, outgoing);
        drop(state);
        self.dispatcher.dispatch_numbered(numbered);
    }
}

/// A running alarm, until the [`Shutdown`] it was started with.
#[derive(Debug)]
pub struct AlarmServer {
    /// The alarm and its senders, shared with the judges that feed it.
    core: Arc<AlarmCore>,
    /// The clock's thread.
    clock: JoinHandle<()>,
}

/// Starts the alarm of `config`, receiver `i` sending through `notifiers[i]`, until `shutdown`.
/// With a `journal`, it first replays it: the state comes back, and the messages decided but not
/// delivered before a stop or a crash are sent.
///
/// # Errors
///
/// [`Error::BadOption`] when there are not as many notifiers as receivers; [`Error::File`] when
/// the journal cannot be read or opened; [`Error::Sys`] when a thread cannot be started.
pub fn start_alarm(
    config: AlarmConfig,
    notifiers: Vec<Box<dyn Notifier>>,
    settings: DispatchSettings,
    journal: Option<&Path>,
    shutdown: &Shutdown,
) -> crate::Result<AlarmServer> {
    if notifiers.len() != config.receivers.len() {
        return Err(Error::BadOption(format!(
            "{} receivers and {} senders: one sender a receiver",
            config.receivers.len(),
            notifiers.len()
        )));
    }
    let mut alarm = Alarm::new(config);
    let (journal, pending, next) = match journal {
        Some(path) => {
            let (journal, entries) = Journal::open(path)?;
            let (pending, next) = replay(&mut alarm, entries);
            if !pending.is_empty() {
                tracing::info!(
                    messages = pending.len(),
                    "sending what the last run decided and did not deliver"
                );
            }
            (Some(journal), pending, next)
        }
        None => (None, Vec::new(), 0),
    };
    let dispatcher = Dispatcher::start(notifiers, settings, shutdown)?;
    let core = Arc::new(AlarmCore { state: Mutex::new(Decisions { alarm, journal, next }), dispatcher });
    let weak = Arc::downgrade(&core);
    core.dispatcher.on_done(Box::new(move |seq| {
        let Some(core) = weak.upgrade() else { return };
        let mut state = core.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(journal) = &mut state.journal
            && let Err(err) = journal.append(&[Entry::Done { seq }], false)
        {
            tracing::warn!(cause = %err, seq, "delivery not journaled: a restart sends it again");
        }
    }));
    core.dispatcher.dispatch_numbered(pending);
    let ticking = Arc::clone(&core);
    let stop = shutdown.clone();
    let clock = thread::Builder::new()
        .name("alarm-clock".to_owned())
        .spawn(move || {
            while !stop.wait_timeout(TICK) {
                ticking.tick(now_millis());
            }
        })
        .map_err(Error::sys("start the alarm's clock"))?;
    Ok(AlarmServer { core, clock })
}

impl AlarmServer {
    /// The alarm, to hand to judges as their [`EventSink`].
    pub fn core(&self) -> Arc<AlarmCore> {
        Arc::clone(&self.core)
    }

    /// Waits for the clock and the senders, which end at the stop.
    pub fn join(self) {
        let _ = self.clock.join();
        self.core.dispatcher.join();
    }
}
