//! Command runs and every host's result. A run is written with the list of hosts it was sent to,
//! before anything is sent, and each result as it comes, in batches: so after a crash, a run's
//! hosts without a result are known, and the run is marked incomplete with them listed, never
//! taken for whole.

use sqlx::any::AnyRow;
use sqlx::{Any, QueryBuilder, Row};

use super::{Millis, RecordError, Records, Result, check, dialect};

/// How a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Results are still coming.
    Running,
    /// Ended with a result from every host.
    Complete,
    /// Ended with some host's result missing (the platform stopped, or the run was cut short).
    Incomplete,
}

impl RunState {
    /// The state as the records spell it.
    pub fn as_str(&self) -> &'static str {
        todo!("stage 1: running, complete or incomplete")
    }

    /// The state spelled `text`, if any.
    pub fn parse(text: &str) -> Option<RunState> {
        todo!("stage 1: the inverse of as_str")
    }
}

/// A run to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Who ran it.
    pub user: String,
    /// The target expression it was run on.
    pub target: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// The hosts the target matched: the run expects a result from each.
    pub hosts: Vec<String>,
    /// When it started.
    pub started: Millis,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its id, given by the records, increasing.
    pub id: i64,
    /// Who ran it.
    pub user: String,
    /// The target expression it was run on.
    pub target: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// When it started.
    pub started: Millis,
    /// When it ended, once it has.
    pub ended: Option<Millis>,
    /// How it stands.
    pub state: RunState,
    /// How many hosts it was sent to.
    pub hosts: i64,
    /// How many of their results are recorded.
    pub results: i64,
}

/// One host's result of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResult {
    /// The host.
    pub host: String,
    /// How it ended, as lab 09 names it (`done`, `failed`, `timeout`, `unreachable`, ...).
    pub status: String,
    /// The program's exit code, when it ran to an exit.
    pub exit_code: Option<i64>,
    /// What it wrote, cut to [`check::MAX_OUTPUT`] bytes.
    pub output: String,
    /// When the result came.
    pub ended: Millis,
}

impl Records {
    /// Records a run and the hosts it is for, in one transaction, and returns its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad user (`run.user`), target (`run.target`), an empty
    /// command (`run.command`) or a bad host name (`run.hosts`); nothing is written then.
    pub async fn start_run(&self, run: &NewRun) -> Result<i64> {
        todo!(
            "stage 1: check the fields, keep the command as JSON text, then in one transaction insert the run and each distinct host in batches of multi-row inserts under the parameter limit"
        )
    }

    /// Records a batch of results of run `run`, in one transaction: a few statements, however
    /// many results. A host's result that is recorded already is kept, and the new one dropped
    /// (a result told again after a restart is the same result). Returns how many were new.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when the run has no such host (nothing of the batch is written
    /// then), [`RecordError::Invalid`] for an empty status (`result.status`).
    pub async fn record_results(&self, run: i64, results: &[HostResult]) -> Result<usize> {
        todo!(
            "stage 1: check the statuses and cut the outputs; one transaction of multi-row inserts that keep an existing result; a foreign key violation is NotFound; return how much the run's count of results grew"
        )
    }

    /// Ends run `run` at `ended`: complete when every host's result is recorded, incomplete
    /// otherwise. Returns the state it ended in. Ending a run that has ended changes nothing.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is no such run.
    pub async fn finish_run(&self, run: i64, ended: Millis) -> Result<RunState> {
        todo!(
            "stage 1: in one transaction: NotFound for no run, nothing changes once ended, else complete when every host has a result and incomplete otherwise"
        )
    }

    /// Run `run`, with how many results it has.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn run(&self, run: i64) -> Result<Option<Run>> {
        todo!("stage 1: the run's row with its count of results")
    }

    /// The newest `limit` runs, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn runs(&self, limit: u32) -> Result<Vec<Run>> {
        todo!("stage 1: the newest runs first, at most limit")
    }

    /// The runs still running, oldest first: after a restart, the ones the platform was following.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn unfinished_runs(&self) -> Result<Vec<Run>> {
        todo!("stage 1: the runs still running, oldest first")
    }

    /// The results of run `run`, by host.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn results(&self, run: i64) -> Result<Vec<HostResult>> {
        todo!("stage 1: the run's results, by host")
    }

    /// The hosts of run `run` with no result recorded, sorted.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn missing_hosts(&self, run: i64) -> Result<Vec<String>> {
        todo!("stage 1: the run's hosts with no result: a left join of run_hosts and run_results")
    }

    /// Records that run `run` is the control master's job `job`.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is no such run, [`RecordError::Conflict`] when it has
    /// a job already.
    pub async fn set_run_job(&self, run: i64, job: u64) -> Result<()> {
        todo!(
            "stage 2: insert the run's id and the job, the job as decimal text since a u64 outgrows a signed BIGINT; a foreign key violation is NotFound, a unique one Conflict"
        )
    }

    /// The control master's job that run `run` is, if one was recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails, or the job recorded is not a number.
    pub async fn run_job(&self, run: i64) -> Result<Option<u64>> {
        todo!("stage 2: the job recorded for the run, parsed back from its decimal text")
    }

    /// Adds hosts to run `run` (the ones the control master chose), keeping those it has.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad host name (`run.hosts`), [`RecordError::NotFound`] when
    /// there is no such run.
    pub async fn add_run_hosts(&self, run: i64, hosts: &[String]) -> Result<()> {
        todo!(
            "stage 2: in one transaction: NotFound for no run, insert the hosts keeping those there, then set host_count to how many the run has"
        )
    }
}
