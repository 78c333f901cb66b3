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
        let from: Mailbox = from.parse().map_err(|err| format!("from {from:?}: {err}"))?;
        let to = to
            .iter()
            .map(|address| address.parse().map_err(|err| format!("to {address:?}: {err}")))
            .collect::<Result<Vec<Mailbox>, String>>()?;
        if to.is_empty() {
            return Err("no recipient".to_owned());
        }
        let transport = SmtpTransport::builder_dangerous(host).port(port).timeout(Some(timeout)).build();
        Ok(SmtpNotifier { server: format!("{host}:{port}"), transport, from, to })
    }
}

impl Notifier for SmtpNotifier {
    fn describe(&self) -> String {
        format!("smtp {}", self.server)
    }

    fn send(&mut self, notification: &Notification, _now: Millis) -> Result<(), String> {
        let mut builder = Message::builder().from(self.from.clone()).subject(notification.subject());
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let mail = builder
            .header(ContentType::TEXT_PLAIN)
            .body(notification.body())
            .map_err(|err| err.to_string())?;
        self.transport.send(&mail).map(|_| ()).map_err(|err| err.to_string())
    }
}
