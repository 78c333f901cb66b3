//! A release rolled out, batch by batch: the platform's side. A rollout ("deployment" in the
//! records and the API) is recorded with its hosts in batches before anything is sent; then a
//! driver takes one batch at a time: the deploy routine started on its hosts as a run of the
//! platform's own program (a signed command like any other, allowed by the user's role, each
//! host's result recorded), each host's outcome and step read from what it printed, a bake, and
//! the failure budget. Past the budget, the batch's hosts that took the release are put back to
//! the version each ran before (every host the rollout changed, when the strategy says so) and the
//! rollout stops. A host that vanishes mid-step is `lost`: counted as failed, never as done.
//!
//! Everything the driver decides is in the records first: the batch in hand, each run and its
//! batch (before the command is sent), each host's state. A platform restarted mid-rollout takes
//! it up where it stood ([`Platform::recover_deployments`]): a run already sent is followed, never
//! sent again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use control::target::MAX_LEN;
use monitor::store::RangeQuery;

use super::deploy::Step;
use super::{Strategy, plan_batches};
use crate::commands::{RunRequest, check_target};
use crate::platform::{Platform, Refusal, invalid};
use crate::records::{
    Deployment, DeploymentHost, DeploymentState, HostResult, HostUpdate, Millis, NewDeployment, Release,
    RunLink, RunPurpose, RunState,
};
use crate::scripts::Distribution;

/// How often a driver looks at a run it waits for, or at a paused rollout.
pub const POLL: Duration = Duration::from_millis(20);

/// How long a rollout taken up by a platform that has just started (or taken over from a leader
/// that died) waits for a batch's hosts to connect before it starts them: their agents reconnect
/// to the new master with a backoff, and a host sent nothing because it had not yet reconnected
/// would fail for no fault of its own.
pub const RECONNECT_GRACE: Duration = Duration::from_secs(15);

/// The longest target a run of a rollout is sent with: its hosts' names, comma-separated (lab
/// 09's targets are at most [`MAX_LEN`], and the signed target adds the role's).
const MAX_TARGET: usize = MAX_LEN / 2;

/// A rollout as a user asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRequest {
    /// The service.
    pub name: String,
    /// The version.
    pub version: String,
    /// Which hosts: a target expression.
    pub target: String,
    /// How.
    pub strategy: Strategy,
}

