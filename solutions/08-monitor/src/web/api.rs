//! The dashboard's HTTP API over a [`Console`]: rules, alerts, silences and host records, in JSON of
//! the query API's shape (`{"status":"success","data":…}`, or a 4xx with
//! `{"status":"error","errorType":…,"error":"FIELD: why"}`).
//!
//! | route | |
//! |---|---|
//! | `GET /api/v1/rules`, `POST /api/v1/rules` | the rules; add one (201, or 409 for a number in use) |
//! | `GET`, `PUT`, `DELETE /api/v1/rules/{id}` | one rule |
//! | `GET /api/v1/alerts` | the alerts not OK, the most urgent first |
//! | `GET /api/v1/silences`, `POST /api/v1/silences` | the silences; add one |
//! | `DELETE /api/v1/silences/{id}` | end one |
//! | `GET /api/v1/hosts/{name}`, `PUT`, `DELETE` | a host's record |
//!
//! A body is read with `serde_path_to_error`, so that a field of the wrong type is named
//! (`priority: invalid type: string "high", expected u8`), as is a missing or unknown one.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::console::{Console, HostRecord, Refusal, SilenceRecord};
use crate::judge::{RuleId, RuleSpec};
use crate::point::now_millis;

/// The API's routes over `console`.
pub fn console_router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/api/v1/rules", get(list_rules).post(create_rule))
        .route("/api/v1/rules/{id}", get(read_rule).put(replace_rule).delete(delete_rule))
        .route("/api/v1/alerts", get(firing))
        .route("/api/v1/silences", get(list_silences).post(create_silence))
        .route("/api/v1/silences/{id}", delete(end_silence))
        .route("/api/v1/hosts/{name}", get(read_host).put(put_host).delete(delete_host))
        .with_state(console)
}

/// An answer: the data, or an error with its status.
pub enum Answer {
    /// 200 (or another 2xx) with `{"status":"success","data":…}`.
    Data(StatusCode, Value),
    /// 204 with no body.
    Done,
    /// A 4xx or 5xx with `{"status":"error","errorType":…,"error":…}`.
    Error(StatusCode, &'static str, String),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Data(status, data) => {
                (status, axum::Json(json!({ "status": "success", "data": data }))).into_response()
            }
            Answer::Done => StatusCode::NO_CONTENT.into_response(),
            Answer::Error(status, kind, error) => {
                (status, axum::Json(json!({ "status": "error", "errorType": kind, "error": error })))
                    .into_response()
            }
        }
    }
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Answer {
        match refusal {
            Refusal::NotFound(why) => Answer::Error(StatusCode::NOT_FOUND, "not_found", why),
            Refusal::Exists(why) => Answer::Error(StatusCode::CONFLICT, "conflict", why),
            Refusal::Invalid { field, message } => bad(format!("{field}: {message}")),
            Refusal::NotSaved(why) => Answer::Error(StatusCode::INTERNAL_SERVER_ERROR, "internal", why),
        }
    }
}

/// A 400 naming what is wrong.
fn bad(error: String) -> Answer {
    Answer::Error(StatusCode::BAD_REQUEST, "bad_data", error)
}

/// `body` as a `T`, or a 400 naming the field at fault.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." { bad(format!("body: {inner}")) } else { bad(format!("{path}: {inner}")) }
    })
}

