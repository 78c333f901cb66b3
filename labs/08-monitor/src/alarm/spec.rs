//! The alarm as a user configures it: a TOML file of receivers for `monitor alarm --config`, each
//! with its limits and exactly one way to be reached.
//!
//! ```toml
//! window = 60          # seconds: at most `limit` messages a receiver in any window
//! digest_every = 60    # seconds between two digests of low-priority alerts
//!
//! [[receiver]]
//! name = "oncall"
//! max_priority = 1     # told of P0 and P1 only
//! limit = 5
//! digest_from = 6      # no digest: every alert at once
//! webhook = "http://127.0.0.1:8080/hooks/alerts"
//!
//! [[receiver]]
//! name = "mail"
//! smtp = { server = "127.0.0.1:25", from = "monitor@example.com", to = ["ops@example.com"] }
//!
//! [[receiver]]
//! name = "archive"
//! log = "/var/log/monitor/alerts.log"
//! ```
//!
//! `alertmanager = "http://127.0.0.1:9093"` hands a receiver's alerts to an Alertmanager.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::engine::{AlarmConfig, ReceiverConfig};
use super::notify::{AlertmanagerNotifier, LogNotifier, Notifier, SmtpNotifier, WebhookNotifier};

/// How long one try of a network sender may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// An alarm's configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSpec {
    /// The limit's window, in seconds (60).
    #[serde(default = "sixty")]
    pub window: u64,
    /// Seconds between two digests (60).
    #[serde(default = "sixty")]
    pub digest_every: u64,
    /// The receivers.
    #[serde(default)]
    pub receiver: Vec<ReceiverSpec>,
}

/// One receiver: [`ReceiverConfig::new`]'s defaults for what is left out, and one sender.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSpec {
    /// Its name.
    pub name: String,
    /// The least urgent priority it is told of.
    pub max_priority: Option<u8>,
    /// At most this many messages a window.
    pub limit: Option<usize>,
    /// Alerts of this priority and less urgent ones go in a digest.
    pub digest_from: Option<u8>,
    /// A file of JSON lines.
    pub log: Option<PathBuf>,
    /// A URL to POST JSON to.
    pub webhook: Option<String>,
    /// An SMTP server and addresses.
    pub smtp: Option<SmtpSpec>,
    /// An Alertmanager's URL.
    pub alertmanager: Option<String>,
}

/// A mail receiver's server and addresses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSpec {
    /// The server, as HOST:PORT.
    pub server: String,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

fn sixty() -> u64 {
    60
}

/// Reads an alarm's configuration: its decisions, and the sender of each receiver in order.
///
/// # Errors
///
/// A message naming the line for TOML that does not read, and the receiver and field for one that
/// is not valid: no sender or more than one, a URL that is not `http://`, an address that is not
/// one, a name used twice.
pub fn parse_alarm(text: &str) -> Result<(AlarmConfig, Vec<Box<dyn Notifier>>), String> {
    todo!(
        "stage 7: read the TOML as an AlarmSpec (a window of 0 is refused), then each receiver: a name used once, ReceiverConfig::new with the fields given, exactly one sender; errors name receiver \"name\": field:"
    )
}
