//! A job, as its followers see it: how it is rolled out ([`JobOptions`], [`Portion`]), what
//! happens in it ([`JobEvent`]), how each host ends ([`Ending`]), and the [`Job`] handle that
//! follows it. The rollout itself is `rollout.rs`; its events are kept (`Progress`) so a follower
//! that comes late, or again after a master restart, is told everything from the start.
//!
//! Every host a job names ends exactly once: done, failed, timed out, refused, lost, unreachable
//! or skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::command::Refusal;
use crate::wire::{Exit, Outcome};

/// A number of hosts, or a share of them: a batch (`-b 10`, `-b 10%`) or a failure budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
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

impl TryFrom<String> for Portion {
    type Error = String;

    fn try_from(text: String) -> Result<Portion, String> {
        text.parse()
    }
}

impl From<Portion> for String {
    fn from(portion: Portion) -> String {
        portion.to_string()
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A job followed: its events from the start until every host it named has ended, or the master
/// stops (then the events end early: follow it again on the restarted master).
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

/// A job's events so far and its followers: what a follower that comes late is told first.
#[derive(Debug)]
pub(super) struct Progress {
    id: u64,
    hosts: Vec<String>,
    events: Vec<JobEvent>,
    followers: Vec<mpsc::UnboundedSender<JobEvent>>,
    over: bool,
}

impl Progress {
    /// A job `id` over `hosts`, nothing happened yet.
    pub(super) fn new(id: u64, hosts: Vec<String>) -> Progress {
        Progress { id, hosts, events: Vec::new(), followers: Vec::new(), over: false }
    }

    /// A new follower: every event so far, then the rest as they happen.
    pub(super) fn follow(&mut self) -> Job {
        let (sender, events) = mpsc::unbounded_channel();
        for event in &self.events {
            let _ = sender.send(event.clone());
        }
        if !self.over {
            self.followers.push(sender);
        }
        Job { id: self.id, hosts: self.hosts.clone(), events }
    }

    /// Keeps `event` and tells every follower still listening.
    pub(super) fn push(&mut self, event: JobEvent) {
        self.followers.retain(|follower| follower.send(event.clone()).is_ok());
        self.events.push(event);
    }

    /// The job is over (or its master stopped): its followers' events end.
    pub(super) fn close(&mut self, over: bool) {
        self.followers.clear();
        self.over = over;
    }

    /// Whether the job is over.
    pub(super) fn is_over(&self) -> bool {
        self.over
    }
}
