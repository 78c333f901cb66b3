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
        todo!("stage 4: the step's name, lower case")
    }

    /// The step named `name`.
    pub fn parse(name: &str) -> Option<Step> {
        todo!("stage 4: the Step whose as_str is `name`")
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
        todo!(
            "stage 4: `step NAME: DETAIL` a step, then `deployed NAME VERSION (was PREVIOUS or none)` or `failed at STEP: REASON; RESTORED`"
        )
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
    todo!(
        "stage 4: check the request; lock DIR/NAME/.lock (File::lock, off the runtime); download (not when VERSION/package.sha256 is the signed sum: a rollback needs no platform) with lab 03's client, asking again for up to FETCH_PATIENCE while the platform cannot be reached or answers 5xx (in stage 5 it may be failing over), verify the SHA-256 and unpack_release into a temporary directory renamed into place; stop what `current` names with its stop hook; point `previous` at it; switch `current` by a new link renamed over it; start; run status until it exits 0 or healthy_within passes; after the switch, a failure stops the new version and puts the old one back and starts it. Hooks run as lab 09's run_program of `/usr/bin/env -C FILES RELEASE_NAME=.. RELEASE_VERSION=.. ./HOOK`, within the hook timeout"
    )
}

/// The version `current` names in the service's directory `service`, if any.
pub fn current_version(service: &Path) -> Option<String> {
    todo!("stage 4: where the link `current` in `service` points, if it is one")
}
