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
        let endpoint = HttpEndpoint::parse(&format!("{}/api/v2/alerts", url.trim_end_matches('/')))?;
        Ok(AlertmanagerNotifier { client: HttpClient::new(endpoint, timeout, timeout) })
    }
}

impl Notifier for AlertmanagerNotifier {
    fn describe(&self) -> String {
        format!("alertmanager {}", self.client.endpoint().url)
    }

    fn send(&mut self, notification: &Notification, now: Millis) -> Result<(), String> {
        let alerts = alertmanager_alerts(notification, now);
        if alerts.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&Value::Array(alerts)).map_err(|err| err.to_string())?;
        post_json(&mut self.client, &body)
    }
}

/// `notification` as Alertmanager's alerts: an alert or a digest's alerts, each labelled
/// `alertname` (`rule_N`), `host`, `metric`, `priority` (`P0`…) and its series' tags; a recovery
/// ends at `now`. A summary of what the limit held back has no alert; a pipeline-down is one alert
/// of its own.
pub fn alertmanager_alerts(notification: &Notification, now: Millis) -> Vec<Value> {
    match notification {
        Notification::Alert(alert) => vec![alertmanager_alert(alert, now)],
        Notification::Digest { alerts } => {
            alerts.iter().map(|alert| alertmanager_alert(alert, now)).collect()
        }
        Notification::Suppressed { .. } => Vec::new(),
        Notification::PipelineDown { silent, watched } => vec![json!({
            "labels": { "alertname": "pipeline_down", "priority": "P0" },
            "annotations": { "summary": format!("{silent} of {watched} series went silent at once") },
            "startsAt": rfc3339(now),
        })],
    }
}

/// One alert in Alertmanager's shape.
fn alertmanager_alert(alert: &Alert, now: Millis) -> Value {
    let mut labels = Map::new();
    for (name, value) in &alert.series.tags {
        labels.insert(name.clone(), Value::String(value.clone()));
    }
    labels.insert("alertname".into(), Value::String(format!("rule_{}", alert.rule)));
    labels.insert("host".into(), Value::String(alert.series.host.clone()));
    labels.insert("metric".into(), Value::String(alert.series.metric.clone()));
    labels.insert("priority".into(), Value::String(format!("P{}", alert.priority)));
    let mut body = json!({
        "labels": labels,
        "annotations": {
            "summary": format!("{} {}", alert.series, alert.expr),
            "expr": alert.expr,
            "value": alert.value.to_string(),
            "status": alert.status.as_str(),
        },
        "startsAt": rfc3339(alert.at),
    });
    if alert.status == Status::Ok {
        body["endsAt"] = Value::String(rfc3339(now.max(alert.at)));
    }
    body
}

/// `millis` since the epoch as RFC 3339 in UTC: `2026-12-03T10:00:00.000Z`.
pub fn rfc3339(millis: Millis) -> String {
    let seconds = millis.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        millis.rem_euclid(1000)
    )
}
