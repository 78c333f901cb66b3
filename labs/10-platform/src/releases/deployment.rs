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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use control::target::MAX_LEN;
use monitor::store::RangeQuery;

use super::deploy::Step;
use super::{Strategy, plan_batches};
use crate::commands::{RunRequest, check_target};
use crate::platform::{Platform, Refusal};
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
        todo!(
            "stage 4: the installer with `deploy --from URL/releases/NAME/VERSION/SHA256 --dir RELEASES_DIR --name --version --sha256`, within `timeout`, no batch, no link (the driver sets it)"
        )
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
        todo!(
            "stage 4: require_admin; the release (NotFound); none of the service's rollouts unfinished (Conflict); the target (Invalid `target`, also when it names no host: the hosts the records know and those connected, in name order), a health rule needs monitoring (NoMonitoring) and a bake (Invalid `bake_secs`), plan_batches, record the deployment with its hosts, audit, spawn the driver; the driver, batch by batch: hosts `deploying`, runs of deploy_request through Platform::run with a RunLink (recorded before the command is sent), wait for them, each host done/failed/lost with the last step it printed, bake, then (with a health rule) mark unhealthy each done host of the batch whose metric went over its max since its deploy ended (lab 08's store, through the console), then past the failure budget roll back (the batch's done hosts, or all with rollback_all, each to its previous version) and end failed or rolled_back; else the next batch; none left: succeeded. A driver that finds the batch's runs recorded follows them instead of starting them again"
        )
    }

    /// Pauses rollout `id` once its batch in hand is done, for `user`, who must manage the
    /// platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`], [`Refusal::Conflict`] when it is not running.
    pub async fn pause_deployment(&self, user: &str, id: i64, now: Millis) -> Result<Deployment, Refusal> {
        todo!(
            "stage 4: require_admin; running -> paused in the records, or Conflict naming the state it is in; audit"
        )
    }

    /// Resumes rollout `id`, paused, for `user`, who must manage the platform.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`], [`Refusal::Conflict`] when it is not paused.
    pub async fn resume_deployment(&self, user: &str, id: i64, now: Millis) -> Result<Deployment, Refusal> {
        todo!("stage 4: require_admin; paused -> running in the records, or Conflict; audit")
    }

    /// Takes up the rollouts a stopped platform (or a leader that died) left running or paused: a
    /// driver for each, from the batch it stood at, whose batches wait up to [`RECONNECT_GRACE`]
    /// for their hosts to reconnect. How many.
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] when the records cannot be read.
    pub async fn recover_deployments(self: &Arc<Self>) -> Result<usize, Refusal> {
        todo!(
            "stage 4: a driver for each unfinished deployment; in stage 5 a new leader takes them up too, so give each batch it starts within RECONNECT_GRACE the time for its hosts to reconnect"
        )
    }
}
