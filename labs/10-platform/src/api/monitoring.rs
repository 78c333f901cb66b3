//! The monitoring side of the API, over lab 08's pipeline in the platform: a host's series with
//! their latest values, one series over a range, the firing alerts, and the rules and silences
//! (changed by admins only, as the platform decides in [`crate::alerting`]).
//!
//! | route | |
//! |---|---|
//! | `GET /api/hosts/{name}/metrics` | the host's series, each with its latest value |
//! | `GET /api/query?host=H&metric=M&tag.NAME=V&range=1h` | one series' points, a mean a step |
//! | `GET /api/alerts` | the alerts not OK, the most urgent first |
//! | `GET`/`POST /api/rules`, `DELETE /api/rules/{id}` | the rules, as recorded |
//! | `GET`/`POST /api/silences`, `DELETE /api/silences/{id}` | the silences |

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use monitor::point::SeriesKey;
use monitor::store::RangeQuery;
use monitor::web::SilenceRecord;
use monitor::web::dashboard::{graph_points, range_of, series_of};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Caller, ok, parse_body};
use crate::now_millis;
use crate::platform::{Platform, Refusal};
use crate::records::{Millis, RuleRecord};

/// How far back a series' latest value is looked for.
const LATEST_WITHIN: Millis = 15 * 60 * 1000;

/// `GET /api/hosts/{name}/metrics`: every series the host sends, by metric and tags, with its
/// latest value in the last quarter of an hour (`null` when there is none).
pub async fn host_metrics(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Path(name): Path<String>,
) -> Answer {
    let console = match platform.console() {
        Ok(console) => console,
        Err(refusal) => return refusal.into(),
    };
    let now = now_millis();
    let series: Vec<_> = console
        .source()
        .series(Some(&name), None)
        .into_iter()
        .map(|series| {
            let latest = console.source().query(&RangeQuery::raw(series.clone(), now - LATEST_WITHIN, now + 1)).pop();
            let SeriesKey { metric, tags, .. } = series;
            json!({ "metric": metric, "tags": tags, "latest": latest.map(|(at, value)| json!({ "at": at, "value": value })) })
        })
        .collect();
    ok(json!({ "host": name, "series": series }))
}

/// `GET /api/query?host=H&metric=M&tag.NAME=V&range=1h`: one series over the range (`5m`, `15m`,
/// `1h`, `6h` or `1d`) before now, a mean a step.
pub async fn query(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Answer {
    let console = match platform.console() {
        Ok(console) => console,
        Err(refusal) => return refusal.into(),
    };
    let Some(series) = series_of(&params) else {
        let field = if params.contains_key("host") { "metric" } else { "host" };
        return Refusal::Invalid { field: field.into(), reason: "is needed".into() }.into();
    };
    let (range, length) = range_of(params.get("range").map(String::as_str));
    let (from, to, points) = graph_points(console, &series, length, now_millis());
    ok(json!({ "series": series, "range": range, "from": from, "to": to, "points": points }))
}

/// `GET /api/alerts`: the alerts not OK (PROBLEM and NODATA), the most urgent first.
pub async fn alerts(State(platform): State<Arc<Platform>>, _caller: Caller) -> Answer {
    match platform.console() {
        Ok(console) => ok(console.firing()),
        Err(refusal) => refusal.into(),
    }
}

/// A rule, as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    id: i64,
    expr: String,
    #[serde(default = "default_priority")]
    priority: i64,
    #[serde(default)]
    note: String,
}

fn default_priority() -> i64 {
    2
}

/// `GET /api/rules`: the rules, as recorded.
pub async fn rules(State(platform): State<Arc<Platform>>, _caller: Caller) -> Answer {
    match platform.records.rules().await {
        Ok(rules) => ok(rules
            .iter()
            .map(|r| json!({ "id": r.id, "expr": r.expr, "priority": r.priority, "note": r.note }))
            .collect::<Vec<_>>()),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `POST /api/rules`: 201 with the rule as the judge reads it; a rule with its id is replaced.
pub async fn put_rule(State(platform): State<Arc<Platform>>, caller: Caller, body: Bytes) -> Answer {
    let body: RuleBody = match parse_body(&body) {
        Ok(body) => body,
        Err(refusal) => return refusal.into(),
    };
    let rule = RuleRecord { id: body.id, expr: body.expr, priority: body.priority, note: body.note };
    match platform.put_rule(&caller.session.user, &rule, now_millis()).await {
        Ok(spec) => Answer::Data(StatusCode::CREATED, json!(spec)),
        Err(refusal) => refusal.into(),
    }
}

/// `DELETE /api/rules/{id}`.
pub async fn delete_rule(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer {
    let Ok(id) = id.parse::<i64>() else {
        return Refusal::Invalid { field: "id".into(), reason: format!("{id:?} is not a rule number") }
            .into();
    };
    match platform.delete_rule(&caller.session.user, id, now_millis()).await {
        Ok(()) => ok(json!({ "deleted": id })),
        Err(refusal) => refusal.into(),
    }
}

/// A silence, as the API takes it: from `starts` (now when left out) for `minutes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceBody {
    matchers: String,
    #[serde(default)]
    starts: Option<Millis>,
    minutes: u32,
    #[serde(default)]
    comment: String,
}

/// `GET /api/silences`.
pub async fn silences(State(platform): State<Arc<Platform>>, _caller: Caller) -> Answer {
    match platform.console() {
        Ok(console) => ok(console.silences()),
        Err(refusal) => refusal.into(),
    }
}

/// `POST /api/silences`: 201 with the silence and its id.
pub async fn add_silence(State(platform): State<Arc<Platform>>, caller: Caller, body: Bytes) -> Answer {
    let body: SilenceBody = match parse_body(&body) {
        Ok(body) => body,
        Err(refusal) => return refusal.into(),
    };
    let now = now_millis();
    let starts = body.starts.unwrap_or(now);
    let silence = SilenceRecord {
        id: 0,
        matchers: body.matchers,
        starts,
        ends: starts.saturating_add(i64::from(body.minutes) * 60_000),
        comment: body.comment,
    };
    match platform.add_silence(&caller.session.user, silence, now).await {
        Ok(added) => Answer::Data(StatusCode::CREATED, json!(added)),
        Err(refusal) => refusal.into(),
    }
}

/// `DELETE /api/silences/{id}`.
pub async fn delete_silence(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer {
    let Ok(id) = id.parse::<u64>() else {
        return Refusal::Invalid { field: "id".into(), reason: format!("{id:?} is not a silence number") }
            .into();
    };
    match platform.delete_silence(&caller.session.user, id, now_millis()).await {
        Ok(()) => ok(json!({ "deleted": id })),
        Err(refusal) => refusal.into(),
    }
}
