//! The dashboard: pages over the same platform the API serves, rendered on the server from what
//! the caller may see. A page needs a session (without one it sends the browser to `/login`);
//! its forms go to the API with the session's CSRF token, so every rule the API keeps, the
//! dashboard keeps too.
//!
//! | page | |
//! |---|---|
//! | `/login` | the login form |
//! | `/hosts` | the hosts, their tags, whether connected |
//! | `/hosts/{name}?range=1h` | a host: its tags, its firing alerts, a graph of each of its series |
//! | `/alerts` | the firing alerts, the rules, the silences |
//! | `/scripts`, `/scripts/{name}` | the monitoring scripts and the upload form; a script's versions |
//! | `/releases`, `/releases/{name}/{version}` | the releases, the upload form and the newest rollouts; a release with the rollout form |
//! | `/deployments/{id}` | a rollout and every host's batch, state and step, refreshed while it runs |
//! | `/runs` | the command form and the newest runs |
//! | `/runs/{id}` | a run and every host's result, refreshed while it runs |

pub mod monitoring;
pub mod page;
pub mod releases;
pub mod scripts;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::api::runs::{RunView, view};
use crate::api::{SESSION_COOKIE, caller::cookie};
use crate::auth::Session;
use crate::now_millis;
use crate::platform::{Platform, Refusal};
use monitor::web::dashboard::url_encode;
use page::{Bar, escape, page};

/// The dashboard's routes over `platform`.
pub fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/hosts") }))
        .route("/login", get(login))
        .route("/hosts", get(hosts))
        .route("/hosts/{name}", get(host))
        .route("/runs", get(runs))
        .route("/runs/{id}", get(run))
        .route("/alerts", get(alerts))
        .route("/scripts", get(scripts_page))
        .route("/scripts/{name}", get(script_page))
        .route("/releases", get(releases_page))
        .route("/releases/{name}/{version}", get(release_page))
        .route("/deployments/{id}", get(deployment_page))
        .with_state(platform)
}

/// Who is looking, and which server answers.
struct Viewer {
    session: Session,
    /// This server and its fencing token, when it leads under a lease (stage 5): `b · token 8`.
    served_by: Option<String>,
}

