//! One rule on one series over time: its state (OK, PROBLEM, NODATA) and when to notify, which is
//! where "alert after N breaches, at most M times, no oftener than every T" lives.

use super::event::Status;
use super::function::Verdict;
use super::rule::Rule;
use crate::point::Millis;

/// A change the state machine decided on: what an [`super::Alert`] reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// The new state (or the same one, for a reminder).
    pub status: Status,
    /// The value compared.
    pub value: f64,
    /// Which notification of the problem (1 for the first), 0 for none.
    pub count: u32,
    /// Whether anyone is to be told.
    pub notify: bool,
}

/// The state of one rule on one series.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertState {
    /// Where it stands.
    status: Status,
    /// The notifications sent for the current problem (0 when no one was told of it).
    sent: u32,
    /// When the last of them was sent.
    last_notified: Millis,
    /// Samples judged since then on which the problem still held.
    since_notified: usize,
    /// Samples at or before this time change nothing: the state already accounts for them (it was
    /// restored from the events of an earlier run).
    settled_until: Millis,
}

impl Default for AlertState {
    fn default() -> AlertState {
        todo!("stage 6: OK, nothing sent, the times at Millis::MIN")
    }
}

impl AlertState {
    /// The state an earlier run left, from its last event: `status`, the `count`th notification, at
    /// `at`.
    pub fn restored(status: Status, count: u32, at: Millis) -> AlertState {
        todo!("stage 6: count sent, the last at `at`, settled until `at`")
    }

    /// Where it stands.
    pub fn status(&self) -> Status {
        todo!("stage 6: the status")
    }

    /// Judges the sample at `at` whose verdict is `verdict` under `rule`; the change, if there is
    /// one to report.
    ///
    /// A problem starts when the condition first holds and notifies unless the rule notifies no one
    /// (`max_alerts = 0`). While it goes on, a reminder goes out only when fewer than `max_alerts`
    /// were sent, `min_interval` has passed since the last and the function's N new samples have
    /// held since. The first sample on which the condition does not hold ends it with one OK,
    /// which notifies when the problem did.
    pub fn judge(&mut self, rule: &Rule, verdict: Verdict, at: Millis) -> Option<Change> {
        todo!(
            "stage 6: nothing at or before settled_until; then match (holds, status): a new PROBLEM, maybe a reminder, one OK, or nothing"
        )
    }

    /// The series went silent at `at`: NODATA, told to someone when `notify` (and the rule notifies
    /// at all). `None` when it already was.
    pub fn silence(&mut self, rule: &Rule, notify: bool, value: f64, at: Millis) -> Option<Change> {
        todo!("stage 6: NODATA once, counted as sent when notify and max_alerts > 0")
    }
}
