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
        match self {
            Portion::Count(count) => count,
            Portion::Percent(percent) => (hosts * usize::from(percent)).div_ceil(100),
        }
    }
}

impl FromStr for Portion {
    type Err = String;

    fn from_str(text: &str) -> Result<Portion, String> {
        let text = text.trim();
        match text.strip_suffix('%') {
            Some(percent) => match percent.parse::<u8>() {
                Ok(percent) if percent <= 100 => Ok(Portion::Percent(percent)),
                _ => Err(format!("{text:?} is not a percentage from 0% to 100%")),
            },
            None => text
                .parse()
                .map(Portion::Count)
                .map_err(|_| format!("{text:?} is neither a count of hosts nor a percentage like 10%")),
        }
    }
}

impl fmt::Display for Portion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Portion::Count(count) => write!(f, "{count}"),
            Portion::Percent(percent) => write!(f, "{percent}%"),
        }
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
        match outcome {
            Outcome::Refused(refusal) => Ending::Refused(refusal),
            Outcome::Exited(exit) if exit.timed_out => Ending::TimedOut(exit),
            Outcome::Exited(exit) if exit.code == Some(0) => Ending::Done(exit),
            Outcome::Exited(exit) => Ending::Failed(exit),
        }
    }

    /// Its name: `done`, `failed`, `timed out`, `refused`, `lost`, `unreachable` or `skipped`.
    pub fn label(&self) -> &'static str {
        match self {
            Ending::Done(_) => "done",
            Ending::Failed(_) => "failed",
            Ending::TimedOut(_) => "timed out",
            Ending::Refused(_) => "refused",
            Ending::Lost(_) => "lost",
            Ending::Unreachable => "unreachable",
            Ending::Skipped => "skipped",
        }
    }

    /// Whether it counts against the failure budget: anything but done and skipped.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Ending::Done(_) | Ending::Skipped)
    }

    /// The program's exit, when it ran.
    pub fn exit(&self) -> Option<&Exit> {
        match self {
            Ending::Done(exit) | Ending::Failed(exit) | Ending::TimedOut(exit) => Some(exit),
            _ => None,
        }
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
        self.events.recv().await
    }

    /// Waits for the job's end; how each host ended.
    pub async fn endings(mut self) -> BTreeMap<String, Ending> {
        let mut endings = BTreeMap::new();
        while let Some(event) = self.next().await {
            if let JobEvent::Ended(host, ending) = event {
                endings.insert(host, ending);
            }
        }
        endings
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
    let (events_tx, events) = mpsc::unbounded_channel();
    let hosts: Vec<String> = connected.iter().chain(&absent).cloned().collect();
    let window = options.batch.map_or(hosts.len(), |batch| batch.of(hosts.len())).max(1);
    let budget = options.failure_budget.map(|budget| budget.of(hosts.len()));
    let rollout = Rollout {
        shared,
        id,
        run,
        find_job: encode(&ToAgent::FindJob(id)).into(),
        queue: connected.into(),
        waiting: HashMap::new(),
        deadlines: BinaryHeap::new(),
        window,
        budget,
        failures: 0,
        stopped: false,
        counts: BTreeMap::new(),
        wait: options.wait,
        probe: options.probe,
        events: events_tx,
    };
    tokio::spawn(rollout.run(absent, heard));
    Job { id, hosts, events }
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
    async fn run(mut self, absent: Vec<String>, mut heard: mpsc::UnboundedReceiver<(String, Heard)>) {
        for host in absent {
            self.end(host, Ending::Unreachable);
        }
        loop {
            self.fill_window();
            if self.waiting.is_empty() {
                break;
            }
            let next_deadline = self.deadlines.peek().map(|Reverse((deadline, _))| *deadline);
            tokio::select! {
                Some((host, said)) = heard.recv() => self.heard(host, said),
                () = sleep_until(next_deadline) => self.deadlines_passed(Instant::now()),
            }
        }
        self.shared.runs().remove(&self.id);
        let counts = std::mem::take(&mut self.counts);
        self.audit(AuditRecord::End { at_ms: now_ms(), job: self.id, counts, stopped: self.stopped });
    }

    /// Starts hosts until the window is full, or skips them all once the job is stopped.
    fn fill_window(&mut self) {
        while !self.stopped && self.waiting.len() < self.window {
            let Some(host) = self.queue.pop_front() else { return };
            if self.shared.send_to(&host, &self.run) {
                self.watch(host.clone(), self.wait, false);
                self.emit(JobEvent::Sent(host));
            } else {
                self.end(host, Ending::Unreachable);
            }
        }
        if self.stopped {
            while let Some(host) = self.queue.pop_front() {
                self.end(host, Ending::Skipped);
            }
        }
    }

    fn heard(&mut self, host: String, said: Heard) {
        match said {
            Heard::Reply(reply) => {
                if self.waiting.remove(&host).is_some() {
                    self.end(host, Ending::of(reply.outcome));
                }
            }
            Heard::Job(status) => {
                if !self.waiting.get(&host).is_some_and(|watch| watch.probing) {
                    return;
                }
                if status.running {
                    self.watch(host.clone(), self.wait, false);
                    self.emit(JobEvent::StillRunning(host));
                } else {
                    self.waiting.remove(&host);
                    self.end(host, Ending::Lost("the agent does not know the command: it restarted".into()));
                }
            }
        }
    }

    /// Asks each host whose reply is late whether it is still running; a host already asked
    /// that has not answered is lost.
    fn deadlines_passed(&mut self, now: Instant) {
        while let Some(Reverse((deadline, _))) = self.deadlines.peek() {
            if *deadline > now {
                break;
            }
            let Some(Reverse((deadline, host))) = self.deadlines.pop() else { break };
            let Some(watch) = self.waiting.get(&host) else { continue };
            if watch.deadline != deadline {
                continue;
            }
            if watch.probing {
                self.waiting.remove(&host);
                self.end(host, Ending::Lost("no reply, and no answer to find_job".into()));
            } else {
                // Not connected now: it may be back within the probe time with its reply.
                self.shared.send_to(&host, &self.find_job);
                self.watch(host, self.probe, true);
            }
        }
    }

    fn watch(&mut self, host: String, within: Duration, probing: bool) {
        let deadline = Instant::now() + within;
        self.deadlines.push(Reverse((deadline, host.clone())));
        self.waiting.insert(host, Watch { deadline, probing });
    }

    fn end(&mut self, host: String, ending: Ending) {
        let failed = ending.is_failure();
        *self.counts.entry(ending.label().to_owned()).or_default() += 1;
        self.audit(AuditRecord::Host {
            at_ms: now_ms(),
            job: self.id,
            host: host.clone(),
            ending: ending.label().to_owned(),
            status: ending.exit().map(Exit::status),
            reason: match &ending {
                Ending::Refused(refusal) => Some(refusal.to_string()),
                Ending::Lost(why) => Some(why.clone()),
                _ => None,
            },
        });
        self.emit(JobEvent::Ended(host, ending));
        if failed {
            self.failures += 1;
            if let Some(budget) = self.budget
                && self.failures > budget
                && !self.stopped
            {
                self.stopped = true;
                self.emit(JobEvent::Stopped { failures: self.failures, budget });
            }
        }
    }

    fn emit(&self, event: JobEvent) {
        // Nobody listening is fine: the job still runs to its end, and the audit log has it.
        let _ = self.events.send(event);
    }

    fn audit(&self, record: AuditRecord) {
        self.shared.audit(&record);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}
