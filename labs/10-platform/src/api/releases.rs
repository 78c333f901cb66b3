//! Releases and their rollouts ("deployments"): a package uploaded (checked whole first,
//! [`crate::releases`]), a version rolled out to a target's hosts in batches, a rollout followed
//! host by host, paused and resumed.
//!
//! | route | who | |
//! |---|---|---|
//! | `GET /api/releases`, `GET /api/releases/{name}/{version}` | the logged-in | releases; one with its manifest |
//! | `POST /api/releases` | admins | `{"package": BASE64}` checked and stored: 201 with its name, version and SHA-256 |
//! | `POST /api/releases/{name}/{version}/deployments` | admins | `{"target", "canary", "batch", "failure_budget", "bake_secs", "on_failure", "health": {"metric", "max"}}`: 201 with the rollout's id |
//! | `GET /api/deployments`, `GET /api/deployments/{id}` | the logged-in | rollouts; one with every host's state and step |
//! | `POST /api/deployments/{id}/pause`, `POST /api/deployments/{id}/resume` | admins | paused after its batch in hand; resumed |
//! | `GET /releases/{name}/{version}/{sha256}` | anyone (the hosts' deploy routine) | a release's package, by its SHA-256 |
//!
//! The package route takes no session, as the scripts' does not: the signed command names the
//! SHA-256, and the deploy routine installs nothing else.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use control::master::Portion;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, Caller, ok, parse_body};
use crate::now_millis;
use crate::platform::{Platform, Refusal};
use crate::records::{Deployment, DeploymentHost, Release};
use crate::releases::{DeploymentRequest, HealthRule, OnFailure, Strategy};

/// The largest upload request: a package of the largest size, in base64.
pub const MAX_UPLOAD_BYTES: usize = crate::releases::MAX_PACKAGE_BYTES * 4 / 3 + 64 * 1024;

/// A package, as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    /// The gzipped tar archive, in standard base64.
    package: String,
}

/// A rollout as the API takes it: each field but the target has the default strategy's value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    target: String,
    canary: Option<usize>,
    /// A count (`10` or `"10"`) or a share (`"10%"`).
    batch: Option<Value>,
    /// As `batch`.
    failure_budget: Option<Value>,
    bake_secs: Option<u64>,
    on_failure: Option<String>,
    health: Option<Health>,
}

/// What monitoring must say of each batch over its bake.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Health {
    metric: String,
    max: f64,
}

/// How many rollouts a list shows.
#[derive(Debug, Deserialize)]
pub struct Limit {
    /// At most this many (50 by default, at most 1,000).
    pub limit: Option<u32>,
}

/// A release as the API shows it.
pub fn release_json(release: &Release) -> Value {
    json!({
        "name": release.name, "version": release.version, "sha256": release.sha256, "bytes": release.size,
        "manifest": release.manifest, "uploaded_by": release.uploaded_by, "uploaded": release.uploaded,
    })
}

/// A rollout as the API shows it.
pub fn deployment_json(deployment: &Deployment) -> Value {
    let strategy: Value = serde_json::from_str(&deployment.strategy).unwrap_or(Value::Null);
    json!({
        "id": deployment.id, "name": deployment.name, "version": deployment.version, "user": deployment.user,
        "target": deployment.target, "strategy": strategy, "state": deployment.state.as_str(),
        "batch": deployment.batch, "detail": deployment.detail, "started": deployment.started,
        "ended": deployment.ended,
    })
}

/// A host of a rollout as the API shows it.
pub fn host_json(host: &DeploymentHost) -> Value {
    json!({
        "host": host.host, "batch": host.batch, "state": host.state, "step": host.step,
        "previous": host.previous, "output": host.output, "updated": host.updated,
    })
}

