//! What a receiver is sent: an alert, a digest of low-priority alerts, a summary of what the limit
//! held back, or the pipeline's silence; as JSON (a webhook's body, a log's line) and as text (a
//! mail's subject and body).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::judge::{Alert, Status};
use crate::point::Millis;

/// One message to one receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// An alert: a problem, a reminder, NODATA, or the recovery of one the receiver was told of.
    Alert(Alert),
    /// Low-priority alerts of the last minute, in one message.
    Digest {
        /// The alerts, in the order they came.
        alerts: Vec<Alert>,
    },
    /// Alerts the limit held back since `since`.
    Suppressed {
        /// How many.
        count: usize,
        /// When the first was held back.
        since: Millis,
    },
    /// More than a third of the watched series fell silent at once.
    PipelineDown {
        /// The series that fell silent.
        silent: usize,
        /// The series watched.
        watched: usize,
    },
}

impl Notification {
    /// A one-line subject: `[PROBLEM P1] web1 cpu.busy: cpu.busy all(#3) > 90 (97)`.
    pub fn subject(&self) -> String {
        todo!(
            "stage 7: [STATUS Pn] series: expr (value) for an alert; [DIGEST], [SUPPRESSED] and [PIPELINE DOWN] with their counts"
        )
    }

    /// The text of a mail: the subject, then one line an alert with its note's place.
    pub fn body(&self) -> String {
        todo!(
            "stage 7: the subject, a blank line, then for the alert or each of a digest's: status, priority and series; the rule and its expression; the value, the time and the count"
        )
    }

    /// Whether it is a recovery, which no limit holds back.
    pub fn is_recovery(&self) -> bool {
        todo!("stage 7: an alert whose status is OK")
    }
}
