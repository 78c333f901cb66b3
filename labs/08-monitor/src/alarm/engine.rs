//! The alarm's decisions: which receiver is told what, and when. A pure state machine over the
//! judge's events and the clock, so that every rule (dedup, silences, maintenance, priorities, the
//! digest of low-priority alerts, the limit and its summary, recoveries) is tested without a
//! network.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use super::limit::SlidingLimit;
use super::notification::Notification;
use super::silence::{Maintenance, Silence};
use crate::judge::{Alert, Event, RuleId, Status};
use crate::point::{Millis, SeriesKey};

/// Who is told, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Its name, unique among the receivers.
    pub name: String,
    /// It is told of alerts of this priority and more urgent ones (a lower number).
    pub max_priority: u8,
    /// At most this many messages in any window of [`AlarmConfig::window`].
    pub limit: usize,
    /// Alerts of this priority and less urgent ones are gathered into one digest a
    /// [`AlarmConfig::digest_every`] (6: never).
    pub digest_from: u8,
}

impl ReceiverConfig {
    /// A receiver named `name` told of every priority, at most 10 messages a window, alerts of
    /// priority 3 to 5 in digests.
    pub fn new(name: impl Into<String>) -> ReceiverConfig {
        todo!("stage 7: max_priority 5, limit 10, digest_from 3")
    }
}

/// How the alarm decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmConfig {
    /// The receivers.
    pub receivers: Vec<ReceiverConfig>,
    /// The window of the limit: at most a receiver's `limit` messages in any (t − window, t].
    pub window: Duration,
    /// How often a receiver's low-priority alerts go out, as one digest.
    pub digest_every: Duration,
    /// How long an event is remembered, so that the same event delivered again is dropped.
    pub dedup_for: Duration,
}

impl AlarmConfig {
    /// An alarm for `receivers`: a window of 60 s, a digest a minute, events remembered for an hour.
    pub fn new(receivers: Vec<ReceiverConfig>) -> AlarmConfig {
        todo!("stage 7: a window of 60 s, a digest every 60 s, dedup_for an hour")
    }
}

/// One message for one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The receiver, by its index in [`AlarmConfig::receivers`].
    pub receiver: usize,
    /// The message.
    pub notification: Notification,
}

/// What the alarm has done with the events it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlarmStats {
    /// Events taken.
    pub events: u64,
    /// Events dropped as one already taken.
    pub duplicates: u64,
    /// Alerts no one was to be told of (`notify: false`, or the recovery of a problem no one was
    /// told of).
    pub quiet: u64,
    /// Alerts a silence or a maintenance window kept.
    pub silenced: u64,
    /// Messages the limit held back.
    pub suppressed: u64,
    /// Messages sent (each receiver's counted).
    pub sent: u64,
}

/// The alarm: feed it events ([`Alarm::receive`]) and the clock ([`Alarm::tick`]); it answers with
/// the messages to send.
///
/// # Examples
///
/// ```
/// use monitor::alarm::{Alarm, AlarmConfig, ReceiverConfig};
/// let mut alarm = Alarm::new(AlarmConfig::new(vec![ReceiverConfig::new("ops")]));
/// assert!(alarm.tick(0).is_empty());
/// ```
#[derive(Debug)]
pub struct Alarm {
    /// Its settings.
    config: AlarmConfig,
    /// The window, in milliseconds.
    window: Millis,
    /// Each receiver's state, in the configuration's order.
    receivers: Vec<ReceiverState>,
    /// The silences.
    silences: Vec<Silence>,
    /// The maintenance windows.
    maintenance: Vec<Maintenance>,
    /// For each problem someone was told of, who (by receiver index).
    told: HashMap<(RuleId, SeriesKey), Vec<usize>>,
    /// The events taken lately, to drop one that comes again.
    seen: HashSet<String>,
    /// The same, oldest first, with when each was taken.
    seen_order: VecDeque<(Millis, String)>,
    /// The counters.
    stats: AlarmStats,
}

