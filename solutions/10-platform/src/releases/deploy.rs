//! A release arriving on a host: the deploy routine that a rollout's signed command starts there
//! (`platform deploy`), step by step: download, verify, stop, back up, switch, start, status. A
//! step that fails after the switch puts the version that was running back, and starts it again.
//!
//! ```text
//! DIR/hello/1.4.2/package.sha256   the package's SHA-256, written once it is unpacked and checked
//! DIR/hello/1.4.2/files/...        the package's files; the hooks run here
//! DIR/hello/current -> 1.4.2       what runs (a symbolic link, replaced by a rename)
//! DIR/hello/previous -> 1.4.1      the backup: what ran before, kept whole, to go back to
//! DIR/hello/.lock                  one deploy of a service at a time
//! ```
//!
//! A version is unpacked in a temporary directory beside the others and renamed into place
//! whole, and `current` is replaced by a rename: a host that dies at any point has the old version
//! current or the new one, never half of one, and the next deploy finishes or undoes the work.
//! A version installed already (a rollback, or a rollout sent again) is not fetched again: a
//! rollback must work when the platform cannot be reached.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use control::exec::run_program;
use crawler::{Client, ClientConfig, Url};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::package::{MAX_PACKAGE_BYTES, unpack_release};
use super::{ReleaseManifest, is_name, is_version};

/// How long the deploy routine waits for the platform: to connect, for the answer's head, and for
/// its whole body.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the deploy routine keeps asking a platform it cannot reach for the package (a
/// platform failing over to its standby is out of reach for a few seconds).
pub const FETCH_PATIENCE: Duration = Duration::from_secs(10);

/// How much of a hook's output is kept, per stream.
pub const HOOK_OUTPUT: usize = 4096;

/// How many versions of a service a host keeps: the current, the previous, and the newest others.
pub const KEEP_VERSIONS: usize = 5;

/// The steps of a deploy, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// The package fetched from the platform (or found installed).
    Download,
    /// Its SHA-256 and every file's checked, and it unpacked.
    Verify,
    /// The running version stopped.
    Stop,
    /// The running version kept, as `previous`.
    Backup,
    /// The new version made `current`.
    Switch,
    /// The new version started.
    Start,
    /// The new version healthy.
    Status,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 7] =
        [Step::Download, Step::Verify, Step::Stop, Step::Backup, Step::Switch, Step::Start, Step::Status];

    /// Its name: `download`, `verify`, `stop`, `backup`, `switch`, `start` or `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Download => "download",
            Step::Verify => "verify",
            Step::Stop => "stop",
            Step::Backup => "backup",
            Step::Switch => "switch",
            Step::Start => "start",
            Step::Status => "status",
        }
    }

    /// The step named `name`.
    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == name)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rollout asks of one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRequest {
    /// Where to fetch the package.
    pub from: String,
    /// Where this host keeps its services' releases.
    pub dir: PathBuf,
    /// The service.
    pub name: String,
    /// The version to make current.
    pub version: String,
    /// The package's SHA-256, in hex, as the signed command names it.
    pub sha256: String,
}

/// How a failed deploy left the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restored {
    /// Nothing had changed: the version that ran runs.
    Unchanged,
    /// The version that ran before is current and started again.
    Previous(String),
    /// No version runs: there was none before, or the one asked for was current already.
    Nothing,
    /// Putting the previous version back failed too: the host needs a person.
    Failed(String),
}

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restored::Unchanged => f.write_str("nothing changed"),
            Restored::Previous(version) => write!(f, "rolled back to {version}"),
            Restored::Nothing => f.write_str("no version runs"),
            Restored::Failed(reason) => write!(f, "the rollback failed: {reason}"),
        }
    }
}

/// A deploy that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The step that failed.
    pub step: Step,
    /// Why.
    pub reason: String,
    /// How the host was left.
    pub restored: Restored,
}

/// What a deploy did: the steps done, each with what it says, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployReport {
    /// The steps done, in order.
    pub steps: Vec<(Step, String)>,
    /// The version that was current before (`None`: none was).
    pub previous: Option<String>,
    /// `None` when the version is current and healthy.
    pub failure: Option<Failure>,
}

