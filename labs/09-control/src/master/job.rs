//! A job: one signed command rolled out to the hosts its target names, a batch at a time, each
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
//! the job always ends: every host it named ends exactly once, as done, failed, timed out,
//! refused, lost, unreachable or skipped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Heard, Shared};
use crate::audit::AuditRecord;
use crate::command::{Refusal, unix_ms};
use crate::wire::{Exit, Outcome, ToAgent, encode};

/// A number of hosts, or a share of them: a batch (`-b 10`, `-b 10%`) or a failure budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portion {
    /// This many hosts.
    Count(usize),
    /// This percentage of the hosts, 0 to 100.
    Percent(u8),
}

impl Portion {
    /// How many hosts of `hosts` this is, rounding up: 10% of 15 hosts is 2.
    pub fn of(self, hosts: usize) -> usize {
        todo!("stage 3: the count, or the percentage of hosts rounded up")
    }
}

impl FromStr for Portion {
    type Err = String;

    fn from_str(text: &str) -> Result<Portion, String> {
        todo!(
            "stage 3: a count, or a number from 0 to 100 followed by a percent sign; an error that quotes the text"
        )
    }
}

impl fmt::Display for Portion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 3: the count, or the percentage with its percent sign")
    }
}

/// How a job is rolled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOptions {
    /// At most this many hosts at once (`None`: all at once). A batch of 0 counts as 1.
    pub batch: Option<Portion>,
    /// The failures allowed: one more and no further host is started (`None`: no limit).
    pub failure_budget: Option<Portion>,
    /// How long a host's reply may take before it is asked whether it is still running.
    pub wait: Duration,
    /// How long its answer may take before it counts as lost.
    pub probe: Duration,
}

impl Default for JobOptions {
    /// All at once, no failure budget, a reply awaited 10 s before asking, 5 s for the answer.
    fn default() -> JobOptions {
        JobOptions {
            batch: None,
            failure_budget: None,
            wait: Duration::from_secs(10),
            probe: Duration::from_secs(5),
        }
    }
}

/// How a host ended in a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The program exited with 0.
    Done(Exit),
    /// The program exited otherwise, or was killed by a signal.
    Failed(Exit),
    /// The agent killed the program at its timeout; what it printed until then.
    TimedOut(Exit),
    /// The agent would not run it, and why.
    Refused(Refusal),
    /// It was sent the command, and then neither replied nor answered for it; why.
    Lost(String),
    /// It was not connected when its turn came.
    Unreachable,
    /// The job stopped (its failure budget was spent) before its turn came.
    Skipped,
}

impl Ending {
    /// How the agent's `outcome` ends its host.
    pub fn of(outcome: Outcome) -> Ending {
        todo!("stage 3: refused, timed out, exit code 0 done, anything else failed")
    }

    /// Its name: `done`, `failed`, `timed out`, `refused`, `lost`, `unreachable` or `skipped`.
    pub fn label(&self) -> &'static str {
        todo!("stage 3: the name of each ending")
    }

    /// Whether it counts against the failure budget: anything but done and skipped.
    pub fn is_failure(&self) -> bool {
        todo!("stage 3: anything but done and skipped")
    }

    /// The program's exit, when it ran.
    pub fn exit(&self) -> Option<&Exit> {
        todo!("stage 3: the exit of done, failed and timed out")
    }
}

/// What happens in a job, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// The command was sent to this host.
    Sent(String),
    /// This host's reply was late, and it says it is still running the command.
    StillRunning(String),
    /// This host ended: each host the job named ends exactly once.
    Ended(String, Ending),
    /// The failures went past the budget: no host is started any more.
    Stopped {
        /// The failures so far.
        failures: usize,
        /// The failures allowed.
        budget: usize,
    },
}

/// A running job: its events until every host it named has ended.
#[derive(Debug)]
pub struct Job {
    /// The command's id.
    pub id: u64,
    /// The hosts its target named, in the order they are started.
    pub hosts: Vec<String>,
    events: mpsc::UnboundedReceiver<JobEvent>,
}

impl Job {
    /// The next event; `None` once every host has ended.
    pub async fn next(&mut self) -> Option<JobEvent> {
        todo!("stage 3: the next event from the rollout task")
    }

    /// Waits for the job's end; how each host ended.
    pub async fn endings(self) -> BTreeMap<String, Ending> {
        todo!("stage 3: every Ended event until the end, by host")
    }
}

/// Starts following a job whose command passed the master's checks: `run` is its encoded
/// [`ToAgent::Run`], `connected` the named hosts connected now, `absent` those enrolled but not.
pub(super) fn start(
    shared: Arc<Shared>,
    id: u64,
    run: Arc<[u8]>,
    connected: Vec<String>,
    absent: Vec<String>,
    options: &JobOptions,
    heard: mpsc::UnboundedReceiver<(String, Heard)>,
) -> Job {
    todo!(
        "stage 3: spawn a Rollout over the connected hosts, the absent ones ending unreachable; the window and budget from the options"
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
    events: mpsc::UnboundedSender<JobEvent>,
}

impl Rollout {
    async fn run(self, absent: Vec<String>, heard: mpsc::UnboundedReceiver<(String, Heard)>) {
        todo!(
            "stage 3: end the absent as unreachable; fill the window, then a heard message or a deadline, until nothing waits; unroute and audit the end"
        )
    }

    /// Starts hosts until the window is full, or skips them all once the job is stopped.
    fn fill_window(&mut self) {
        todo!(
            "stage 3: send to hosts while the window has room, unreachable when the send fails; once stopped, skip the rest"
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

    fn end(&mut self, host: String, ending: Ending) {
        todo!("stage 3: count and audit it, send the event, then stop once the failures pass the budget")
    }

    fn emit(&self, event: JobEvent) {
        todo!("stage 3: send it, listener or not")
    }

    fn audit(&self, record: AuditRecord) {
        todo!("stage 3: the master audits it")
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    todo!("stage 3: sleep until the deadline, or forever without one")
}

fn now_ms() -> u64 {
    todo!("stage 3: now in Unix milliseconds")
}
