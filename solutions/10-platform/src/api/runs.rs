//! `POST /api/runs` starts a command, as the caller's role allows; `GET /api/runs` and
//! `GET /api/runs/{id}` show runs and every host's result.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use control::master::Portion;
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Caller, ok, parse_body};
use crate::commands::RunRequest;
use crate::now_millis;
use crate::platform::{Platform, Refusal};
use crate::records::{HostResult, Run};

/// A command, as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRunBody {
    target: String,
    program: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    batch: Option<Portion>,
    #[serde(default = "default_timeout")]
    timeout_secs: u64,
}

fn default_timeout() -> u64 {
    60
}

/// `POST /api/runs`: 201 with the run's id, or the reason it was refused.
pub async fn start(State(platform): State<Arc<Platform>>, caller: Caller, body: Bytes) -> Answer {
    let body: NewRunBody = match parse_body(&body) {
        Ok(body) => body,
        Err(refusal) => return refusal.into(),
    };
    let request = RunRequest {
        target: body.target,
        program: body.program,
        args: body.args,
        batch: body.batch,
        timeout: Duration::from_secs(body.timeout_secs),
        link: None,
    };
    match platform.run(&caller.session.user, &request, now_millis()).await {
        Ok(run) => Answer::Data(StatusCode::CREATED, json!({ "run": run })),
        Err(refusal) => refusal.into(),
    }
}

/// How many runs to list.
#[derive(Debug, Deserialize)]
pub struct Listing {
    limit: Option<u32>,
}

/// `GET /api/runs?limit=N`: the newest runs first (50 unless asked).
pub async fn list(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Query(listing): Query<Listing>,
) -> Answer {
    let limit = listing.limit.unwrap_or(50).clamp(1, 1000);
    match platform.records.runs(limit).await {
        Ok(runs) => ok(runs.iter().map(run_json).collect::<Vec<_>>()),
        Err(err) => Refusal::from(err).into(),
    }
}

/// `GET /api/runs/{id}`: a run, each host's result, and the hosts with none yet.
pub async fn one(State(platform): State<Arc<Platform>>, _caller: Caller, Path(id): Path<String>) -> Answer {
    match view(&platform, &id).await {
        Ok(view) => {
            let results: Vec<_> = view
                .results
                .iter()
                .map(|r| json!({ "host": r.host, "status": r.status, "exit_code": r.exit_code, "output": r.output, "ended": r.ended }))
                .collect();
            ok(json!({ "run": run_json(&view.run), "results": results, "missing": view.missing }))
        }
        Err(refusal) => refusal.into(),
    }
}

/// A run with every host's result and the hosts with none yet: what the API's
/// `GET /api/runs/{id}` and the dashboard's run page both show.
pub struct RunView {
    /// The run as recorded.
    pub run: Run,
    /// Each host's result so far.
    pub results: Vec<HostResult>,
    /// The hosts the run was sent to that have no result yet.
    pub missing: Vec<String>,
}

/// The run numbered `id` (as written in the path), or why there is none to show.
pub async fn view(platform: &Platform, id: &str) -> Result<RunView, Refusal> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(Refusal::Invalid { field: "id".into(), reason: format!("{id:?} is not a run number") });
    };
    let run = platform.records.run(id).await?.ok_or_else(|| Refusal::NotFound(format!("no run {id}")))?;
    let results = platform.records.results(id).await?;
    let missing = platform.records.missing_hosts(id).await?;
    Ok(RunView { run, results, missing })
}

/// A run as JSON.
fn run_json(run: &Run) -> serde_json::Value {
    json!({
        "id": run.id,
        "user": run.user,
        "target": run.target,
        "command": run.command,
        "started": run.started,
        "ended": run.ended,
        "state": run.state.as_str(),
        "hosts": run.hosts,
        "results": run.results,
    })
}
