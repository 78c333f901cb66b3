//! The dashboard's releases: the list with an upload form (the package chosen as a file and sent
//! to `POST /api/releases` by the page's script, the rule it breaks shown when it is refused) and
//! the newest rollouts; a release's page with its manifest and the rollout form; and a rollout's
//! page, every host's batch, state, step and output, refreshed while it runs, with the buttons that
//! pause and resume it.

use std::fmt::Write as _;

use super::page::escape;
use crate::platform::{Platform, Refusal};
use crate::records::DeploymentState;
use crate::releases::Strategy;

/// The releases page's body: the upload form, the releases, the newest rollouts.
///
/// # Errors
///
/// The records' failure, as a [`Refusal`].
pub async fn list_section(platform: &Platform) -> Result<String, Refusal> {
    let releases = platform.records.releases().await?;
    let deployments = platform.records.deployments(20).await?;
    let mut html = String::from(
        "<form id=\"release-upload\"><h2>Upload a release</h2>\
         <label>Package (made by <code>platform pack DIR</code>) <input name=\"package\" type=\"file\" required></label>\
         <button>Upload</button><p id=\"error\" class=\"error\"></p></form><h2>Releases</h2>",
    );
    if releases.is_empty() {
        html.push_str("<p>No releases yet.</p>");
    } else {
        html.push_str("<table id=\"releases\"><tr><th>Service</th><th>Version</th><th>SHA-256</th><th>Size</th><th>Uploaded</th></tr>");
        for release in &releases {
            let _ = write!(
                html,
                "<tr><td>{name}</td><td><a href=\"/releases/{name}/{version}\">{version}</a></td><td><code>{sha}…</code></td>\
                 <td>{size} bytes</td><td>{by}, {at}</td></tr>",
                name = escape(&release.name),
                version = escape(&release.version),
                sha = &release.sha256[..12.min(release.sha256.len())],
                size = release.size,
                by = escape(&release.uploaded_by),
                at = monitor::web::svg::clock(release.uploaded),
            );
        }
        html.push_str("</table>");
    }
    html.push_str("<h2>Rollouts</h2>");
    if deployments.is_empty() {
        html.push_str("<p>No rollouts yet.</p>");
        return Ok(html);
    }
    html.push_str("<table id=\"deployments\"><tr><th>Rollout</th><th>Release</th><th>Target</th><th>By</th><th>State</th><th>Started</th></tr>");
    for deployment in &deployments {
        let _ = write!(
            html,
            "<tr><td><a href=\"/deployments/{id}\">{id}</a></td><td>{name} {version}</td><td><code>{target}</code></td>\
             <td>{user}</td><td class=\"{class}\">{state}</td><td>{at}</td></tr>",
            id = deployment.id,
            name = escape(&deployment.name),
            version = escape(&deployment.version),
            target = escape(&deployment.target),
            user = escape(&deployment.user),
            class = state_class(deployment.state),
            state = deployment.state.as_str(),
            at = monitor::web::svg::clock(deployment.started),
        );
    }
    html.push_str("</table>");
    Ok(html)
}

/// A release's page: its manifest and the rollout form.
///
/// # Errors
///
/// [`Refusal::NotFound`] for no such release, or the records' failure.
pub async fn release_section(platform: &Platform, name: &str, version: &str) -> Result<String, Refusal> {
    let release = platform.records.release(name, version).await?;
    let release = release.ok_or_else(|| Refusal::NotFound(format!("no release {name} {version}")))?;
    Ok(format!(
        "<h2>{name} {version}</h2><p>SHA-256 <code>{sha}</code>, {size} bytes, uploaded by {by}, {at}.</p>\
         <form id=\"deploy\" data-name=\"{name}\" data-version=\"{version}\"><h3>Roll out to hosts</h3>\
         <label>Target <input name=\"target\" value=\"*\" required></label>\
         <label>Canary hosts <input name=\"canary\" type=\"number\" min=\"0\" value=\"1\"></label>\
         <label>Batch (hosts, or a share like 10%) <input name=\"batch\" value=\"25%\"></label>\
         <label>Failure budget (hosts, or a share) <input name=\"failure_budget\" value=\"0\"></label>\
         <label>Bake, seconds <input name=\"bake_secs\" type=\"number\" min=\"0\" value=\"0\"></label>\
         <label>On failure <select name=\"on_failure\"><option value=\"stop\">put the batch back, stop</option>\
         <option value=\"rollback_all\">put every host back</option></select></label>\
         <label>Health metric (optional) <input name=\"health_metric\" placeholder=\"hello.errors\"></label>\
         <label>Its most <input name=\"health_max\" type=\"number\" step=\"any\"></label>\
         <button>Roll out</button><p id=\"error\" class=\"error\"></p></form><h3>Manifest</h3><pre>{manifest}</pre>",
        name = escape(&release.name),
        version = escape(&release.version),
        sha = escape(&release.sha256),
        size = release.size,
        by = escape(&release.uploaded_by),
        at = monitor::web::svg::clock(release.uploaded),
        manifest = escape(&release.manifest),
    ))
}

