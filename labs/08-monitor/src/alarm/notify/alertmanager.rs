//! Alertmanager's v2 API: `POST /api/v2/alerts` with a JSON array of alerts, each with labels,
//! annotations, `startsAt` and, for a recovery, `endsAt`. Alertmanager then groups, silences,
//! inhibits and routes them as it is configured to.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::Notifier;
use super::webhook::post_json;
use crate::alarm::notification::Notification;
use crate::judge::{Alert, Status};
use crate::point::Millis;
use crate::relay::http::{HttpClient, HttpEndpoint};

/// Sends each alert to an Alertmanager.
#[derive(Debug)]
pub struct AlertmanagerNotifier {
    /// The client of `…/api/v2/alerts`.
    client: HttpClient,
}

impl AlertmanagerNotifier {
    /// A notifier for the Alertmanager at `url` (`http://HOST:9093`), each try bounded by `timeout`.
    ///
    /// # Errors
    ///
    /// Why `url` is not a plain `http://` URL.
    pub fn new(url: &str, timeout: Duration) -> Result<AlertmanagerNotifier, String> {
        todo!(
            "stage 7: the endpoint url/api/v2/alerts; a client with timeout for connecting and for the answer"
        )
    }
}

impl Notifier for AlertmanagerNotifier {
    fn describe(&self) -> String {
        todo!("stage 7: alertmanager <url>")
    }

    fn send(&mut self, notification: &Notification, now: Millis) -> Result<(), String> {
        todo!("stage 7: alertmanager_alerts; none: nothing to send; else their JSON array through post_json")
    }
}

/// `notification` as Alertmanager's alerts: an alert or a digest's alerts, each labelled
/// `alertname` (`rule_N`), `host`, `metric`, `priority` (`P0`…) and its series' tags; a recovery
/// ends at `now`. A summary of what the limit held back has no alert; a pipeline-down is one alert
/// of its own.
pub fn alertmanager_alerts(notification: &Notification, now: Millis) -> Vec<Value> {
    todo!(
        "stage 7: one for an alert, one for each of a digest's, none for a summary, and a pipeline_down alert of priority P0 starting now"
    )
}

/// One alert in Alertmanager's shape.
fn alertmanager_alert(alert: &Alert, now: Millis) -> Value {
    todo!(
        "stage 7: labels from the tags, then alertname, host, metric and priority; annotations summary, expr, value and status; startsAt the alert's time, and for an OK endsAt now (not before it)"
    )
}

/// `millis` since the epoch as RFC 3339 in UTC: `2026-12-03T10:00:00.000Z`.
pub fn rfc3339(millis: Millis) -> String {
    todo!(
        "stage 7: days and the time of day by div_euclid and rem_euclid, the date by Howard Hinnant's civil_from_days, then the milliseconds"
    )
}
