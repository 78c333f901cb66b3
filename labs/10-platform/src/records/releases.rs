//! Releases and their rollouts. A release is kept whole (its package, as checked, and its
//! manifest and SHA-256); a rollout ("deployment") keeps its strategy, the batch in hand and each
//! host's state, step, earlier version and output, and the runs it started, so its history is
//! here and a restarted platform can take it up where it stood.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, QueryBuilder, Row};

use super::{Millis, RecordError, Records, Result, check, dialect};

/// The most bytes in a release's package: MariaDB's `max_allowed_packet` is 16 MiB by default, and
/// a statement carries the package whole.
pub const MAX_PACKAGE: usize = 8 << 20;

/// A release to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    /// The service.
    pub name: String,
    /// The version.
    pub version: String,
    /// Its manifest, as in the package.
    pub manifest: String,
    /// The package's SHA-256, in lower-case hex.
    pub sha256: String,
    /// The package.
    pub package: Vec<u8>,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded: Millis,
}

/// A recorded release (without its package: [`Records::release_package`] reads that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Its id.
    pub id: i64,
    /// The service.
    pub name: String,
    /// The version.
    pub version: String,
    /// Its manifest.
    pub manifest: String,
    /// The package's SHA-256, in lower-case hex.
    pub sha256: String,
    /// The package's size in bytes.
    pub size: i64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded: Millis,
}

/// How a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentState {
    /// Batches are going out.
    Running,
    /// Stopped between batches until resumed.
    Paused,
    /// Every host has the release.
    Succeeded,
    /// Stopped by a failure (the failed batch put back as its strategy says).
    Failed,
    /// Stopped by a failure, and every host it changed put back.
    RolledBack,
}

impl DeploymentState {
    /// The state as the records spell it.
    pub fn as_str(self) -> &'static str {
        todo!("stage 4: the name the records spell")
    }

    /// The state spelled `text`, if any.
    pub fn parse(text: &str) -> Option<DeploymentState> {
        todo!("stage 4: the state spelled `text`")
    }

    /// Whether the rollout has ended.
    pub fn is_final(self) -> bool {
        todo!("stage 4: neither running nor paused")
    }
}

/// A rollout to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeployment {
    /// The release rolled out.
    pub release_id: i64,
    /// Who started it.
    pub user: String,
    /// The target expression it was started on.
    pub target: String,
    /// Its strategy, as JSON.
    pub strategy: String,
    /// Its hosts, batch by batch, in order.
    pub batches: Vec<Vec<String>>,
    /// When it started.
    pub started: Millis,
}

/// A recorded rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Its id.
    pub id: i64,
    /// The release rolled out.
    pub release_id: i64,
    /// The release's service.
    pub name: String,
    /// The release's version.
    pub version: String,
    /// Who started it.
    pub user: String,
    /// The target expression.
    pub target: String,
    /// Its strategy, as JSON.
    pub strategy: String,
    /// How it stands.
    pub state: DeploymentState,
    /// The batch in hand (0 is the first; past the last once every batch is done).
    pub batch: i64,
    /// Why it ended as it did, or why it is paused.
    pub detail: String,
    /// When it started.
    pub started: Millis,
    /// When it ended.
    pub ended: Option<Millis>,
}

/// A host of a rollout, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentHost {
    /// The host.
    pub host: String,
    /// Its batch (0 is the first).
    pub batch: i64,
    /// Its place in the rollout's order.
    pub position: i64,
    /// `pending`, `deploying`, `done`, `failed`, `lost`, `rolled_back`, `kept` or `skipped`.
    pub state: String,
    /// The last step it reached (`-` before any).
    pub step: String,
    /// The version it ran before, once known.
    pub previous: Option<String>,
    /// What its deploy (and rollback) printed.
    pub output: String,
    /// When it last changed.
    pub updated: Millis,
}

/// A change to a host of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUpdate {
    /// The host.
    pub host: String,
    /// Its new state.
    pub state: String,
    /// The last step it reached.
    pub step: String,
    /// The version it ran before (`None` leaves it as it is).
    pub previous: Option<String>,
    /// Its output (replacing what was kept).
    pub output: String,
}

/// Why a run was started by a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPurpose {
    /// To deploy the release.
    Deploy,
    /// To put back what a host ran before.
    Rollback,
}

impl RunPurpose {
    /// As the records spell it.
    pub fn as_str(self) -> &'static str {
        todo!("stage 4: the name the records spell")
    }
}

/// A run's place in a rollout: written before its command is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLink {
    /// The rollout.
    pub deployment: i64,
    /// Its batch.
    pub batch: i64,
    /// Why.
    pub purpose: RunPurpose,
}

