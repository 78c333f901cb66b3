//! The senders: how a message reaches a receiver. Each is a [`Notifier`]; the dispatcher
//! ([`super::dispatch`]) runs each on a thread of its own, with retries.
//!
//! - [`LogNotifier`]: a JSON line a message in a file.
//! - [`WebhookNotifier`]: an HTTP POST of the message's JSON.
//! - [`SmtpNotifier`]: a mail, through an SMTP server (lettre).
//! - [`AlertmanagerNotifier`]: Alertmanager's v2 API, for a user who already routes through it.

mod alertmanager;
mod log;
mod smtp;
mod webhook;

pub use alertmanager::{AlertmanagerNotifier, alertmanager_alerts, rfc3339};
pub use log::LogNotifier;
pub use smtp::SmtpNotifier;
pub use webhook::WebhookNotifier;

use super::notification::Notification;

/// Sends messages to one receiver.
pub trait Notifier: Send + 'static {
    /// What it sends to, for the log: `webhook http://…`.
    fn describe(&self) -> String;

    /// Sends `notification` at `now` (milliseconds since the epoch).
    ///
    /// # Errors
    ///
    /// Why it was not sent (the dispatcher tries again later): the receiver could not be
    /// reached, did not answer in time, or refused it.
    fn send(&mut self, notification: &Notification, now: crate::point::Millis) -> Result<(), String>;
}