impl Distribution {
    /// The command that runs the deploy routine for `release` on the hosts of `target`:
    /// `INSTALLER deploy --from URL --dir DIR --name NAME --version V --sha256 HEX`, where URL is
    /// the package's route, `/releases/{name}/{version}/{sha256}`.
    pub fn deploy_request(&self, release: &Release, target: &str, timeout: Duration) -> RunRequest {
        let from = format!(
            "{}/releases/{}/{}/{}",
            self.url.trim_end_matches('/'),
            release.name,
            release.version,
            release.sha256
        );
        let args = [
            "deploy",
            "--from",
            &from,
            "--dir",
            &self.releases_dir.to_string_lossy(),
            "--name",
            &release.name,
            "--version",
            &release.version,
            "--sha256",
            &release.sha256,
        ];
        RunRequest {
            target: target.to_string(),
            program: self.installer.to_string_lossy().into_owned(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            batch: None,
            timeout,
            link: None,
        }
    }
}

impl Platform {
    /// Starts rolling `request`'s release out to the hosts of its target, for `user`, who must
    /// manage the platform: the rollout's id, at once; its driver goes on in the background.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`] for no such release, [`Refusal::Conflict`] while
    /// another rollout of the service is running or paused, [`Refusal::Invalid`] for a target that
    /// does not parse or names no host (`target`) or a bad strategy (`bake_secs`, `health`),
    /// [`Refusal::NoControl`] without a control master or a distribution,
    /// [`Refusal::NoMonitoring`] for a health rule without monitoring.
    pub async fn start_deployment(
        self: &Arc<Self>,
        user: &str,
        request: &DeploymentRequest,
        now: Millis,
    ) -> Result<i64, Refusal> {
        let what = format!("{} {}", request.name, request.version);
        self.require_admin(user, "deployment", &what, now).await?;
        let commands = self.commands.as_ref().ok_or(Refusal::NoControl)?;
        self.distribution.as_ref().ok_or(Refusal::NoControl)?;
        let release = self.records.release(&request.name, &request.version).await?;
        let release = release.ok_or_else(|| Refusal::NotFound(format!("no release {what}")))?;
        // One rollout of a service at a time: two would race host by host, each putting back
        // what the other did.
        let unfinished = self.records.unfinished_deployments().await?;
        if let Some(running) = unfinished.iter().find(|deployment| deployment.name == request.name) {
            return Err(Refusal::Conflict(format!(
                "deployment {} of {} {} is {}: resume it to its end first",
                running.id,
                running.name,
                running.version,
                running.state.as_str()
            )));
        }
        let target = check_target(&request.target).map_err(|reason| invalid("target", reason))?;
        // The hosts the records know and those connected now, in name order: the rollout's order.
        let mut hosts: BTreeMap<String, BTreeMap<String, String>> =
            self.records.hosts().await?.into_iter().map(|host| (host.name, host.tags)).collect();
        hosts.extend(commands.connected());
        let named: Vec<String> = hosts
            .iter()
            .filter(|(host, tags)| target.matches(host, tags))
            .map(|(host, _)| host.clone())
            .collect();
        if named.is_empty() {
            return Err(invalid("target", "names no host"));
        }
        let strategy = &request.strategy;
        if strategy.bake > Duration::from_secs(24 * 3600) {
            return Err(invalid("bake_secs", "is over a day"));
        }
        if let Some(rule) = &strategy.health {
            if self.monitoring.is_none() {
                return Err(Refusal::NoMonitoring);
            }
            if rule.metric.is_empty() || !rule.max.is_finite() {
                return Err(invalid("health", "needs a metric and a finite max"));
            }
            if strategy.bake.is_zero() {
                return Err(invalid("bake_secs", "is 0: monitoring needs a bake to watch the batch over"));
            }
        }
        let new = NewDeployment {
            release_id: release.id,
            user: user.to_string(),
            target: request.target.clone(),
            strategy: strategy.to_json(),
            batches: plan_batches(&named, strategy.canary, strategy.batch),
            started: now,
        };
        let id = self.records.start_deployment(&new).await?;
        let detail = format!("deployment {id}: {} hosts in {} batches", named.len(), new.batches.len());
        self.audit(now, user, "deployment", &what, "allowed", &detail).await;
        tokio::spawn(drive(Arc::clone(self), id, None));
        Ok(id)
    }

    /// Pauses rollout `id` once its batch in hand is done, for `user`, who must manage the
    /// platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`], [`Refusal::Conflict`] when it is not running.
    pub async fn pause_deployment(&self, user: &str, id: i64, now: Millis) -> Result<Deployment, Refusal> {
        self.change_deployment(user, id, DeploymentState::Running, DeploymentState::Paused, now).await
    }

    /// Resumes rollout `id`, paused, for `user`, who must manage the platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`], [`Refusal::Conflict`] when it is not paused.
    pub async fn resume_deployment(&self, user: &str, id: i64, now: Millis) -> Result<Deployment, Refusal> {
        self.change_deployment(user, id, DeploymentState::Paused, DeploymentState::Running, now).await
    }

    async fn change_deployment(
        &self,
        user: &str,
        id: i64,
        from: DeploymentState,
        to: DeploymentState,
        now: Millis,
    ) -> Result<Deployment, Refusal> {
        let action = if to == DeploymentState::Paused { "deployment.pause" } else { "deployment.resume" };
        self.require_admin(user, action, &id.to_string(), now).await?;
        let detail =
            format!("{} by {user}", if to == DeploymentState::Paused { "paused" } else { "resumed" });
        if !self.records.set_deployment_state(id, &[from], to, &detail, now).await? {
            let found = self.records.deployment(id).await?;
            let found = found.ok_or_else(|| Refusal::NotFound(format!("no deployment {id}")))?;
            return Err(Refusal::Conflict(format!(
                "deployment {id} is {}, not {}",
                found.state.as_str(),
                from.as_str()
            )));
        }
        self.audit(now, user, action, &id.to_string(), "allowed", "").await;
        let found = self.records.deployment(id).await?;
        found.ok_or_else(|| Refusal::NotFound(format!("no deployment {id}")))
    }

