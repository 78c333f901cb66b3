//! Mail, through an SMTP server: the local MTA (postfix, exim) that relays for the machine, as
//! monitoring systems usually send. Plain SMTP: no TLS to a server on the machine itself.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{Message, SmtpTransport, Transport};

use super::Notifier;
use crate::alarm::notification::Notification;
use crate::point::Millis;

/// Mails each message (its subject, and its body as plain text) from one address to others.
pub struct SmtpNotifier {
    /// The server, as HOST:PORT.
    server: String,
    /// The transport.
    transport: SmtpTransport,
    /// The sender.
    from: Mailbox,
    /// The recipients.
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("server", &self.server)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier mailing through the SMTP server at `host`:`port`, from `from` to `to`, each try
    /// bounded by `timeout`.
    ///
    /// # Errors
    ///
    /// An address that is not one, or no recipient.
    pub fn new(
        host: &str,
        port: u16,
        from: &str,
        to: &[String],
        timeout: Duration,
    ) -> Result<SmtpNotifier, String> {
        todo!(
            "stage 7: parse from and each of to as a Mailbox (an error names which), at least one recipient, a plain SMTP transport to host:port with the timeout"
        )
    }
}

impl Notifier for SmtpNotifier {
    fn describe(&self) -> String {
        todo!("stage 7: smtp <server>")
    }

    fn send(&mut self, notification: &Notification, _now: Millis) -> Result<(), String> {
        todo!(
            "stage 7: a plain-text mail from from to each of to, with the subject and the body, through the transport"
        )
    }
}