impl DeployReport {
    /// The report as the deploy routine prints it, a line a step:
    /// `step download: fetched 2048 bytes`, … then `deployed hello 1.4.2 (was 1.4.1)`, or
    /// `failed at status: … ; rolled back to 1.4.1`.
    pub fn lines(&self, name: &str, version: &str) -> Vec<String> {
        let mut lines: Vec<String> =
            self.steps.iter().map(|(step, detail)| format!("step {step}: {detail}")).collect();
        let was = self.previous.as_deref().unwrap_or("none");
        lines.push(match &self.failure {
            None => format!("deployed {name} {version} (was {was})"),
            Some(failure) => format!("failed at {}: {}; {}", failure.step, failure.reason, failure.restored),
        });
        lines
    }
}

/// The routine's state as it goes: what it did, to say so, and what ran before.
struct Deploy<'a> {
    request: &'a DeployRequest,
    service: PathBuf,
    report: DeployReport,
    /// What `previous` named before the backup, to name again if the new version goes.
    backup_before: Option<String>,
}

/// Runs the deploy routine for `request`, on this host, and says what it did.
pub async fn deploy(request: &DeployRequest) -> DeployReport {
    let mut deploy = Deploy {
        request,
        service: request.dir.join(&request.name),
        report: DeployReport { steps: Vec::new(), previous: None, failure: None },
        backup_before: None,
    };
    if let Err((step, reason)) = check_request(request) {
        deploy.report.failure = Some(Failure { step, reason, restored: Restored::Unchanged });
        return deploy.report;
    }
    // One deploy of a service at a time: a rollout sent twice waits for the first.
    let lock = match lock(&deploy.service).await {
        Ok(lock) => lock,
        Err(reason) => {
            deploy.report.failure =
                Some(Failure { step: Step::Download, reason, restored: Restored::Unchanged });
            return deploy.report;
        }
    };
    deploy.run().await;
    drop(lock);
    deploy.report
}

fn check_request(request: &DeployRequest) -> Result<(), (Step, String)> {
    if !is_name(&request.name) {
        return Err((Step::Download, format!("{:?} is not a service's name", request.name)));
    }
    if !is_version(&request.version) {
        return Err((Step::Download, format!("{:?} is not a version", request.version)));
    }
    if request.sha256.len() != 64 || !request.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err((Step::Download, format!("{:?} is not a SHA-256 in hex", request.sha256)));
    }
    Ok(())
}

/// Takes the service's lock (waiting for another deploy of it to end), making its directory.
async fn lock(service: &Path) -> Result<fs::File, String> {
    let path = service.join(".lock");
    tokio::task::spawn_blocking(move || {
        let failed = |err: io::Error| format!("{}: {err}", path.display());
        fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(failed)?;
        let file =
            fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(failed)?;
        file.lock().map_err(failed)?;
        Ok(file)
    })
    .await
    .map_err(|err| err.to_string())?
}