    /// Takes up the rollouts a stopped platform (or a leader that died) left running or paused: a
    /// driver for each, from the batch it stood at, whose batches wait up to [`RECONNECT_GRACE`]
    /// for their hosts to reconnect. How many.
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] when the records cannot be read.
    pub async fn recover_deployments(self: &Arc<Self>) -> Result<usize, Refusal> {
        let unfinished = self.records.unfinished_deployments().await?;
        let reconnect_until = tokio::time::Instant::now() + RECONNECT_GRACE;
        for deployment in &unfinished {
            tokio::spawn(drive(Arc::clone(self), deployment.id, Some(reconnect_until)));
        }
        Ok(unfinished.len())
    }
}

/// Drives rollout `id` to its end, or until the platform stops; until `reconnect_until`, a batch
/// waits for its hosts to connect before it starts.
async fn drive(platform: Arc<Platform>, id: i64, reconnect_until: Option<tokio::time::Instant>) {
    let Some(stopping) = platform.commands.as_ref().map(|commands| commands.stopping()) else { return };
    tokio::select! {
        () = stopping.cancelled() => {}
        ended = drive_batches(&platform, id, reconnect_until) => match ended {
            Ok(state) => tracing::info!(deployment = id, state = state.as_str(), "deployment ended"),
            Err(refusal) => tracing::error!(deployment = id, cause = %refusal, "deployment driver stopped"),
        },
    }
}

/// Takes rollout `id` batch by batch; its final state.
async fn drive_batches(
    platform: &Platform,
    id: i64,
    reconnect_until: Option<tokio::time::Instant>,
) -> Result<DeploymentState, Refusal> {
    loop {
        let deployment = platform.records.deployment(id).await?;
        let deployment = deployment.ok_or_else(|| Refusal::NotFound(format!("no deployment {id}")))?;
        match deployment.state {
            DeploymentState::Running => {}
            DeploymentState::Paused => {
                tokio::time::sleep(POLL * 5).await;
                continue;
            }
            done => return Ok(done),
        }
        let strategy = Strategy::from_json(&deployment.strategy)
            .ok_or_else(|| Refusal::Internal(format!("deployment {id}: a strategy that does not parse")))?;
        let hosts = platform.records.deployment_hosts(id).await?;
        let batch: Vec<String> = hosts
            .iter()
            .filter(|host| host.batch == deployment.batch)
            .map(|host| host.host.clone())
            .collect();
        if batch.is_empty() {
            let detail = format!("every host has {} {}", deployment.name, deployment.version);
            platform
                .records
                .set_deployment_state(
                    id,
                    &[DeploymentState::Running],
                    DeploymentState::Succeeded,
                    &detail,
                    crate::now_millis(),
                )
                .await?;
            continue;
        }
        deploy_batch(platform, &deployment, &hosts, reconnect_until).await?;
        if !strategy.bake.is_zero() {
            tokio::time::sleep(strategy.bake).await;
        }
        if let Some(rule) = &strategy.health {
            watch_health(platform, &deployment, rule).await?;
        }
        let hosts = platform.records.deployment_hosts(id).await?;
        let failed: Vec<&DeploymentHost> = hosts.iter().filter(|host| is_failure(&host.state)).collect();
        let budget = strategy.failure_budget.of(hosts.len());
        if failed.len() > budget {
            return stop(platform, &deployment, &strategy, &hosts, &failed, budget).await;
        }
        platform.records.set_deployment_batch(id, deployment.batch + 1).await?;
    }
}

/// Whether a host in `state` counts against the failure budget.
fn is_failure(state: &str) -> bool {
    matches!(state, "failed" | "lost" | "unhealthy")
}

/// Marks `unhealthy` each host of the batch in hand that took the release and whose `rule.metric`
/// went over `rule.max` since its deploy ended: they count against the budget, and are put back
/// with the batch.
async fn watch_health(
    platform: &Platform,
    deployment: &Deployment,
    rule: &super::HealthRule,
) -> Result<(), Refusal> {
    let console = platform.monitoring.as_ref().ok_or(Refusal::NoMonitoring)?;
    let hosts = platform.records.deployment_hosts(deployment.id).await?;
    let now = crate::now_millis();
    let mut unhealthy = Vec::new();
    for host in hosts.iter().filter(|host| host.batch == deployment.batch && host.state == "done") {
        let worst = console
            .source()
            .series(Some(&host.host), Some(&rule.metric))
            .into_iter()
            .flat_map(|series| console.source().query(&RangeQuery::raw(series, host.updated, now + 1)))
            .map(|(_, value)| value)
            .fold(f64::NEG_INFINITY, f64::max);
        if worst > rule.max {
            let said = format!(
                "{}\n{} reached {worst} during the bake (at most {})",
                host.output, rule.metric, rule.max
            );
            unhealthy.push(update(&host.host, "unhealthy", "bake", None, &said));
        }
    }
    platform.records.update_deployment_hosts(deployment.id, &unhealthy, now).await?;
    Ok(())
}

