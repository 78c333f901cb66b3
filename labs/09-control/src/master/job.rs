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

impl TryFrom<String> for Portion {
    type Error = String;

    fn try_from(text: String) -> Result<Portion, String> {
        todo!("stage 4: parse it")
    }
}

impl From<Portion> for String {
    fn from(portion: Portion) -> String {
        todo!("stage 4: its text")
    }
}

impl fmt::Display for Portion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 3: the count, or the percentage with its percent sign")
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
        todo!("stage 3: the next event")
    }

    /// Waits for the job's end; how each host ended.
    pub async fn endings(self) -> BTreeMap<String, Ending> {
        todo!("stage 3: every Ended event until the end, by host")
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
        todo!("stage 3: no events, no followers, not over")
    }

    /// A new follower: every event so far, then the rest as they happen.
    pub(super) fn follow(&mut self) -> Job {
        todo!("stage 3: a channel told every event so far, kept as a follower unless the job is over")
    }

    /// Keeps `event` and tells every follower still listening.
    pub(super) fn push(&mut self, event: JobEvent) {
        todo!("stage 3: tell the followers still listening, then keep it")
    }

    /// The job is over (or its master stopped): its followers' events end.
    pub(super) fn close(&mut self, over: bool) {
        todo!("stage 3: drop the followers; remember whether it is over")
    }

    /// Whether the job is over.
    pub(super) fn is_over(&self) -> bool {
        todo!("stage 3: whether it is over")
    }
}