impl Deploy<'_> {
    fn done(&mut self, step: Step, detail: impl Into<String>) {
        self.report.steps.push((step, detail.into()));
    }

    fn fail(&mut self, step: Step, reason: impl Into<String>, restored: Restored) {
        self.report.failure = Some(Failure { step, reason: reason.into(), restored });
    }

    async fn run(&mut self) {
        let version = self.request.version.clone();
        let target = self.service.join(&version);
        // Download and verify: nothing that runs is touched.
        let installed = fs::read_to_string(target.join("package.sha256"))
            .is_ok_and(|sum| sum.trim().eq_ignore_ascii_case(&self.request.sha256));
        if installed {
            self.done(Step::Download, "installed already");
            self.done(Step::Verify, "installed under the same SHA-256");
        } else {
            let package = match fetch(&self.request.from).await {
                Ok(package) => package,
                Err(reason) => return self.fail(Step::Download, reason, Restored::Unchanged),
            };
            self.done(Step::Download, format!("fetched {} bytes", package.len()));
            let service = self.service.clone();
            let request = self.request.clone();
            let unpacked = tokio::task::spawn_blocking(move || install(&service, &request, &package)).await;
            match unpacked {
                Ok(Ok(manifest)) => {
                    self.done(Step::Verify, format!("SHA-256 and {} files checked", manifest.checksums.len()))
                }
                Ok(Err(reason)) => return self.fail(Step::Verify, reason, Restored::Unchanged),
                Err(err) => return self.fail(Step::Verify, err.to_string(), Restored::Unchanged),
            }
        }
        let manifest = match read_manifest(&target) {
            Ok(manifest) => manifest,
            Err(reason) => return self.fail(Step::Verify, reason, Restored::Unchanged),
        };
        // Stop what runs.
        let previous = current_version(&self.service);
        self.report.previous.clone_from(&previous);
        if let Some(old) = &previous {
            let old_dir = self.service.join(old);
            match read_manifest(&old_dir) {
                Ok(old_manifest) => {
                    if let Err(reason) = run_hook(&old_dir, &old_manifest, &old_manifest.hooks.stop).await {
                        // It may be half stopped: start it again, as it was.
                        let restored = match run_hook(&old_dir, &old_manifest, &old_manifest.hooks.start)
                            .await
                        {
                            Ok(_) => Restored::Unchanged,
                            Err(again) => Restored::Failed(format!("{old} would not start again: {again}")),
                        };
                        return self.fail(Step::Stop, format!("{old}: {reason}"), restored);
                    }
                    self.done(Step::Stop, format!("{old} stopped"));
                }
                Err(reason) => self.done(Step::Stop, format!("{old} not stopped: {reason}")),
            }
        } else {
            self.done(Step::Stop, "nothing ran");
        }
        // Back up: what ran stays on disk whole, and `previous` names it.
        self.backup_before = link_target(&self.service, "previous");
        match &previous {
            Some(old) if *old != version => {
                if let Err(reason) = replace_link(&self.service, "previous", old) {
                    let restored = self.restore(previous.as_deref(), &version, false).await;
                    return self.fail(Step::Backup, reason, restored);
                }
                self.done(Step::Backup, format!("{old} kept as previous"));
            }
            Some(_) => self.done(Step::Backup, format!("{version} was current already")),
            None => self.done(Step::Backup, "nothing to keep"),
        }
        // Switch.
        if let Err(reason) = replace_link(&self.service, "current", &version) {
            let restored = self.restore(previous.as_deref(), &version, false).await;
            return self.fail(Step::Switch, reason, restored);
        }
        self.done(Step::Switch, format!("{version} current"));
        // Start, then wait for it to be healthy.
        if let Err(reason) = run_hook(&target, &manifest, &manifest.hooks.start).await {
            let restored = self.restore(previous.as_deref(), &version, true).await;
            return self.fail(Step::Start, reason, restored);
        }
        self.done(Step::Start, format!("{version} started"));
        match wait_healthy(&target, &manifest).await {
            Ok(tries) => self.done(Step::Status, format!("healthy after {tries} check(s)")),
            Err(reason) => {
                let restored = self.restore(previous.as_deref(), &version, true).await;
                return self.fail(Step::Status, reason, restored);
            }
        }
        prune(&self.service);
    }

    /// Puts `previous` back after `version` failed: `version` stopped (when it was started),
    /// `previous` current and started.
    async fn restore(&self, previous: Option<&str>, version: &str, started: bool) -> Restored {
        let target = self.service.join(version);
        if started && let Ok(manifest) = read_manifest(&target) {
            // Best effort: the old version must start whatever this one left.
            let _ = run_hook(&target, &manifest, &manifest.hooks.stop).await;
        }
        let Some(old) = previous.filter(|old| *old != version) else {
            let _ = fs::remove_file(self.service.join("current"));
            return Restored::Nothing;
        };
        if let Err(reason) = replace_link(&self.service, "current", old) {
            return Restored::Failed(reason);
        }
        let _ = match &self.backup_before {
            Some(before) => replace_link(&self.service, "previous", before),
            None => fs::remove_file(self.service.join("previous")).map_err(|err| err.to_string()),
        };
        let old_dir = self.service.join(old);
        let started = match read_manifest(&old_dir) {
            Ok(manifest) => run_hook(&old_dir, &manifest, &manifest.hooks.start).await,
            Err(reason) => Err(reason),
        };
        match started {
            Ok(_) => Restored::Previous(old.to_string()),
            Err(reason) => Restored::Failed(format!("{old} would not start again: {reason}")),
        }
    }
}