/// Deploys the batch in hand of `deployment` (whose hosts are `hosts`): its runs started, unless
/// started already (a platform restarted mid-batch follows them), and followed to their end, each
/// host's outcome recorded. Until `reconnect_until`, the runs wait for the batch's hosts to
/// connect.
async fn deploy_batch(
    platform: &Platform,
    deployment: &Deployment,
    hosts: &[DeploymentHost],
    reconnect_until: Option<tokio::time::Instant>,
) -> Result<(), Refusal> {
    let id = deployment.id;
    let link = RunLink { deployment: id, batch: deployment.batch, purpose: RunPurpose::Deploy };
    let pending: Vec<String> = hosts
        .iter()
        .filter(|host| {
            host.batch == deployment.batch && matches!(host.state.as_str(), "pending" | "deploying")
        })
        .map(|host| host.host.clone())
        .collect();
    // The batch's runs the master took: a run that ended with no host was never sent (the
    // platform died between recording it and the master's journal taking it, or the master
    // refused it), so its hosts are sent the routine now, and none twice.
    let mut runs = Vec::new();
    let mut covered = BTreeSet::new();
    for run in platform.records.deployment_runs(id, deployment.batch, RunPurpose::Deploy).await? {
        let Some(found) = platform.records.run(run).await? else { continue };
        if found.state != RunState::Running && found.hosts == 0 {
            continue;
        }
        covered.extend(platform.records.results(run).await?.into_iter().map(|result| result.host));
        covered.extend(platform.records.missing_hosts(run).await?);
        runs.push(run);
    }
    let uncovered: Vec<String> = pending.iter().filter(|host| !covered.contains(*host)).cloned().collect();
    if !uncovered.is_empty() {
        let release =
            platform.records.release(&deployment.name, &deployment.version).await?.ok_or_else(|| {
                Refusal::NotFound(format!("no release {} {}", deployment.name, deployment.version))
            })?;
        if let Some(until) = reconnect_until {
            wait_for_hosts(platform, &uncovered, until).await;
        }
        let updates: Vec<HostUpdate> =
            uncovered.iter().map(|host| update(host, "deploying", "-", None, "")).collect();
        platform.records.update_deployment_hosts(id, &updates, crate::now_millis()).await?;
        runs.extend(start_runs(platform, deployment, &release, &uncovered, link).await?);
    }
    let results = wait_for_runs(platform, &runs).await?;
    // A host that does not say what it ran before (a simulated one) ran what the records say.
    let known = platform.records.deployed_versions(&deployment.name).await?;
    let updates: Vec<HostUpdate> = pending
        .iter()
        .map(|host| {
            let mut update = outcome(host, results.get(host));
            if update.previous.is_none() {
                update.previous = known.get(host).filter(|version| **version != deployment.version).cloned();
            }
            update
        })
        .collect();
    platform.records.update_deployment_hosts(id, &updates, crate::now_millis()).await?;
    Ok(())
}

