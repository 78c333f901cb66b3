//! Monitoring scripts: uploaded as a package (the manifest, and the script in base64), checked
//! against the monitoring-script standard before anything is stored ([`crate::scripts`]), listed
//! with their versions, and a version made the one the hosts run.
//!
//! | route | who | |
//! |---|---|---|
//! | `GET /api/scripts`, `GET /api/scripts/{name}` | the logged-in | scripts; one script's versions |
//! | `POST /api/scripts` | admins | a package uploaded: 201 with its name, version and SHA-256 |
//! | `PUT /api/scripts/{name}/active` | admins | `{"version": N}` marked as the one the hosts run |
//! | `POST /api/scripts/{name}/rollouts` | admins | `{"version": N, "target": "tag:role=web"}` sent to the target's hosts: 201 with the run that installs it |
//! | `GET /packages/{name}/{version}/{sha256}` | anyone | a version's script, for the hosts' installer |
//!
//! A request larger than [`MAX_UPLOAD_BYTES`] is refused with 413 before it is read whole.
//!
//! The package route takes no session: hosts have none. It answers only for the SHA-256 of the
//! version asked for, which the signed command that starts the installer names, and the installer
//! checks what it gets against it: the hash is what a host trusts, not the route.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Caller, ok, parse_body};
use crate::now_millis;
use crate::platform::{Platform, Refusal};
use crate::records::{Script, ScriptVersion};

/// The largest upload request: a script of the largest size, in base64, with room for its
/// manifest.
pub const MAX_UPLOAD_BYTES: usize = crate::scripts::MAX_SCRIPT_BYTES * 4 / 3 + 64 * 1024;

/// A package, as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Package {
    manifest: String,
    /// The script, in standard base64.
    script: String,
}

/// The version to make active.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Activation {
    version: i64,
}

/// A version sent to a target.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolloutRequest {
    version: i64,
    target: String,
}

/// `GET /api/scripts`: every script, its newest version and the one its hosts run.
pub async fn list(State(platform): State<Arc<Platform>>, _caller: Caller) -> Answer {
    match platform.records.scripts().await {
        Ok(scripts) => ok(scripts
            .iter()
            .map(|s| json!({ "name": s.name, "latest": s.latest, "active": s.active }))
            .collect::<Vec<_>>()),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `GET /api/scripts/{name}`: a script's versions, newest first, with their manifests (not their
/// scripts).
pub async fn one(State(platform): State<Arc<Platform>>, _caller: Caller, Path(name): Path<String>) -> Answer {
    match view(&platform, &name).await {
        Ok(ScriptView { script, versions }) => {
            let versions: Vec<_> = versions
                .iter()
                .map(|v| {
                    json!({
                        "version": v.version, "manifest": v.manifest, "sha256": v.sha256,
                        "bytes": v.body.len(), "uploaded_by": v.uploaded_by, "uploaded": v.uploaded,
                    })
                })
                .collect();
            ok(
                json!({ "name": script.name, "latest": script.latest, "active": script.active, "versions": versions }),
            )
        }
        Err(refusal) => refusal.into(),
    }
}

/// A script with its versions, newest first: what the API's `GET /api/scripts/{name}` and the
/// dashboard's script page both show.
pub struct ScriptView {
    /// The script: its newest version and the active one.
    pub script: Script,
    /// Its versions, newest first.
    pub versions: Vec<ScriptVersion>,
}

/// The script called `name`, or why there is none to show.
pub async fn view(platform: &Platform, name: &str) -> Result<ScriptView, Refusal> {
    let script = platform.records.scripts().await?.into_iter().find(|script| script.name == name);
    let script = script.ok_or_else(|| Refusal::NotFound(format!("no script {name:?}")))?;
    let mut versions = Vec::new();
    for number in platform.records.script_versions(name).await?.into_iter().rev() {
        versions.extend(platform.records.script_version(name, number).await?);
    }
    Ok(ScriptView { script, versions })
}

/// `POST /api/scripts`: 201 with the version stored, or 400 naming the rule of the standard the
/// package breaks.
pub async fn upload(State(platform): State<Arc<Platform>>, caller: Caller, body: Bytes) -> Answer {
    let package: Package = match parse_body(&body) {
        Ok(package) => package,
        Err(refusal) => return refusal.into(),
    };
    let Ok(script) = base64::engine::general_purpose::STANDARD.decode(package.script.as_bytes()) else {
        return Refusal::Invalid { field: "script".into(), reason: "is not base64".into() }.into();
    };
    match platform.upload_script(&caller.session.user, &package.manifest, &script, now_millis()).await {
        Ok(published) => Answer::Data(
            StatusCode::CREATED,
            json!({ "name": published.name, "version": published.version, "sha256": published.sha256 }),
        ),
        Err(refusal) => refusal.into(),
    }
}

/// `PUT /api/scripts/{name}/active`: the script as it then stands.
pub async fn activate(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let activation: Activation = match parse_body(&body) {
        Ok(activation) => activation,
        Err(refusal) => return refusal.into(),
    };
    match platform.activate_script(&caller.session.user, &name, activation.version, now_millis()).await {
        Ok(script) => ok(json!({ "name": script.name, "latest": script.latest, "active": script.active })),
        Err(refusal) => refusal.into(),
    }
}

/// `POST /api/scripts/{name}/rollouts`: 201 with the run that installs the version on the
/// target's hosts, and the script as it then stands.
pub async fn rollout(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let request: RolloutRequest = match parse_body(&body) {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    let user = &caller.session.user;
    match platform.rollout_script(user, &name, request.version, &request.target, now_millis()).await {
        Ok(rollout) => Answer::Data(
            StatusCode::CREATED,
            json!({ "run": rollout.run, "name": rollout.script.name, "active": rollout.script.active }),
        ),
        Err(refusal) => refusal.into(),
    }
}

/// `GET /packages/{name}/{version}/{sha256}`: the version's script, when its SHA-256 is the one
/// named; 404 otherwise.
pub async fn package(
    State(platform): State<Arc<Platform>>,
    Path((name, version, sha256)): Path<(String, i64, String)>,
) -> Response {
    match platform.records.script_version(&name, version).await {
        Ok(Some(found)) if found.sha256 == sha256 => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], found.body).into_response()
        }
        Ok(_) => {
            Answer::from(Refusal::NotFound(format!("no package {name}/{version}/{sha256}"))).into_response()
        }
        Err(err) => Answer::from(Refusal::from(err)).into_response(),
    }
}
