//! A webhook: each message POSTed as JSON to a URL, which answers 2xx when it has it.

use std::time::Duration;

use super::Notifier;
use crate::alarm::notification::Notification;
use crate::point::Millis;
use crate::relay::http::{HttpClient, HttpEndpoint};

/// POSTs each message's JSON (`{"kind":"alert",…}`) to a URL.
#[derive(Debug)]
pub struct WebhookNotifier {
    /// The client, keeping its connection between messages.
    client: HttpClient,
}

impl WebhookNotifier {
    /// A notifier posting to `url` (`http://HOST:PORT/PATH`), each try bounded by `timeout`.
    ///
    /// # Errors
    ///
    /// Why `url` is not a plain `http://` URL.
    pub fn new(url: &str, timeout: Duration) -> Result<WebhookNotifier, String> {
        todo!("stage 7: parse the HttpEndpoint; a client with timeout for connecting and for the answer")
    }
}

impl Notifier for WebhookNotifier {
    fn describe(&self) -> String {
        todo!("stage 7: webhook <url>")
    }

    fn send(&mut self, notification: &Notification, _now: Millis) -> Result<(), String> {
        todo!("stage 7: the notification's JSON, through post_json")
    }
}

/// POSTs `body` as JSON; Ok for a 2xx answer.
pub(crate) fn post_json(client: &mut HttpClient, body: &[u8]) -> Result<(), String> {
    todo!("stage 7: POST with a JSON content type; Ok for a 2xx, else the status and the body")
}
