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
        todo!(
            "stage 8: Data as its status with the success shape, Done as a bare 204, Error as its status with the error shape"
        )
    }
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Answer {
        todo!(
            "stage 8: NotFound 404 not_found, Exists 409 conflict, Invalid a 400 as field: message, NotSaved 500 internal"
        )
    }
}

/// A 400 naming what is wrong.
fn bad(error: String) -> Answer {
    Answer::Error(StatusCode::BAD_REQUEST, "bad_data", error)
}

/// `body` as a `T`, or a 400 naming the field at fault.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    todo!(
        "stage 8: serde_path_to_error over a serde_json Deserializer; a 400 starting with the path, or body: when the path is ."
    )
}

/// A value as JSON (every type here serializes).
fn data(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

async fn list_rules(State(console): State<Arc<Console>>) -> Answer {
    todo!("stage 8: the console's rules")
}

async fn create_rule(State(console): State<Arc<Console>>, body: Bytes) -> Answer {
    todo!("stage 8: parse the body as a RuleSpec, add it, 201 with the rule")
}

async fn read_rule(State(console): State<Arc<Console>>, Path(id): Path<String>) -> Answer {
    todo!("stage 8: the rule of the path's id, or 404")
}

async fn replace_rule(State(console): State<Arc<Console>>, Path(id): Path<String>, body: Bytes) -> Answer {
    todo!("stage 8: the path's id, the body as a RuleSpec of that id or a 400 on id, then replace it")
}

async fn delete_rule(State(console): State<Arc<Console>>, Path(id): Path<String>) -> Answer {
    todo!("stage 8: delete the rule of the path's id, 204")
}

/// A rule number from the path, or a 400.
fn rule_id(text: &str) -> Result<RuleId, Answer> {
    todo!("stage 8: parse it, or a 400 on id")
}

async fn firing(State(console): State<Arc<Console>>) -> Answer {
    todo!("stage 8: the console's alerts not OK")
}

async fn list_silences(State(console): State<Arc<Console>>) -> Answer {
    todo!("stage 8: the console's silences")
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
    todo!(
        "stage 8: parse the body as a NewSilence, starting now when it says nothing, add it, 201 with the record"
    )
}

async fn end_silence(State(console): State<Arc<Console>>, Path(id): Path<String>) -> Answer {
    todo!("stage 8: the path's id, or a 400 on id; delete it, 204")
}

async fn read_host(State(console): State<Arc<Console>>, Path(name): Path<String>) -> Answer {
    todo!(
        "stage 8: the record, whether the source has seen the host, how many alerts fire on it; 404 when neither record nor points"
    )
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
    todo!("stage 8: parse the body as a HostBody, put it under the path's name, 200 with the record")
}

async fn delete_host(State(console): State<Arc<Console>>, Path(name): Path<String>) -> Answer {
    todo!("stage 8: forget the host's record, 204")
}
