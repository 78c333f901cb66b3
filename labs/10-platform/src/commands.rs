//! Commands run through the platform: signed with the platform's operator key, started as a job on
//! lab 09's control master, and followed to the end with every host's result written to the
//! records in batches.
//!
//! The order is what makes a crash harmless. The run and the job's id are recorded before the
//! command is signed and sent; the hosts the master chose are recorded before any result is read;
//! a result is written in a batch, and the batch is committed before the next is taken. A platform
//! killed at any point finds the run still running when it starts again, follows the same job on
//! the master (which keeps its own journal and replays what ended), and records what it had not:
//! a result already written is kept, not doubled. A job the master no longer knows ends the run
//! incomplete, its missing hosts listed.

use std::collections::BTreeMap;
use std::time::Duration;

use control::command::{Command, Refusal, SignedCommand};
use control::keys::Identity;
use control::master::{Ending, JobEvent, JobOptions, MasterHandle, Portion};
use control::target::Target;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::records::{HostResult, Millis, NewRun, RecordError, Records, RunLink};

/// The most results written in one batch.
pub const BATCH_RESULTS: usize = 1_000;

/// The longest a result waits for its batch to fill before the batch is written anyway.
pub const BATCH_WAIT: Duration = Duration::from_millis(100);

/// A command to run, as a user asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// Which hosts: a target expression (lab 09's).
    pub target: String,
    /// The program, as a path on the hosts.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// At most this many hosts at once (`None`: all at once).
    pub batch: Option<Portion>,
    /// How long the program may run on a host.
    pub timeout: Duration,
    /// The rollout and batch the run is part of, when a release's rollout starts it: recorded
    /// before the command is sent.
    pub link: Option<RunLink>,
}

/// Why a command could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The control master refused it (a target that does not parse, among others).
    #[error("the control master refused the command: {0}")]
    Refused(Refusal),
    /// The records could not be written: nothing was sent.
    #[error("{0}")]
    Records(#[from] RecordError),
}

/// Starts and follows commands on a control master.
#[derive(Clone)]
pub struct Commands {
    records: Records,
    master: MasterHandle,
    operator: Identity,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands").field("operator", &self.operator.public()).finish_non_exhaustive()
    }
}

impl Commands {
    /// Commands over `master`, signed by `operator` (a key the master and its agents trust),
    /// recorded in `records`; the followers stop at `shutdown`.
    pub fn new(
        records: Records,
        master: MasterHandle,
        operator: Identity,
        shutdown: CancellationToken,
    ) -> Commands {
        todo!("stage 2: records, master, operator key and shutdown token, kept")
    }

    /// What stops the followers (and a rollout's driver): the platform's shutdown.
    pub fn stopping(&self) -> CancellationToken {
        todo!("stage 4: the shutdown token, cloned")
    }

    /// The connected hosts, each with its tags.
    pub fn connected(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        todo!("stage 2: the master's agents by id with their tags")
    }

    /// Starts `request` for `user`, on the hosts of `target` (which the caller has checked), and
    /// returns the run's id at once; its results are recorded as they come.
    ///
    /// `target` is what is signed: the caller narrows the user's target to their role's, and every
    /// agent checks the signed target again.
    ///
    /// # Errors
    ///
    /// [`StartError::Records`] when the run cannot be recorded (nothing is sent then),
    /// [`StartError::Refused`] when the master refuses the command (the run ends with no host:
    /// nothing was sent).
    pub async fn start(
        &self,
        user: &str,
        target: &str,
        request: &RunRequest,
        now: Millis,
    ) -> Result<i64, StartError> {
        todo!(
            "stage 2: make the command with lab 09's Command::new; record the run with no hosts and then its job id (and, from stage 4, its link to a rollout's batch), all before anything is sent; sign, start the job on the master with the batch asked for; record the hosts the master chose; spawn a follower; return the run's id"
        )
    }

    /// Takes up the runs a stopped platform left running: each one's job is followed again on the
    /// master, or, when the master does not know it, the run ends incomplete. Returns how many
    /// were followed again and how many ended.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be read or written.
    pub async fn recover(&self, now: Millis) -> Result<(usize, usize), RecordError> {
        todo!(
            "stage 2: for each unfinished run: its job, followed again on the master, gets its hosts recorded and a follower; a run whose job the master does not know is finished"
        )
    }
}

/// Whether `target` parses as a target expression.
///
/// # Errors
///
/// Why not, with the column.
pub fn check_target(target: &str) -> Result<Target, String> {
    todo!("stage 2: lab 09's Target::parse, its error as text")
}

/// A host's ending, as the records keep it.
pub fn result_of(host: String, ending: &Ending) -> HostResult {
    todo!(
        "stage 2: the ending's label as the status; with an exit, its code and its stdout then stderr as text; without, the refusal or the reason it was lost"
    )
}
