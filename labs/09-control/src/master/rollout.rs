//! A job's rollout: one signed command sent to the hosts a job names, a batch at a time, each
//! host followed until it ends one way or another.
//!
//! The batch is a sliding window, as Salt's `-b`: at most that many hosts run the command at once,
//! and as one ends the next starts, so one slow host holds up one slot, not a whole batch. Every
//! failure counts against the failure budget; past it no host is started any more (those left are
//! `skipped`), and the hosts already running are still followed to their end.
//!
//! A host whose reply is late is asked whether it is still running the command (Salt's
//! `find_job`): one that says so is waited for again, one that does not answer within the probe
//! time, or no longer knows the command, is lost. So a slow host and a dead one are told apart, and
//! the job always ends.
//!
//! Everything is written to the audit log as it happens, hosts before they are sent the command,
//! so a master that restarts takes the rollout up where it was (`recover.rs`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::job::{Ending, JobEvent, JobOptions, Progress};
use super::{Heard, Shared};
use crate::audit::AuditRecord;
use crate::command::unix_ms;
use crate::wire::{Exit, ToAgent, encode};

/// Where a rollout starts from: a new job, or one a restarted master takes up again.
pub(super) struct Plan {
    /// The command's id.
    pub id: u64,
    /// Its encoded [`ToAgent::Run`].
    pub run: Arc<[u8]>,
    /// Every host it names, in order.
    pub hosts: Vec<String>,
    /// The hosts still to be sent the command, in order.
    pub queue: VecDeque<String>,
    /// The hosts sent it already and not ended: asked about once `wait` has passed.
    pub sent: Vec<String>,
    /// The hosts already ended.
    pub ended: Vec<(String, Ending)>,
    /// The named hosts known to be away: unreachable from the start.
    pub absent: Vec<String>,
    /// How it is rolled out.
    pub options: JobOptions,
    /// Whether the job's failure budget was spent already.
    pub stopped: bool,
    /// How long to wait before sending anything (the agents of a restarted master coming back).
    pub pause: Duration,
}

/// Starts rolling `plan` out, told what agents say of it through `heard`; its progress is kept
/// in the master's jobs, where followers find it.
pub(super) fn start(shared: Arc<Shared>, plan: Plan, heard: mpsc::UnboundedReceiver<(String, Heard)>) {
    todo!(
        "stage 3: keep a new Progress in the master, then spawn a Rollout with the window and budget the options give"
    )
}

/// A host sent the command, not yet ended.
struct Watch {
    deadline: Instant,
    /// Whether it was asked if it is still running, and the answer is awaited.
    probing: bool,
}

/// The state of one job's rollout.
struct Rollout {
    shared: Arc<Shared>,
    progress: Arc<Mutex<Progress>>,
    id: u64,
    run: Arc<[u8]>,
    find_job: Arc<[u8]>,
    /// The hosts not started yet, in order.
    queue: VecDeque<String>,
    waiting: HashMap<String, Watch>,
    /// When each waiting host's time runs out, soonest first; an entry whose host has since
    /// moved on (it replied, or its deadline changed) is skipped when it comes up.
    deadlines: BinaryHeap<Reverse<(Instant, String)>>,
    window: usize,
    budget: Option<usize>,
    failures: usize,
    stopped: bool,
    counts: BTreeMap<String, usize>,
    wait: Duration,
    probe: Duration,
    /// No host is started before this.
    paused_until: Instant,
}

impl Rollout {
    async fn run(
        self,
        ended: Vec<(String, Ending)>,
        absent: Vec<String>,
        sent: Vec<String>,
        heard: mpsc::UnboundedReceiver<(String, Heard)>,
    ) {
        todo!(
            "stage 3: replay the ended, end the absent as unreachable, watch the sent; then fill the window and wait for a message, a deadline or the master stopping; unroute, audit the end and close"
        )
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        todo!("stage 3: lock the progress, even a poisoned lock")
    }

    /// Starts hosts until the window is full, or skips them all once the job is stopped.
    fn fill_window(&mut self) {
        todo!(
            "stage 3: skip the queue once stopped; else audit the next hosts as sent, then send each, unreachable when the send fails"
        )
    }

    fn heard(&mut self, host: String, said: Heard) {
        todo!(
            "stage 3: a reply ends its host; a job status while probing is waited for again when running, lost when not"
        )
    }

    /// Asks each host whose reply is late whether it is still running; a host already asked
    /// that has not answered is lost.
    fn deadlines_passed(&mut self, now: Instant) {
        todo!("stage 3: each passed deadline still current: ask find_job, or end as lost when already asked")
    }

    fn watch(&mut self, host: String, within: Duration, probing: bool) {
        todo!("stage 3: a new deadline for the host, in the map and the heap")
    }

    /// Counts `ending` by its label, and as a failure when it is one.
    fn count(&mut self, ending: &Ending) {
        todo!("stage 3: count it by label, and as a failure when it is one")
    }

    fn end(&mut self, host: String, ending: Ending) {
        todo!("stage 3: count and audit it, tell the followers, then stop once the failures pass the budget")
    }

    fn emit(&self, event: JobEvent) {
        todo!("stage 3: push it into the progress")
    }
}

/// The audit record of `host` ending as `ending` in job `job`.
pub(super) fn host_record(job: u64, host: &str, ending: &Ending) -> AuditRecord {
    todo!("stage 3: the Host record, with the exit and the output as text when it ran")
}

async fn sleep_until(deadline: Option<Instant>) {
    todo!("stage 3: sleep until the deadline, or forever without one")
}

fn now_ms() -> u64 {
    todo!("stage 3: now in Unix milliseconds")
}
