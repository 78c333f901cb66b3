//! The platform's HTTP API: one router over the whole system, JSON in the shape of Prometheus's
//! API (`{"status":"success","data":…}`, or `{"status":"error","errorType":…,"error":…}` with a
//! 4xx or 5xx), as lab 08's console answers.
//!
//! | route | who | |
//! |---|---|---|
//! | `POST /api/login`, `POST /api/logout`, `GET /api/me` | anyone; the logged-in | a session in an HttpOnly cookie |
//! | `GET /api/hosts`, `GET /api/hosts/{name}` | the logged-in | hosts, their tags, whether connected |
//! | `POST /api/runs` | as the role allows | a command started |
//! | `GET /api/runs`, `GET /api/runs/{id}` | the logged-in | runs and every host's result |
//! | `GET /api/hosts/{name}/metrics`, `GET /api/query`, `GET /api/alerts` | the logged-in | metrics and alerts, from lab 08's pipeline ([`monitoring`]) |
//! | `GET /api/rules`, `GET /api/silences` | the logged-in | the alert rules and the silences |
//! | `POST /api/rules`, `DELETE /api/rules/{id}`, `POST /api/silences`, `DELETE /api/silences/{id}` | admins | rules and silences changed |
//! | `GET /api/scripts`, `GET /api/scripts/{name}` | the logged-in | monitoring scripts and their versions ([`scripts`]) |
//! | `POST /api/scripts`, `PUT /api/scripts/{name}/active`, `POST /api/scripts/{name}/rollouts` | admins | a script uploaded (checked first); a version made active; a version sent to a target's hosts |
//! | `GET /packages/{name}/{version}/{sha256}` | anyone (the hosts' installer) | a version's script, by its SHA-256 |
//! | `GET /api/releases`, `GET /api/releases/{name}/{version}`, `GET /api/deployments`, `GET /api/deployments/{id}` | the logged-in | releases, their rollouts and every host's step ([`releases`]) |
//! | `POST /api/releases`, `POST /api/releases/{name}/{version}/deployments`, `POST /api/deployments/{id}/pause`, `…/resume` | admins | a release uploaded (checked first); rolled out in batches; paused and resumed |
//! | `GET /releases/{name}/{version}/{sha256}` | anyone (the hosts' deploy routine) | a release's package, by its SHA-256 |
//! | `GET`/`POST /api/users`, `PATCH /api/users/{name}`, `GET /api/roles`, `PUT /api/roles/{name}`, `GET /api/audit` | admins | users, roles, the audit log |
//!
//! Every request that changes anything carries the session's CSRF token in `X-CSRF-Token`; a
//! body is read with `serde_path_to_error`, so a 400 names its field.

pub mod admin;
pub mod caller;
pub mod hosts;
pub mod login;
pub mod monitoring;
pub mod releases;
pub mod runs;
pub mod scripts;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::platform::{Platform, Refusal};

pub use caller::{Caller, SESSION_COOKIE};

/// The API's routes over `platform`.
pub fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/api/login", post(login::login))
        .route("/api/logout", post(login::logout))
        .route("/api/me", get(login::me))
        .route("/api/hosts", get(hosts::list))
        .route("/api/hosts/{name}", get(hosts::one))
        .route("/api/hosts/{name}/metrics", get(monitoring::host_metrics))
        .route("/api/query", get(monitoring::query))
        .route("/api/alerts", get(monitoring::alerts))
        .route("/api/rules", get(monitoring::rules).post(monitoring::put_rule))
        .route("/api/rules/{id}", delete(monitoring::delete_rule))
        .route("/api/silences", get(monitoring::silences).post(monitoring::add_silence))
        .route("/api/silences/{id}", delete(monitoring::delete_silence))
        .route("/api/runs", get(runs::list).post(runs::start))
        .route("/api/runs/{id}", get(runs::one))
        .route(
            "/api/scripts",
            get(scripts::list).post(scripts::upload).layer(DefaultBodyLimit::max(scripts::MAX_UPLOAD_BYTES)),
        )
        .route("/api/scripts/{name}", get(scripts::one))
        .route("/api/scripts/{name}/active", put(scripts::activate))
        .route("/api/scripts/{name}/rollouts", post(scripts::rollout))
        .route("/packages/{name}/{version}/{sha256}", get(scripts::package))
        .route(
            "/api/releases",
            get(releases::list)
                .post(releases::upload)
                .layer(DefaultBodyLimit::max(releases::MAX_UPLOAD_BYTES)),
        )
        .route("/api/releases/{name}/{version}", get(releases::one))
        .route("/api/releases/{name}/{version}/deployments", post(releases::start))
        .route("/api/deployments", get(releases::deployments))
        .route("/api/deployments/{id}", get(releases::deployment))
        .route("/api/deployments/{id}/pause", post(releases::pause))
        .route("/api/deployments/{id}/resume", post(releases::resume))
        .route("/releases/{name}/{version}/{sha256}", get(releases::package))
        .route("/api/users", get(admin::users).post(admin::add_user))
        .route("/api/users/{name}", patch(admin::change_user))
        .route("/api/roles", get(admin::roles))
        .route("/api/roles/{name}", put(admin::put_role))
        .route("/api/audit", get(admin::audit))
        .with_state(platform)
}

/// An answer: the data, or a refusal.
#[derive(Debug)]
pub enum Answer {
    /// A 2xx with `{"status":"success","data":…}`.
    Data(StatusCode, Value),
    /// A refusal, as its status and `{"status":"error",…}`.
    Refused(Refusal),
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Answer {
        Answer::Refused(refusal)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let refusal = match self {
            Answer::Data(status, data) => {
                return (status, axum::Json(json!({ "status": "success", "data": data }))).into_response();
            }
            Answer::Refused(refusal) => refusal,
        };
        let (status, kind) = match &refusal {
            Refusal::NotLoggedIn => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Refusal::WrongPassword => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Refusal::TooManyLogins(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Refusal::Csrf | Refusal::Denied(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Refusal::Invalid { .. } => (StatusCode::BAD_REQUEST, "bad_data"),
            Refusal::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Refusal::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Refusal::NoControl | Refusal::NoMonitoring => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Refusal::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let body = json!({ "status": "error", "errorType": kind, "error": refusal.to_string() });
        let mut response = (status, axum::Json(body)).into_response();
        if let Refusal::TooManyLogins(wait) = refusal
            && let Ok(value) = HeaderValue::from_str(&((wait + 999) / 1000).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// `body` as a `T`, or a refusal naming the field at fault.
///
/// # Errors
///
/// [`Refusal::Invalid`] naming the field (`body` when the JSON itself is bad).
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        Refusal::Invalid { field, reason: err.into_inner().to_string() }
    })
}

/// A 200 with `value` as its data.
pub fn ok(value: impl serde::Serialize) -> Answer {
    Answer::Data(StatusCode::OK, serde_json::to_value(value).unwrap_or(Value::Null))
}