/// A receiver's state.
#[derive(Debug)]
struct ReceiverState {
    /// Its sends in the window.
    limit: SlidingLimit,
    /// Low-priority alerts waiting for the digest.
    digest: Vec<Alert>,
    /// When the digest goes out.
    digest_due: Option<Millis>,
    /// Messages held back since the last summary.
    suppressed: usize,
    /// When the first of them was, and when their summary goes out.
    summary: Option<(Millis, Millis)>,
}

impl Alarm {
    /// An alarm with no silence and no maintenance window.
    pub fn new(config: AlarmConfig) -> Alarm {
        todo!(
            "stage 7: the window in milliseconds, a ReceiverState a receiver with its SlidingLimit; nothing silenced, told or seen yet"
        )
    }

    /// The silences in force or to come.
    pub fn silences(&self) -> &[Silence] {
        todo!("stage 7: the silences")
    }

    /// Replaces the silences.
    pub fn set_silences(&mut self, silences: Vec<Silence>) {
        todo!("stage 7: replace them")
    }

    /// Replaces the maintenance windows.
    pub fn set_maintenance(&mut self, maintenance: Vec<Maintenance>) {
        todo!("stage 7: replace them")
    }

    /// The counters.
    pub fn stats(&self) -> AlarmStats {
        todo!("stage 7: the counters")
    }

    /// Takes the judge's `event` at `now`: the messages to send now.
    ///
    /// An event taken before is dropped. A recovery goes, at once and past any limit, silence or
    /// digest, to every receiver told of its problem, and to no one else. A problem, a reminder or
    /// a NODATA that notifies goes to each receiver whose priorities include it unless a silence
    /// or a maintenance window covers it: low-priority ones into the receiver's digest, the others
    /// through its limit (held back and counted for the summary when over it). A pipeline-down goes
    /// to every receiver, past the limit.
    pub fn receive(&mut self, event: Event, now: Millis) -> Vec<Outgoing> {
        todo!(
            "stage 7: count it; drop a duplicate (first_time); a pipeline-down to every receiver; an OK to recover; not notify: quiet; silenced or under maintenance: dropped; else for each receiver whose max_priority allows it: its digest from digest_from on, else through its limit (sent, and told remembers it) or hold_back"
        )
    }

    /// Advances the clock to `now`: each digest that is due (through the limit, as one message)
    /// and each summary of what the limit held back that is due (one a window, past the limit).
    pub fn tick(&mut self, now: Millis) -> Vec<Outgoing> {
        todo!(
            "stage 7: for each receiver: a digest that is due goes through the limit as one message (its alerts told) or is held back; a summary that is due goes past the limit, and the count starts again"
        )
    }

    /// The recovery `alert` of the problem `key`: to whoever was told of it, and out of any digest
    /// still waiting.
    fn recover(&mut self, key: &(RuleId, SeriesKey), alert: Alert) -> Vec<Outgoing> {
        todo!(
            "stage 7: take the problem out of every digest (an empty one is no longer due), then the alert to each receiver told of it; no one told: quiet"
        )
    }

    /// Whether `event` is taken for the first time (within [`AlarmConfig::dedup_for`]); it is
    /// remembered.
    fn first_time(&mut self, event: &Event, now: Millis) -> bool {
        todo!(
            "stage 7: forget what was seen before now - dedup_for; the event's JSON is its key; false when seen, else remember it with now"
        )
    }
}

impl ReceiverState {
    /// Counts `count` messages held back at `now`; the first since the last summary sets the next
    /// summary a window later.
    fn hold_back(&mut self, count: usize, now: Millis, window: Millis) {
        todo!("stage 7: add count; the first since the last summary sets (now, now + window)")
    }
}

/// `duration` in whole milliseconds.
fn millis(duration: Duration) -> Millis {
    todo!("stage 7: whole milliseconds, Millis::MAX when too long")
}