/// Unpacks and checks `package` as `request`'s version, renamed into place whole; its manifest.
fn install(service: &Path, request: &DeployRequest, package: &[u8]) -> Result<ReleaseManifest, String> {
    let sum = hex::encode(Sha256::digest(package));
    if !sum.eq_ignore_ascii_case(&request.sha256) {
        return Err(format!("the package's SHA-256 is {sum}, not {}", request.sha256));
    }
    let partial = service.join(format!(".{}.partial", request.version));
    let file_error = |path: &Path, err: io::Error| format!("{}: {err}", path.display());
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(|err| file_error(&partial, err))?;
    }
    fs::create_dir_all(&partial).map_err(|err| file_error(&partial, err))?;
    let checked = match unpack_release(package, &partial.join("files")) {
        Ok(checked) => checked,
        Err(err) => {
            let _ = fs::remove_dir_all(&partial);
            return Err(err.to_string());
        }
    };
    if checked.manifest.name != request.name || checked.manifest.version != request.version {
        let _ = fs::remove_dir_all(&partial);
        return Err(format!(
            "the package is {} {}, not {} {}",
            checked.manifest.name, checked.manifest.version, request.name, request.version
        ));
    }
    fs::write(partial.join("package.sha256"), format!("{sum}\n")).map_err(|err| file_error(&partial, err))?;
    let target = service.join(&request.version);
    // A copy that is not the signed one (changed by hand, or half removed) is replaced whole; the
    // one current is never that, as its checksum was checked when it was installed.
    if target.exists() {
        fs::remove_dir_all(&target).map_err(|err| file_error(&target, err))?;
    }
    fs::rename(&partial, &target).map_err(|err| file_error(&target, err))?;
    sync_dir(service);
    Ok(checked.manifest)
}

/// The manifest of the version installed in `dir`.
fn read_manifest(dir: &Path) -> Result<ReleaseManifest, String> {
    let path = dir.join("files").join(super::package::MANIFEST_FILE);
    let text = fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    ReleaseManifest::parse(&text).map_err(|violation| format!("{}: {}", path.display(), violation.reason))
}

/// The version `current` names in the service's directory `service`, if any.
pub fn current_version(service: &Path) -> Option<String> {
    link_target(service, "current")
}

/// What `service/link` points at, if it is a link.
fn link_target(service: &Path, link: &str) -> Option<String> {
    let target = fs::read_link(service.join(link)).ok()?;
    Some(target.to_string_lossy().into_owned())
}

/// Points `service/link` at `version`, by a new link renamed over the old one.
fn replace_link(service: &Path, link: &str, version: &str) -> Result<(), String> {
    let temporary = service.join(format!(".{link}.new"));
    let _ = fs::remove_file(&temporary);
    std::os::unix::fs::symlink(version, &temporary)
        .map_err(|err| format!("{}: {err}", temporary.display()))?;
    fs::rename(&temporary, service.join(link))
        .map_err(|err| format!("{}: {err}", service.join(link).display()))?;
    sync_dir(service);
    Ok(())
}