impl std::ops::Deref for Viewer {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

/// The caller's session, or the redirect to the login page.
async fn viewer(platform: &Platform, headers: &HeaderMap) -> Result<Viewer, Response> {
    let token = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    let session =
        platform.session(&token, now_millis()).await.map_err(|_| Redirect::to("/login").into_response())?;
    // The records' leader is this server when its fence holds the leader's token.
    let served_by = match platform.records.fence() {
        Some(token) => platform
            .records
            .leader()
            .await
            .ok()
            .flatten()
            .filter(|leader| leader.token == token)
            .map(|leader| format!("{} · token {}", leader.holder, leader.token)),
        None => None,
    };
    Ok(Viewer { session, served_by })
}

/// A page for `viewer`.
fn framed(title: &str, viewer: &Viewer, body: &str) -> Response {
    let bar = Bar { user: &viewer.user, csrf: &viewer.csrf, served_by: viewer.served_by.as_deref() };
    Html(page(title, Some(bar), body)).into_response()
}

/// A page saying what went wrong.
fn failed(viewer: &Viewer, refusal: &Refusal) -> Response {
    framed("Error", viewer, &format!("<p class=\"error\">{}</p>", escape(&refusal.to_string())))
}

async fn login() -> Html<String> {
    Html(page(
        "Log in",
        None,
        "<form id=\"login\"><h2>Log in</h2><label>User <input name=\"user\" autocomplete=\"username\" required></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button>Log in</button><p id=\"error\" class=\"error\"></p></form>",
    ))
}

async fn hosts(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    let fleet = match platform.directory.fleet().await {
        Ok(fleet) => fleet,
        Err(err) => return failed(&session, &err.into()),
    };
    let hosts = &fleet.hosts;
    let mut body = format!(
        "<h2>Hosts</h2><p>{} hosts, {} connected.</p><table id=\"hosts\">",
        hosts.len(),
        fleet.connected
    );
    body.push_str("<tr><th>Host</th><th>Tags</th><th>Agent</th></tr>");
    for host in hosts {
        let tags: Vec<String> = host.tags.iter().map(|(k, v)| escape(&format!("{k}={v}"))).collect();
        let (class, state) = if host.connected { ("ok", "connected") } else { ("bad", "away") };
        body.push_str(&format!(
            "<tr><td><a href=\"/hosts/{link}\">{name}</a></td><td>{tags}</td><td class=\"{class}\">{state}</td></tr>",
            link = url_encode(&host.name),
            name = escape(&host.name),
            tags = tags.join(" "),
        ));
    }
    body.push_str("</table>");
    framed("Hosts", &session, &body)
}

async fn host(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    let found = match platform.directory.fleet().await {
        Ok(fleet) => fleet.host(&name).cloned(),
        Err(err) => return failed(&session, &err.into()),
    };
    let Some(host) = found else { return failed(&session, &Refusal::NotFound(format!("no host {name:?}"))) };
    let tags: Vec<String> =
        host.tags.iter().map(|(k, v)| format!("<li>{}</li>", escape(&format!("{k}={v}")))).collect();
    let body = format!(
        "<h2>{name}</h2><p>Agent: {state}</p><h3>Tags</h3><ul>{tags}</ul>{monitoring}",
        name = escape(&host.name),
        state = if host.connected { "connected" } else { "away" },
        tags = tags.join(""),
        monitoring = monitoring::host_section(&platform, &host.name, params.get("range").map(String::as_str)),
    );
    framed(&host.name, &session, &body)
}

async fn alerts(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    framed("Alerts", &session, &monitoring::alerts_section(&platform).await)
}

async fn runs(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    let runs = match platform.records.runs(50).await {
        Ok(runs) => runs,
        Err(err) => return failed(&session, &err.into()),
    };
    let mut body = String::from(
        "<form id=\"run\"><h2>Run a command</h2><label>Target <input name=\"target\" placeholder=\"tag:dc=bj\" required></label>\
         <label>Program <input name=\"program\" placeholder=\"/bin/echo\" required></label>\
         <label>Arguments <input name=\"args\" placeholder=\"hello\"></label><button>Run</button>\
         <p id=\"error\" class=\"error\"></p></form><h2>Runs</h2><table id=\"runs\">\
         <tr><th>Run</th><th>User</th><th>Target</th><th>Command</th><th>State</th><th>Results</th></tr>",
    );
    for run in &runs {
        body.push_str(&format!(
            "<tr><td><a href=\"/runs/{id}\">{id}</a></td><td>{user}</td><td>{target}</td><td>{command}</td><td>{state}</td><td>{results}/{hosts}</td></tr>",
            id = run.id,
            user = escape(&run.user),
            target = escape(&run.target),
            command = escape(&run.command.join(" ")),
            state = run.state.as_str(),
            results = run.results,
            hosts = run.hosts,
        ));
    }
    body.push_str("</table>");
    framed("Runs", &session, &body)
}

async fn run(State(platform): State<Arc<Platform>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    let RunView { run, results, missing } = match view(&platform, &id).await {
        Ok(view) => view,
        Err(refusal) => return failed(&session, &refusal),
    };
    let mut body = format!(
        "<h2>Run {number}</h2><p id=\"state\" data-state=\"{state}\">{state}: {results} of {hosts} hosts, by {user}, \
         on <code>{target}</code>: <code>{command}</code></p>",
        number = run.id,
        state = run.state.as_str(),
        results = run.results,
        hosts = run.hosts,
        user = escape(&run.user),
        target = escape(&run.target),
        command = escape(&run.command.join(" ")),
    );
    if run.state == crate::records::RunState::Running {
        // The page refreshes itself until the run has ended.
        body.push_str("<script>setTimeout(() => location.reload(), 1000)</script>");
    }
    body.push_str("<table id=\"results\"><tr><th>Host</th><th>Status</th><th>Exit</th><th>Output</th></tr>");
    for result in &results {
        let class = if result.status == "done" { "ok" } else { "bad" };
        body.push_str(&format!(
            "<tr><td>{host}</td><td class=\"{class}\">{status}</td><td>{exit}</td><td><pre>{output}</pre></td></tr>",
            host = escape(&result.host),
            status = escape(&result.status),
            exit = result.exit_code.map(|code| code.to_string()).unwrap_or_default(),
            output = escape(&result.output),
        ));
    }
    for host in &missing {
        body.push_str(&format!("<tr><td>{}</td><td>waiting</td><td></td><td></td></tr>", escape(host)));
    }
    body.push_str("</table>");
    framed(&format!("Run {}", run.id), &session, &body)
}

async fn scripts_page(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    match scripts::list_section(&platform).await {
        Ok(body) => framed("Scripts", &session, &body),
        Err(refusal) => failed(&session, &refusal),
    }
}

async fn script_page(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    match scripts::script_section(&platform, &name).await {
        Ok(body) => framed(&name, &session, &body),
        Err(refusal) => failed(&session, &refusal),
    }
}

async fn releases_page(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    match releases::list_section(&platform).await {
        Ok(body) => framed("Releases", &session, &body),
        Err(refusal) => failed(&session, &refusal),
    }
}

async fn release_page(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    match releases::release_section(&platform, &name, &version).await {
        Ok(body) => framed(&format!("{name} {version}"), &session, &body),
        Err(refusal) => failed(&session, &refusal),
    }
}

async fn deployment_page(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let session = match viewer(&platform, &headers).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    match releases::deployment_section(&platform, id).await {
        Ok(body) => framed(&format!("Rollout {id}"), &session, &body),
        Err(refusal) => failed(&session, &refusal),
    }
}
