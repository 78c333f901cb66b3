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
        Commands { records, master, operator, shutdown }
    }

    /// What stops the followers (and a rollout's driver): the platform's shutdown.
    pub fn stopping(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The connected hosts, each with its tags.
    pub fn connected(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.master.agents().into_iter().map(|agent| (agent.id, agent.tags)).collect()
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
        // Agents refuse a command valid for longer than they allow: an hour, by default.
        let ttl = (request.timeout + Duration::from_secs(600)).min(Duration::from_secs(3600));
        let command = Command::new(target, &request.program, &request.args, ttl, request.timeout);
        let mut argv = vec![request.program.clone()];
        argv.extend(request.args.iter().cloned());
        let new = NewRun {
            user: user.to_string(),
            target: target.to_string(),
            command: argv,
            hosts: Vec::new(),
            started: now,
        };
        let run = self.records.start_run(&new).await?;
        self.records.set_run_job(run, command.id).await?;
        if let Some(link) = &request.link {
            self.records.link_run(run, link).await?;
        }
        let signed = SignedCommand::sign(&command, &self.operator);
        let options = JobOptions { batch: request.batch, ..JobOptions::default() };
        let job = match self.master.start(&signed, &options) {
            Ok(job) => job,
            Err(refusal) => {
                self.records.finish_run(run, now).await?;
                return Err(StartError::Refused(refusal));
            }
        };
        self.records.add_run_hosts(run, &job.hosts).await?;
        tokio::spawn(follow(self.records.clone(), run, job, self.shutdown.clone()));
        Ok(run)
    }

    /// Takes up the runs a stopped platform left running: each one's job is followed again on the
    /// master, or, when the master does not know it, the run ends incomplete. Returns how many
    /// were followed again and how many ended.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be read or written.
    pub async fn recover(&self, now: Millis) -> Result<(usize, usize), RecordError> {
        let (mut followed, mut ended) = (0, 0);
        for run in self.records.unfinished_runs().await? {
            let job = self.records.run_job(run.id).await?.and_then(|job| self.master.follow(job));
            match job {
                Some(job) => {
                    self.records.add_run_hosts(run.id, &job.hosts).await?;
                    tokio::spawn(follow(self.records.clone(), run.id, job, self.shutdown.clone()));
                    followed += 1;
                }
                None => {
                    self.records.finish_run(run.id, now).await?;
                    ended += 1;
                }
            }
        }
        Ok((followed, ended))
    }
}

/// Whether `target` parses as a target expression.
///
/// # Errors
///
/// Why not, with the column.
pub fn check_target(target: &str) -> Result<Target, String> {
    Target::parse(target).map_err(|err| err.to_string())
}

/// Follows `job` to its end, writing each host's result to run `run` in batches of up to
/// [`BATCH_RESULTS`], none waiting more than [`BATCH_WAIT`]; then ends the run. At `shutdown`, or
/// when a batch cannot be written, it stops and leaves the run running, for the next start to
/// take up.
async fn follow(records: Records, run: i64, mut job: control::master::Job, shutdown: CancellationToken) {
    let mut batch: Vec<HostResult> = Vec::new();
    let mut deadline: Option<Instant> = None;
    // For the log line at the end: how many results, and when the last one came.
    let (mut results, mut last_came) = (0usize, Instant::now());
    loop {
        let wait = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wait => {}
            event = job.next() => match event {
                Some(JobEvent::Ended(host, ending)) => {
                    batch.push(result_of(host, &ending));
                    (results, last_came) = (results + 1, Instant::now());
                    deadline.get_or_insert_with(|| Instant::now() + BATCH_WAIT);
                    if batch.len() < BATCH_RESULTS {
                        continue;
                    }
                }
                Some(_) => continue,
                None => {
                    if !write(&records, run, &mut batch).await {
                        return;
                    }
                    match records.finish_run(run, crate::now_millis()).await {
                        Ok(state) => tracing::info!(
                            run,
                            results,
                            state = state.as_str(),
                            last_to_recorded_ms = last_came.elapsed().as_millis() as u64,
                            "run ended"
                        ),
                        Err(err) => tracing::error!(run, cause = %err, "cannot end a run"),
                    }
                    return;
                }
            },
        }
        if !write(&records, run, &mut batch).await {
            return;
        }
        deadline = None;
    }
}

/// Writes `batch` to run `run` and empties it; `false` when it could not be written.
async fn write(records: &Records, run: i64, batch: &mut Vec<HostResult>) -> bool {
    if batch.is_empty() {
        return true;
    }
    match records.record_results(run, batch).await {
        Ok(_) => {
            batch.clear();
            true
        }
        Err(err) => {
            tracing::error!(run, results = batch.len(), cause = %err, "cannot record results; the run is left running");
            false
        }
    }
}

/// A host's ending, as the records keep it.
pub fn result_of(host: String, ending: &Ending) -> HostResult {
    let (exit_code, output) = match ending.exit() {
        Some(exit) => {
            let mut output = String::from_utf8_lossy(&exit.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&exit.stderr));
            (exit.code.map(i64::from), output)
        }
        None => (None, refusal_text(ending)),
    };
    HostResult { host, status: ending.label().to_string(), exit_code, output, ended: crate::now_millis() }
}

/// Why a host that did not run the program did not, for its output.
fn refusal_text(ending: &Ending) -> String {
    match ending {
        Ending::Refused(refusal) => refusal.to_string(),
        Ending::Lost(why) => why.clone(),
        _ => String::new(),
    }
}