const RELEASE_COLUMNS: &str =
    "id, name, version, manifest, sha256, LENGTH(package) AS size, uploaded_by, uploaded";
const DEPLOYMENT_COLUMNS: &str = "d.id, d.release_id, r.name, r.version, d.user_name, d.target, d.strategy, \
     d.state, d.batch, d.detail, d.started, d.ended";

impl Records {
    /// Records a release and returns its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad field (`release.FIELD`), [`RecordError::Conflict`] when
    /// that version of that service is recorded already (a version is never replaced: hosts may
    /// run it).
    pub async fn add_release(&self, new: &NewRelease) -> Result<i64> {
        todo!(
            "stage 4: check each field (release.name, .version, .manifest, .uploaded_by, .sha256 as 64 lower-case hex, .package at most MAX_PACKAGE); in one transaction refuse a version recorded (Conflict, also when the unique key says so), insert, its id"
        )
    }

    /// Version `version` of service `name`'s release, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn release(&self, name: &str, version: &str) -> Result<Option<Release>> {
        todo!("stage 4: the release without its package (LENGTH(package) AS its size)")
    }

    /// The package of release `name` `version`, with its SHA-256.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn release_package(&self, name: &str, version: &str) -> Result<Option<(String, Vec<u8>)>> {
        todo!("stage 4: its sha256 and package")
    }

    /// Every release, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        todo!("stage 4: every release, newest first, without packages")
    }

    /// Records a rollout and its hosts, batch by batch, all `pending`, in one transaction; its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad user, target or host name, or a host in two batches;
    /// [`RecordError::NotFound`] for no such release.
    pub async fn start_deployment(&self, new: &NewDeployment) -> Result<i64> {
        todo!(
            "stage 4: check the user, target, strategy and every host (Invalid, also for a host named twice); in one transaction: the release must exist (NotFound), the deployment row (running, batch 0), then every host pending with its batch and position, in multi-row inserts"
        )
    }

    /// Rollout `id`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployment(&self, id: i64) -> Result<Option<Deployment>> {
        todo!("stage 4: the deployment joined with its release's name and version")
    }

    /// The newest `limit` rollouts, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployments(&self, limit: u32) -> Result<Vec<Deployment>> {
        todo!("stage 4: the newest `limit`, newest first")
    }

    /// The rollouts that have not ended (running or paused), oldest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn unfinished_deployments(&self) -> Result<Vec<Deployment>> {
        todo!("stage 4: those running or paused, oldest first")
    }

    /// The hosts of rollout `id`, in the rollout's order.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployment_hosts(&self, id: i64) -> Result<Vec<DeploymentHost>> {
        todo!("stage 4: in position order")
    }

    /// Changes hosts of rollout `id` as `updates` say, in one transaction.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when the rollout has no such host (nothing is written then).
    pub async fn update_deployment_hosts(&self, id: i64, updates: &[HostUpdate], now: Millis) -> Result<()> {
        todo!(
            "stage 4: one transaction; previous kept when the update has none (COALESCE); a host the deployment does not have: NotFound, and nothing written"
        )
    }

    /// Moves rollout `id` from one of the states `from` to `to`, with `detail` (and `ended`, for a
    /// final state): whether it was in one of them.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn set_deployment_state(
        &self,
        id: i64,
        from: &[DeploymentState],
        to: DeploymentState,
        detail: &str,
        now: Millis,
    ) -> Result<bool> {
        todo!(
            "stage 4: one UPDATE ... WHERE id = ? AND state IN (from): whether a row changed; `ended` set for a final state"
        )
    }

    /// Makes `batch` the batch in hand of rollout `id`.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn set_deployment_batch(&self, id: i64, batch: i64) -> Result<()> {
        todo!("stage 4: the batch in hand")
    }

    /// The version of service `name` each host runs, as the rollouts recorded it: the release of
    /// the newest rollout that left the host on it (`done`, `unhealthy` or `kept`), or the version
    /// one put it back to (`rolled_back`).
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployed_versions(&self, name: &str) -> Result<BTreeMap<String, String>> {
        todo!(
            "stage 4: every host of the service's rollouts left on a version (done, unhealthy, kept: the rollout's release; rolled_back: its previous), the newest rollout winning"
        )
    }

    /// Records that run `run` belongs to `link`'s rollout and batch.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails (no such run or rollout among them).
    pub async fn link_run(&self, run: i64, link: &RunLink) -> Result<()> {
        todo!("stage 4: a row of deployment_runs")
    }

    /// The runs rollout `id` started for `batch` with `purpose`, oldest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployment_runs(&self, id: i64, batch: i64, purpose: RunPurpose) -> Result<Vec<i64>> {
        todo!("stage 4: the run ids of that deployment, batch and purpose, oldest first")
    }
}
