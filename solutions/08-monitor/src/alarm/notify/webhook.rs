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
        let endpoint = HttpEndpoint::parse(url)?;
        Ok(WebhookNotifier { client: HttpClient::new(endpoint, timeout, timeout) })
    }
}

impl Notifier for WebhookNotifier {
    fn describe(&self) -> String {
        format!("webhook {}", self.client.endpoint().url)
    }

    fn send(&mut self, notification: &Notification, _now: Millis) -> Result<(), String> {
        let body = serde_json::to_vec(notification).map_err(|err| err.to_string())?;
        post_json(&mut self.client, &body)
    }
}

/// POSTs `body` as JSON; Ok for a 2xx answer.
pub(crate) fn post_json(client: &mut HttpClient, body: &[u8]) -> Result<(), String> {
    let answer = client.post(&[("Content-Type", "application/json")], body).map_err(|err| err.to_string())?;
    if (200..300).contains(&answer.status) {
        Ok(())
    } else {
        Err(format!("answered {}: {}", answer.status, String::from_utf8_lossy(&answer.body)))
    }
}