/// Makes the directory's entries durable (a rename is the commit); failure is not fatal.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Runs `hook` of the version installed in `dir`, in its files, with its name and version in the
/// environment, killed at the manifest's timeout: what it printed, or why it failed.
async fn run_hook(dir: &Path, manifest: &ReleaseManifest, hook: &str) -> Result<String, String> {
    let files = dir.join("files");
    // `env -C` starts it in its directory; lab 09's runner gives it a process group of its own,
    // killed with everything in it at the timeout or once it exits.
    let args = vec![
        "-C".to_string(),
        files.to_string_lossy().into_owned(),
        format!("RELEASE_NAME={}", manifest.name),
        format!("RELEASE_VERSION={}", manifest.version),
        format!("./{hook}"),
    ];
    let exit = run_program("/usr/bin/env", &args, manifest.hook_timeout(), HOOK_OUTPUT).await?;
    let mut output = String::from_utf8_lossy(&exit.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&exit.stderr);
    if !stderr.trim().is_empty() {
        output.push_str(if output.is_empty() { "" } else { " " });
        output.push_str(stderr.trim());
    }
    let said = if output.is_empty() { String::new() } else { format!(": {output}") };
    match (exit.timed_out, exit.code) {
        (true, _) => Err(format!("{hook} timed out after {} s{said}", manifest.hook_timeout_secs)),
        (false, Some(0)) => Ok(output),
        (false, Some(code)) => Err(format!("{hook} exited {code}{said}")),
        (false, None) => Err(format!("{hook} was killed by signal {}{said}", exit.signal.unwrap_or(0))),
    }
}

/// Runs the status hook until it exits 0, once a second, for up to the manifest's
/// `healthy_within_secs` (once at least): how many checks it took.
async fn wait_healthy(dir: &Path, manifest: &ReleaseManifest) -> Result<usize, String> {
    let deadline = Instant::now() + manifest.healthy_within();
    let mut tries = 0;
    loop {
        tries += 1;
        let checked = Instant::now();
        match run_hook(dir, manifest, &manifest.hooks.status).await {
            Ok(_) => return Ok(tries),
            Err(reason) if Instant::now() >= deadline => {
                return Err(format!("not healthy after {tries} check(s): {reason}"));
            }
            Err(_) => tokio::time::sleep_until((checked + Duration::from_secs(1)).min(deadline)).await,
        }
    }
}

/// Removes the oldest versions past [`KEEP_VERSIONS`], never `current` or `previous`.
fn prune(service: &Path) {
    let keep: Vec<String> =
        ["current", "previous"].iter().filter_map(|link| link_target(service, link)).collect();
    let Ok(entries) = fs::read_dir(service) else { return };
    let mut versions: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .filter(|entry| !keep.contains(&entry.file_name().to_string_lossy().into_owned()))
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    versions.sort();
    let room = KEEP_VERSIONS.saturating_sub(keep.len());
    for (_, path) in versions.iter().rev().skip(room) {
        let _ = fs::remove_dir_all(path);
    }
}

/// The body of `GET from`, when it is a 200 of at most [`MAX_PACKAGE_BYTES`]. A platform that
/// cannot be reached, or answers 5xx, is asked again, more slowly each time, for up to
/// [`FETCH_PATIENCE`]: it may be failing over to its standby. Any other answer is final.
async fn fetch(from: &str) -> Result<Vec<u8>, String> {
    let url = Url::parse(from).map_err(|err| format!("{from}: {err}"))?;
    let deadline = Instant::now() + FETCH_PATIENCE;
    let mut pause = Duration::from_millis(100);
    loop {
        match fetch_once(&url, from).await {
            Err((reason, true)) if Instant::now() + pause < deadline => {
                tracing::warn!(%reason, "the platform cannot give the package yet: asking again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            done => return done.map_err(|(reason, _)| reason),
        }
    }
}

/// One `GET` of `url`: its body, or why not and whether asking again may help.
async fn fetch_once(url: &Url, from: &str) -> Result<Vec<u8>, (String, bool)> {
    let client = Client::new(ClientConfig {
        connect_timeout: FETCH_TIMEOUT,
        header_timeout: FETCH_TIMEOUT,
        body_timeout: FETCH_TIMEOUT,
        max_body: MAX_PACKAGE_BYTES as u64,
        max_redirects: 0,
        user_agent: concat!("platform-deploy/", env!("CARGO_PKG_VERSION")).to_string(),
        max_idle_per_host: 0,
    });
    let response = client.get_once(url).await.map_err(|err| (format!("cannot fetch {from}: {err}"), true))?;
    match response.status() {
        200 => Ok(response.body),
        status => Err((format!("cannot fetch {from}: the platform answered {status}"), status >= 500)),
    }
}