/// A value as JSON (every type here serializes).
fn data(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

async fn list_rules(State(console): State<Arc<Console>>) -> Answer {
    Answer::Data(StatusCode::OK, data(console.rules()))
}

async fn create_rule(State(console): State<Arc<Console>>, body: Bytes) -> Answer {
    let spec: RuleSpec = match parse_body(&body) {
        Ok(spec) => spec,
        Err(answer) => return answer,
    };
    match console.put_rule(spec, false) {
        Ok(spec) => Answer::Data(StatusCode::CREATED, data(spec)),
        Err(refusal) => refusal.into(),
    }
}

async fn read_rule(State(console): State<Arc<Console>>, Path(id): Path<String>) -> Answer {
    let id = match rule_id(&id) {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    match console.rule(id) {
        Some(spec) => Answer::Data(StatusCode::OK, data(spec)),
        None => Refusal::NotFound(format!("no rule {id}")).into(),
    }
}

async fn replace_rule(State(console): State<Arc<Console>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = match rule_id(&id) {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let spec: RuleSpec = match parse_body(&body) {
        Ok(spec) => spec,
        Err(answer) => return answer,
    };
    if spec.id != id {
        return bad(format!("id: {} is not the rule of the path, {id}", spec.id));
    }
    match console.put_rule(spec, true) {
        Ok(spec) => Answer::Data(StatusCode::OK, data(spec)),
        Err(refusal) => refusal.into(),
    }
}

async fn delete_rule(State(console): State<Arc<Console>>, Path(id): Path<String>) -> Answer {
    match rule_id(&id).map(|id| console.delete_rule(id)) {
        Ok(Ok(())) => Answer::Done,
        Ok(Err(refusal)) => refusal.into(),
        Err(answer) => answer,
    }
}

/// A rule number from the path, or a 400.
fn rule_id(text: &str) -> Result<RuleId, Answer> {
    text.parse().map_err(|_| bad(format!("id: {text:?} is not a rule number")))
}

async fn firing(State(console): State<Arc<Console>>) -> Answer {
    Answer::Data(StatusCode::OK, data(console.firing()))
}

async fn list_silences(State(console): State<Arc<Console>>) -> Answer {
    Answer::Data(StatusCode::OK, data(console.silences()))
}

/// A new silence: its matchers, its end and, optionally, its start (now) and a comment; times in
/// milliseconds since the epoch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSilence {
    /// `name=value, name!=value`.
    matchers: String,
    /// When it begins (now when left out).
    starts: Option<i64>,
    /// When it ends.
    ends: i64,
    /// Who made it, and why.
    #[serde(default)]
    comment: String,
}

async fn create_silence(State(console): State<Arc<Console>>, body: Bytes) -> Answer {
    let new: NewSilence = match parse_body(&body) {
        Ok(new) => new,
        Err(answer) => return answer,
    };
    let record = SilenceRecord {
        id: 0,
        matchers: new.matchers,
        starts: new.starts.unwrap_or_else(now_millis),
        ends: new.ends,
        comment: new.comment,
    };
    match console.add_silence(record) {
        Ok(record) => Answer::Data(StatusCode::CREATED, data(record)),
        Err(refusal) => refusal.into(),
    }
}

async fn end_silence(State(console): State<Arc<Console>>, Path(id): Path<String>) -> Answer {
    let Ok(id) = id.parse() else { return bad(format!("id: {id:?} is not a silence number")) };
    match console.delete_silence(id) {
        Ok(()) => Answer::Done,
        Err(refusal) => refusal.into(),
    }
}

async fn read_host(State(console): State<Arc<Console>>, Path(name): Path<String>) -> Answer {
    let seen = console.source().hosts().contains(&name);
    let firing = console.firing().iter().filter(|alert| alert.series.host == name).count();
    match console.host(&name) {
        Some(record) => {
            Answer::Data(StatusCode::OK, json!({ "record": record, "seen": seen, "firing": firing }))
        }
        None if seen => {
            Answer::Data(StatusCode::OK, json!({ "record": null, "seen": true, "firing": firing }))
        }
        None => Refusal::NotFound(format!("no host {name}")).into(),
    }
}

/// A host's record as a body: the name is the path's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostBody {
    /// A note.
    #[serde(default)]
    note: String,
    /// Its tags.
    #[serde(default)]
    tags: crate::point::Tags,
}

async fn put_host(State(console): State<Arc<Console>>, Path(name): Path<String>, body: Bytes) -> Answer {
    let host: HostBody = match parse_body(&body) {
        Ok(host) => host,
        Err(answer) => return answer,
    };
    match console.put_host(HostRecord { name, note: host.note, tags: host.tags }) {
        Ok(record) => Answer::Data(StatusCode::OK, data(record)),
        Err(refusal) => refusal.into(),
    }
}

async fn delete_host(State(console): State<Arc<Console>>, Path(name): Path<String>) -> Answer {
    match console.delete_host(&name) {
        Ok(()) => Answer::Done,
        Err(refusal) => refusal.into(),
    }
}