/// Waits until every one of `hosts` is connected to the control master, or `until`.
async fn wait_for_hosts(platform: &Platform, hosts: &[String], until: tokio::time::Instant) {
    let Some(commands) = &platform.commands else { return };
    while tokio::time::Instant::now() < until {
        let connected = commands.connected();
        if hosts.iter().all(|host| connected.contains_key(host)) {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Starts the deploy routine of `release` on `hosts` as `deployment`'s user, in as few runs as
/// their names fit in: the runs' ids. A run refused (the user's role no longer allows it) leaves
/// its hosts without a result: failed.
async fn start_runs(
    platform: &Platform,
    deployment: &Deployment,
    release: &Release,
    hosts: &[String],
    link: RunLink,
) -> Result<Vec<i64>, Refusal> {
    let distribution = platform.distribution.as_ref().ok_or(Refusal::NoControl)?;
    let timeout = deploy_timeout(&release.manifest);
    let mut runs = Vec::new();
    for target in targets(hosts) {
        let mut request = distribution.deploy_request(release, &target, timeout);
        request.link = Some(link);
        match platform.run(&deployment.user, &request, crate::now_millis()).await {
            Ok(run) => runs.push(run),
            Err(Refusal::Internal(reason)) => return Err(Refusal::Internal(reason)),
            Err(refusal) => {
                tracing::warn!(deployment = deployment.id, cause = %refusal, "a batch's run was refused")
            }
        }
    }
    Ok(runs)
}

/// How long the deploy routine may take on a host: a fetch, the hooks (stop, start, status at
/// most twice over the health wait, and a rollback's), and a margin.
fn deploy_timeout(manifest: &str) -> Duration {
    let (hook, healthy) = super::ReleaseManifest::parse(manifest)
        .map(|manifest| (manifest.hook_timeout(), manifest.healthy_within()))
        .unwrap_or((Duration::from_secs(30), Duration::from_secs(10)));
    (Duration::from_secs(60) + hook * 6 + healthy * 2).min(Duration::from_secs(3600))
}

/// `hosts` as target expressions, each a comma-separated list of at most [`MAX_TARGET`] bytes.
fn targets(hosts: &[String]) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    let mut current = String::new();
    for host in hosts {
        if !current.is_empty() && current.len() + 1 + host.len() > MAX_TARGET {
            targets.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(host);
    }
    if !current.is_empty() {
        targets.push(current);
    }
    targets
}

/// Waits for every run of `runs` to end (the platform's followers record their results); each
/// host's result.
async fn wait_for_runs(platform: &Platform, runs: &[i64]) -> Result<BTreeMap<String, HostResult>, Refusal> {
    let mut results = BTreeMap::new();
    for &run in runs {
        loop {
            let found = platform.records.run(run).await?;
            match found {
                Some(found) if found.state == RunState::Running => tokio::time::sleep(POLL).await,
                _ => break,
            }
        }
        for result in platform.records.results(run).await? {
            results.insert(result.host.clone(), result);
        }
    }
    Ok(results)
}

/// A change to `host`'s record.
fn update(host: &str, state: &str, step: &str, previous: Option<String>, output: &str) -> HostUpdate {
    HostUpdate {
        host: host.to_string(),
        state: state.to_string(),
        step: step.to_string(),
        previous,
        output: output.to_string(),
    }
}

/// How `host` stands after its deploy ended with `result` (none: the run ended without one).
fn outcome(host: &str, result: Option<&HostResult>) -> HostUpdate {
    let Some(result) = result else {
        return update(host, "lost", "-", None, "no result: the run ended without this host's");
    };
    let (step, previous) = read_report(&result.output);
    let state = match result.status.as_str() {
        "done" => "done",
        "lost" | "unreachable" => "lost",
        "skipped" => "skipped",
        _ => "failed",
    };
    // A host that did not finish still reached the step it printed last.
    let step = if state == "done" { Step::Status.as_str() } else { step.unwrap_or("-") };
    update(host, state, step, previous, &result.output)
}

/// The last step a deploy routine's output names, and the version it says ran before.
fn read_report(output: &str) -> (Option<&'static str>, Option<String>) {
    let mut step = None;
    let mut previous = None;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("step ").or_else(|| line.strip_prefix("failed at ")) {
            let name = rest.split(':').next().unwrap_or("");
            step = Step::parse(name).map(Step::as_str).or(step);
        }
        if let Some(was) = line.rsplit_once("(was ").and_then(|(_, rest)| rest.strip_suffix(')'))
            && line.starts_with("deployed ")
            && was != "none"
        {
            previous = Some(was.to_string());
        }
    }
    (step, previous)
}

/// Stops `deployment` past its failure budget: the hosts to put back are put back, the hosts
/// not reached are skipped, and the rollout ends failed (or rolled back).
async fn stop(
    platform: &Platform,
    deployment: &Deployment,
    strategy: &Strategy,
    hosts: &[DeploymentHost],
    failed: &[&DeploymentHost],
    budget: usize,
) -> Result<DeploymentState, Refusal> {
    let id = deployment.id;
    let now = crate::now_millis();
    let skipped: Vec<HostUpdate> = hosts
        .iter()
        .filter(|host| host.state == "pending")
        .map(|host| update(&host.host, "skipped", "-", None, "not reached: the rollout stopped"))
        .collect();
    platform.records.update_deployment_hosts(id, &skipped, now).await?;
    let back: Vec<&DeploymentHost> = hosts
        .iter()
        .filter(|host| matches!(host.state.as_str(), "done" | "unhealthy"))
        .filter(|host| strategy.on_failure == super::OnFailure::RollBackAll || host.batch == deployment.batch)
        .collect();
    roll_back(platform, deployment, &back).await?;
    let names: Vec<String> =
        failed.iter().take(5).map(|host| format!("{} at {}", host.host, host.step)).collect();
    let detail = format!(
        "batch {}: {} host(s) failed, over the budget of {budget} ({}{})",
        deployment.batch + 1,
        failed.len(),
        names.join(", "),
        if failed.len() > 5 { ", …" } else { "" }
    );
    let state = match strategy.on_failure {
        super::OnFailure::Stop => DeploymentState::Failed,
        super::OnFailure::RollBackAll => DeploymentState::RolledBack,
    };
    platform
        .records
        .set_deployment_state(id, &[DeploymentState::Running], state, &detail, crate::now_millis())
        .await?;
    Ok(state)
}

/// Puts `hosts` back to the version each ran before: a deploy of that version (installed there
/// already, so nothing is fetched), a run for each version. A host that ran none, or one whose
/// version the records do not have, is `kept` on the new one, and says so.
async fn roll_back(
    platform: &Platform,
    deployment: &Deployment,
    hosts: &[&DeploymentHost],
) -> Result<(), Refusal> {
    let id = deployment.id;
    let link = RunLink { deployment: id, batch: deployment.batch, purpose: RunPurpose::Rollback };
    let mut by_version: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kept = Vec::new();
    for host in hosts {
        match &host.previous {
            Some(previous) => by_version.entry(previous.clone()).or_default().push(host.host.clone()),
            None => {
                kept.push(update(&host.host, "kept", &host.step, None, "no earlier version to go back to"))
            }
        }
    }
    platform.records.update_deployment_hosts(id, &kept, crate::now_millis()).await?;
    for (version, names) in by_version {
        let Some(release) = platform.records.release(&deployment.name, &version).await? else {
            let updates: Vec<HostUpdate> = names
                .iter()
                .map(|host| {
                    update(host, "kept", "status", None, &format!("{version} is not among the releases"))
                })
                .collect();
            platform.records.update_deployment_hosts(id, &updates, crate::now_millis()).await?;
            continue;
        };
        let runs = start_runs(platform, deployment, &release, &names, link).await?;
        let results = wait_for_runs(platform, &runs).await?;
        let updates: Vec<HostUpdate> = names
            .iter()
            .map(|name| {
                let (state, said) = match results.get(name) {
                    Some(result) if result.status == "done" => ("rolled_back", result.output.as_str()),
                    Some(result) => ("failed", result.output.as_str()),
                    None => ("lost", "no result from the rollback"),
                };
                // The deploy's output stays, the rollback's after it: the host's whole history.
                let before =
                    hosts.iter().find(|host| host.host == *name).map_or("", |host| host.output.as_str());
                let output = format!("{}\nrolled back to {version}:\n{said}", before.trim_end());
                update(name, state, "status", None, &output)
            })
            .collect();
        platform.records.update_deployment_hosts(id, &updates, crate::now_millis()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_its_last_step_and_the_earlier_version() {
        let done = "step download: fetched 1 bytes\nstep status: healthy\ndeployed hello 2 (was 1)\n";
        assert_eq!(read_report(done), (Some("status"), Some("1".to_string())));
        let failed =
            "step download: fetched 1 bytes\nstep switch: 2 current\nfailed at start: x; rolled back to 1";
        assert_eq!(read_report(failed), (Some("start"), None));
        assert_eq!(read_report("deployed hello 1 (was none)"), (None, None));
    }

    #[test]
    fn long_host_lists_are_split_into_targets_that_fit() {
        let hosts: Vec<String> = (0..1000).map(|n| format!("host-{n:04}")).collect();
        let targets = targets(&hosts);
        assert!(targets.len() > 1);
        assert!(targets.iter().all(|target| target.len() <= MAX_TARGET));
        assert_eq!(targets.join(",").split(',').count(), 1000);
    }
}