/// A rollout's page: where it stands, then every host by batch.
///
/// # Errors
///
/// [`Refusal::NotFound`] for no such rollout, or the records' failure.
pub async fn deployment_section(platform: &Platform, id: i64) -> Result<String, Refusal> {
    let deployment = platform.records.deployment(id).await?;
    let deployment = deployment.ok_or_else(|| Refusal::NotFound(format!("no deployment {id}")))?;
    let hosts = platform.records.deployment_hosts(id).await?;
    let batches = hosts.iter().map(|host| host.batch).max().map_or(0, |last| last + 1);
    let canary = Strategy::from_json(&deployment.strategy).is_some_and(|strategy| strategy.canary > 0);
    let done = hosts.iter().filter(|host| host.state == "done").count();
    let mut html = format!(
        "<h2>Rollout {id}: {name} {version}</h2><p id=\"state\" data-state=\"{state}\" class=\"{class}\">{state}: \
         batch {batch} of {batches}, {done} of {count} hosts done. {detail}</p>\
         <p>By {user} on <code>{target}</code>: {strategy}.</p>",
        name = escape(&deployment.name),
        version = escape(&deployment.version),
        state = deployment.state.as_str(),
        class = state_class(deployment.state),
        batch = (deployment.batch + 1).min(batches),
        count = hosts.len(),
        detail = escape(&deployment.detail),
        user = escape(&deployment.user),
        target = escape(&deployment.target),
        strategy = escape(&describe(&deployment.strategy)),
    );
    match deployment.state {
        DeploymentState::Running => {
            let _ = write!(
                html,
                "<button class=\"deployment\" data-id=\"{id}\" data-action=\"pause\">Pause</button>"
            );
        }
        DeploymentState::Paused => {
            let _ = write!(
                html,
                "<button class=\"deployment\" data-id=\"{id}\" data-action=\"resume\">Resume</button>"
            );
        }
        _ => {}
    }
    html.push_str("<p id=\"error\" class=\"error\"></p>");
    if !deployment.state.is_final() {
        // The page refreshes itself until the rollout has ended.
        html.push_str("<script>setTimeout(() => location.reload(), 1000)</script>");
    }
    html.push_str(
        "<table id=\"deployment-hosts\"><tr><th>Batch</th><th>Host</th><th>State</th><th>Step</th><th>Was</th><th>Output</th></tr>",
    );
    for host in &hosts {
        let class = match host.state.as_str() {
            "done" | "rolled_back" => "ok",
            "failed" | "lost" | "unhealthy" => "bad",
            _ => "",
        };
        let _ = write!(
            html,
            "<tr data-host=\"{name}\" data-state=\"{state}\"><td>{batch}</td><td>{name}</td><td class=\"{class}\">{state}</td>\
             <td>{step}</td><td>{previous}</td><td>{output}</td></tr>",
            batch = if host.batch == 0 && canary {
                "1 (canary)".to_string()
            } else {
                (host.batch + 1).to_string()
            },
            name = escape(&host.host),
            state = escape(&host.state),
            step = escape(&host.step),
            previous = escape(host.previous.as_deref().unwrap_or("")),
            output = if host.output.is_empty() {
                String::new()
            } else {
                let lines = host.output.lines().count();
                format!(
                    "<details><summary>{lines} line{}</summary><pre>{}</pre></details>",
                    if lines == 1 { "" } else { "s" },
                    escape(&host.output)
                )
            },
        );
    }
    html.push_str("</table>");
    Ok(html)
}

/// A rollout's strategy in words: `a canary of 1, then batches of 25%, …`.
fn describe(strategy: &str) -> String {
    let Some(strategy) = Strategy::from_json(strategy) else { return strategy.to_string() };
    let mut words = format!(
        "a canary of {}, then batches of {}; {} may fail; a bake of {} s",
        strategy.canary,
        strategy.batch,
        strategy.failure_budget,
        strategy.bake.as_secs()
    );
    if let Some(rule) = &strategy.health {
        words.push_str(&format!(", watching {} at most {}", rule.metric, rule.max));
    }
    words.push_str(match strategy.on_failure {
        crate::releases::OnFailure::Stop => "; a failed batch is put back",
        crate::releases::OnFailure::RollBackAll => "; a failure puts every host back",
    });
    words
}

/// The style class of a rollout's state.
fn state_class(state: DeploymentState) -> &'static str {
    match state {
        DeploymentState::Succeeded => "ok",
        DeploymentState::Failed | DeploymentState::RolledBack => "bad",
        DeploymentState::Running | DeploymentState::Paused => "",
    }
}