/// `GET /api/releases`: every release, newest first.
pub async fn list(State(platform): State<Arc<Platform>>, _caller: Caller) -> Answer {
    match platform.records.releases().await {
        Ok(releases) => ok(releases.iter().map(release_json).collect::<Vec<_>>()),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `GET /api/releases/{name}/{version}`: one release.
pub async fn one(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Path((name, version)): Path<(String, String)>,
) -> Answer {
    match platform.records.release(&name, &version).await {
        Ok(Some(release)) => ok(release_json(&release)),
        Ok(None) => Refusal::NotFound(format!("no release {name} {version}")).into(),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `POST /api/releases`: 201 with the release stored, or 400 naming the rule the package breaks.
pub async fn upload(State(platform): State<Arc<Platform>>, caller: Caller, body: Bytes) -> Answer {
    let upload: Upload = match parse_body(&body) {
        Ok(upload) => upload,
        Err(refusal) => return refusal.into(),
    };
    let Ok(package) = base64::engine::general_purpose::STANDARD.decode(upload.package.as_bytes()) else {
        return Refusal::Invalid { field: "package".into(), reason: "is not base64".into() }.into();
    };
    match platform.upload_release(&caller.session.user, &package, now_millis()).await {
        Ok(release) => Answer::Data(StatusCode::CREATED, release_json(&release)),
        Err(refusal) => refusal.into(),
    }
}

/// `POST /api/releases/{name}/{version}/deployments`: 201 with the rollout's id.
pub async fn start(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let start: Start = match parse_body(&body) {
        Ok(start) => start,
        Err(refusal) => return refusal.into(),
    };
    let defaults = Strategy::default();
    let on_failure = match start.on_failure.as_deref() {
        None => defaults.on_failure,
        Some(name) => match OnFailure::parse(name) {
            Some(on_failure) => on_failure,
            None => {
                let reason = format!("{name:?} is neither \"stop\" nor \"rollback_all\"");
                return Refusal::Invalid { field: "on_failure".into(), reason }.into();
            }
        },
    };
    let (batch, failure_budget) =
        match (portion("batch", start.batch), portion("failure_budget", start.failure_budget)) {
            (Ok(batch), Ok(budget)) => (batch, budget),
            (Err(refusal), _) | (_, Err(refusal)) => return refusal.into(),
        };
    let strategy = Strategy {
        canary: start.canary.unwrap_or(defaults.canary),
        batch: batch.unwrap_or(defaults.batch),
        failure_budget: failure_budget.unwrap_or(defaults.failure_budget),
        bake: start.bake_secs.map_or(defaults.bake, Duration::from_secs),
        on_failure,
        health: start.health.map(|health| HealthRule { metric: health.metric, max: health.max }),
    };
    let request = DeploymentRequest { name, version, target: start.target, strategy };
    match platform.start_deployment(&caller.session.user, &request, now_millis()).await {
        Ok(id) => Answer::Data(StatusCode::CREATED, json!({ "id": id })),
        Err(refusal) => refusal.into(),
    }
}

/// A count of hosts or a share of them, as a number or a string (`2`, `"2"`, `"25%"`).
fn portion(field: &str, value: Option<Value>) -> Result<Option<Portion>, Refusal> {
    let invalid = |reason: String| Refusal::Invalid { field: field.to_string(), reason };
    match value {
        None => Ok(None),
        Some(Value::Number(number)) => match number.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(count) => Ok(Some(Portion::Count(count))),
            None => Err(invalid(format!("{number} is not a count of hosts"))),
        },
        Some(Value::String(text)) => text.parse().map(Some).map_err(invalid),
        Some(other) => Err(invalid(format!("{other} is neither a count nor a share like \"10%\""))),
    }
}

/// `GET /api/deployments`: the newest rollouts (`?limit=`, 50 by default, at most 1,000).
pub async fn deployments(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Query(limit): Query<Limit>,
) -> Answer {
    match platform.records.deployments(limit.limit.unwrap_or(50).min(1000)).await {
        Ok(found) => ok(found.iter().map(deployment_json).collect::<Vec<_>>()),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `GET /api/deployments/{id}`: a rollout and every host's state, step and output.
pub async fn deployment(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Answer {
    let found = match platform.records.deployment(id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Refusal::NotFound(format!("no deployment {id}")).into(),
        Err(err) => return Refusal::from(err).into(),
    };
    match platform.records.deployment_hosts(id).await {
        Ok(hosts) => ok(json!({
            "deployment": deployment_json(&found),
            "hosts": hosts.iter().map(host_json).collect::<Vec<_>>(),
        })),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `POST /api/deployments/{id}/pause`: the rollout, paused.
pub async fn pause(State(platform): State<Arc<Platform>>, caller: Caller, Path(id): Path<i64>) -> Answer {
    match platform.pause_deployment(&caller.session.user, id, now_millis()).await {
        Ok(found) => ok(deployment_json(&found)),
        Err(refusal) => refusal.into(),
    }
}

/// `POST /api/deployments/{id}/resume`: the rollout, running again.
pub async fn resume(State(platform): State<Arc<Platform>>, caller: Caller, Path(id): Path<i64>) -> Answer {
    match platform.resume_deployment(&caller.session.user, id, now_millis()).await {
        Ok(found) => ok(deployment_json(&found)),
        Err(refusal) => refusal.into(),
    }
}

/// `GET /releases/{name}/{version}/{sha256}`: the release's package, when its SHA-256 is the one
/// named; 404 otherwise.
pub async fn package(
    State(platform): State<Arc<Platform>>,
    Path((name, version, sha256)): Path<(String, String, String)>,
) -> Response {
    match platform.records.release_package(&name, &version).await {
        Ok(Some((sum, package))) if sum == sha256 => {
            ([(header::CONTENT_TYPE, "application/gzip")], package).into_response()
        }
        Ok(_) => {
            Answer::from(Refusal::NotFound(format!("no package {name}/{version}/{sha256}"))).into_response()
        }
        Err(err) => Answer::from(Refusal::from(err)).into_response(),
    }
}
