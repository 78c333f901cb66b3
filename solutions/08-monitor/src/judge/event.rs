//! What the judge tells the alarm: an alert changed state ([`Alert`]), or too many series went
//! silent at once for their silence to be theirs ([`Event::PipelineDown`]).

use serde::{Deserialize, Serialize};

use super::rule::RuleId;
use crate::point::{Millis, SeriesKey};

/// The state of one rule on one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The condition does not hold (or has not yet been judged).
    Ok,
    /// The condition holds.
    Problem,
    /// The series has sent nothing for longer than the judge waits.
    #[serde(rename = "NODATA")]
    NoData,
}

impl Status {
    /// `OK`, `PROBLEM` or `NODATA`: Open-Falcon's words, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Problem => "PROBLEM",
            Status::NoData => "NODATA",
        }
    }
}

/// A rule's alert on one series: a change of state, or a reminder that a problem goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule.
    pub rule: RuleId,
    /// The rule's priority (0 the most urgent).
    pub priority: u8,
    /// The rule's expression, as written.
    pub expr: String,
    /// The series.
    pub series: SeriesKey,
    /// The state it is now in.
    pub status: Status,
    /// The value the rule compared (for `NODATA`, the last value the series sent); `null` in JSON
    /// when it is not a number.
    #[serde(with = "nan_as_null")]
    pub value: f64,
    /// When: the aligned time of the sample that decided it, or of the judge's clock for `NODATA`.
    pub at: Millis,
    /// Which notification of this problem it is (1 for the first); 0 when it notifies no one.
    pub count: u32,
    /// Whether anyone is to be told: false when the rule notifies no one (`max_alerts = 0`), for
    /// the recovery of a problem no one was told of, and for series silenced by a pipeline-down.
    pub notify: bool,
}

/// What the judge tells the alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An alert.
    Alert(Alert),
    /// More than a third of the watched series went silent at once: one alert for the pipeline
    /// instead of one for each series.
    PipelineDown {
        /// The series that went silent.
        silent: usize,
        /// The series being watched.
        watched: usize,
        /// The judge's clock.
        at: Millis,
    },
}

impl Event {
    /// The alert, if this is one.
    pub fn alert(&self) -> Option<&Alert> {
        match self {
            Event::Alert(alert) => Some(alert),
            Event::PipelineDown { .. } => None,
        }
    }

    /// Whether anyone is to be told.
    pub fn notifies(&self) -> bool {
        match self {
            Event::Alert(alert) => alert.notify,
            Event::PipelineDown { .. } => true,
        }
    }
}

/// Serde for an `f64` that may be NaN: JSON has no NaN, so it is written as `null` and read back.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() { serializer.serialize_f64(*value) } else { serializer.serialize_none() }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
    }
}
