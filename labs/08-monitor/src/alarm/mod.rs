//! The alarm (stage 7): Open-Falcon's *alarm*. It takes the judges' events and decides who is
//! told what, and when: duplicates dropped, silences and maintenance windows kept, low-priority
//! alerts gathered into a digest a minute, at most N messages a receiver in any 60 s (and one
//! summary of what that held back), recoveries of what someone was told always; then it hands the
//! messages to the receivers' senders.
//!
//! ```text
//! judges ─Event─▶ Alarm ─┬─ dedup, silences, maintenance
//!                        ├─ priorities: now, or the digest
//!                        ├─ SlidingLimit per receiver (t − 60 s, t]
//!                        └─▶ Outgoing ─▶ a queue and a thread per receiver ─▶ webhook, log, …
//! ```
//!
//! # Layout
//!
//! - [`limit`]: the exact sliding-log limit ([`SlidingLimit`]).
//! - [`silence`]: silences and maintenance windows ([`Silence`], [`Maintenance`]).
//! - [`notification`]: what a receiver is sent ([`Notification`]).
//! - [`engine`]: the decisions ([`Alarm`], [`AlarmConfig`], [`ReceiverConfig`]).
//! - [`notify`]: the senders ([`Notifier`]: a log, a webhook, SMTP, Alertmanager).
//! - [`dispatch`]: a queue and a thread a receiver, with retries ([`Dispatcher`]).
//! - [`journal`]: the alarm's events, ticks and deliveries, replayed at a start ([`Journal`]).
//! - [`service`]: the alarm running, fed by the judges and a clock ([`start_alarm`]).
//! - [`intake`]: events across processes (`POST /api/v1/events`, [`RemoteAlarm`]).
//! - [`spec`]: the configuration file of `monitor alarm` ([`parse_alarm`]).

pub mod dispatch;
pub mod engine;
pub mod intake;
pub mod journal;
pub mod limit;
pub mod notification;
pub mod notify;
pub mod service;
pub mod silence;
pub mod spec;

pub use dispatch::{DeliveryStats, DispatchSettings, Dispatcher, DoneHook, UNNUMBERED};
pub use engine::{Alarm, AlarmConfig, AlarmStats, Outgoing, ReceiverConfig};
pub use intake::{RemoteAlarm, intake_router};
pub use journal::{Entry, Journal};
pub use limit::SlidingLimit;
pub use notification::Notification;
pub use notify::{AlertmanagerNotifier, LogNotifier, Notifier, SmtpNotifier, WebhookNotifier};
pub use service::{AlarmCore, AlarmServer, start_alarm};
pub use silence::{Maintenance, Silence, glob_matches};
pub use spec::{AlarmSpec, ReceiverSpec, SmtpSpec, parse_alarm};
