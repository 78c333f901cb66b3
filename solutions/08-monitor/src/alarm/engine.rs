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
        ReceiverConfig { name: name.into(), max_priority: 5, limit: 10, digest_from: 3 }
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
        AlarmConfig {
            receivers,
            window: Duration::from_secs(60),
            digest_every: Duration::from_secs(60),
            dedup_for: Duration::from_secs(3600),
        }
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
        let window = millis(config.window);
        let receivers = config
            .receivers
            .iter()
            .map(|receiver| ReceiverState {
                limit: SlidingLimit::new(receiver.limit, window),
                digest: Vec::new(),
                digest_due: None,
                suppressed: 0,
                summary: None,
            })
            .collect();
        Alarm {
            config,
            window,
            receivers,
            silences: Vec::new(),
            maintenance: Vec::new(),
            told: HashMap::new(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            stats: AlarmStats::default(),
        }
    }

    /// The silences in force or to come.
    pub fn silences(&self) -> &[Silence] {
        &self.silences
    }

    /// Replaces the silences.
    pub fn set_silences(&mut self, silences: Vec<Silence>) {
        self.silences = silences;
    }

    /// Replaces the maintenance windows.
    pub fn set_maintenance(&mut self, maintenance: Vec<Maintenance>) {
        self.maintenance = maintenance;
    }

    /// The counters.
    pub fn stats(&self) -> AlarmStats {
        self.stats
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
        self.stats.events += 1;
        if !self.first_time(&event, now) {
            self.stats.duplicates += 1;
            return Vec::new();
        }
        let alert = match event {
            Event::Alert(alert) => alert,
            Event::PipelineDown { silent, watched, .. } => {
                let out: Vec<Outgoing> = (0..self.receivers.len())
                    .map(|receiver| Outgoing {
                        receiver,
                        notification: Notification::PipelineDown { silent, watched },
                    })
                    .collect();
                self.stats.sent += out.len() as u64;
                return out;
            }
        };
        let key = (alert.rule, alert.series.clone());
        if alert.status == Status::Ok {
            return self.recover(&key, alert);
        }
        if !alert.notify {
            self.stats.quiet += 1;
            return Vec::new();
        }
        let held = self.silences.iter().any(|silence| silence.is_active(now) && silence.covers(&alert))
            || self.maintenance.iter().any(|window| window.covers(&alert.series.host, now));
        if held {
            self.stats.silenced += 1;
            return Vec::new();
        }
        let mut out = Vec::new();
        for (index, receiver) in self.config.receivers.iter().enumerate() {
            if alert.priority > receiver.max_priority {
                continue;
            }
            let state = &mut self.receivers[index];
            if alert.priority >= receiver.digest_from {
                state.digest.push(alert.clone());
                state.digest_due.get_or_insert(now + millis(self.config.digest_every));
                continue;
            }
            if state.limit.try_send(now) {
                let told = self.told.entry(key.clone()).or_default();
                if !told.contains(&index) {
                    told.push(index);
                }
                out.push(Outgoing { receiver: index, notification: Notification::Alert(alert.clone()) });
            } else {
                state.hold_back(1, now, self.window);
                self.stats.suppressed += 1;
            }
        }
        self.stats.sent += out.len() as u64;
        out
    }

    /// Advances the clock to `now`: each digest that is due (through the limit, as one message)
    /// and each summary of what the limit held back that is due (one a window, past the limit).
    pub fn tick(&mut self, now: Millis) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for (index, state) in self.receivers.iter_mut().enumerate() {
            if state.digest_due.is_some_and(|due| due <= now) {
                state.digest_due = None;
                let alerts = std::mem::take(&mut state.digest);
                if state.limit.try_send(now) {
                    for alert in &alerts {
                        let told = self.told.entry((alert.rule, alert.series.clone())).or_default();
                        if !told.contains(&index) {
                            told.push(index);
                        }
                    }
                    out.push(Outgoing { receiver: index, notification: Notification::Digest { alerts } });
                } else {
                    state.hold_back(alerts.len(), now, self.window);
                    self.stats.suppressed += alerts.len() as u64;
                }
            }
            if let Some((since, due)) = state.summary
                && due <= now
            {
                out.push(Outgoing {
                    receiver: index,
                    notification: Notification::Suppressed { count: state.suppressed, since },
                });
                state.suppressed = 0;
                state.summary = None;
            }
        }
        self.stats.sent += out.len() as u64;
        out
    }

    /// The recovery `alert` of the problem `key`: to whoever was told of it, and out of any digest
    /// still waiting.
    fn recover(&mut self, key: &(RuleId, SeriesKey), alert: Alert) -> Vec<Outgoing> {
        for state in &mut self.receivers {
            state.digest.retain(|waiting| (waiting.rule, &waiting.series) != (key.0, &key.1));
            if state.digest.is_empty() {
                state.digest_due = None;
            }
        }
        let Some(told) = self.told.remove(key) else {
            self.stats.quiet += 1;
            return Vec::new();
        };
        let out: Vec<Outgoing> = told
            .into_iter()
            .map(|receiver| Outgoing { receiver, notification: Notification::Alert(alert.clone()) })
            .collect();
        self.stats.sent += out.len() as u64;
        out
    }

    /// Whether `event` is taken for the first time (within [`AlarmConfig::dedup_for`]); it is
    /// remembered.
    fn first_time(&mut self, event: &Event, now: Millis) -> bool {
        let forget_before = now.saturating_sub(millis(self.config.dedup_for));
        while self.seen_order.front().is_some_and(|(at, _)| *at < forget_before) {
            if let Some((_, key)) = self.seen_order.pop_front() {
                self.seen.remove(&key);
            }
        }
        // An event's JSON names everything that makes it that event.
        let key = serde_json::to_string(event).unwrap_or_default();
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.seen_order.push_back((now, key));
        true
    }
}

impl ReceiverState {
    /// Counts `count` messages held back at `now`; the first since the last summary sets the next
    /// summary a window later.
    fn hold_back(&mut self, count: usize, now: Millis, window: Millis) {
        self.suppressed += count;
        self.summary.get_or_insert((now, now + window));
    }
}

/// `duration` in whole milliseconds.
fn millis(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}
