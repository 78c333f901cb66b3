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
    let progress = Arc::new(Mutex::new(Progress::new(plan.id, plan.hosts.clone())));
    shared.keep_job(plan.id, Arc::clone(&progress));
    let window = plan.options.batch.map_or(plan.hosts.len(), |batch| batch.of(plan.hosts.len())).max(1);
    let budget = plan.options.failure_budget.map(|budget| budget.of(plan.hosts.len()));
    let rollout = Rollout {
        find_job: encode(&ToAgent::FindJob(plan.id)).into(),
        shared,
        progress,
        id: plan.id,
        run: plan.run,
        queue: plan.queue,
        waiting: HashMap::new(),
        deadlines: BinaryHeap::new(),
        window,
        budget,
        failures: 0,
        stopped: plan.stopped,
        counts: BTreeMap::new(),
        wait: plan.options.wait,
        probe: plan.options.probe,
        paused_until: Instant::now() + plan.pause,
    };
    tokio::spawn(rollout.run(plan.ended, plan.absent, plan.sent, heard));
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
        mut self,
        ended: Vec<(String, Ending)>,
        absent: Vec<String>,
        sent: Vec<String>,
        mut heard: mpsc::UnboundedReceiver<(String, Heard)>,
    ) {
        for (host, ending) in ended {
            self.count(&ending);
            self.emit(JobEvent::Ended(host, ending));
        }
        for host in absent {
            self.end(host, Ending::Unreachable);
        }
        for host in sent {
            self.watch(host, self.wait, false);
        }
        let stopping = self.shared.stopping.clone();
        loop {
            let paused = Instant::now() < self.paused_until;
            if !paused {
                self.fill_window();
            }
            // The pause (a job taken up after a restart) holds back what is still to be sent,
            // until the agents have reconnected; a job with nothing left to send or to wait for
            // is over, paused or not.
            if self.waiting.is_empty() && (self.queue.is_empty() || (self.stopped && !paused)) {
                break;
            }
            let mut next_deadline = self.deadlines.peek().map(|Reverse((deadline, _))| *deadline);
            if paused {
                next_deadline = Some(next_deadline.map_or(self.paused_until, |at| at.min(self.paused_until)));
            }
            tokio::select! {
                Some((host, said)) = heard.recv() => self.heard(host, said),
                () = sleep_until(next_deadline) => self.deadlines_passed(Instant::now()),
                // The master stops: leave the rest to the one that takes the job up again, and
                // write nothing that would tell it the job is over.
                () = stopping.cancelled() => {
                    self.progress().close(false);
                    return;
                }
            }
        }
        self.shared.runs().remove(&self.id);
        let counts = std::mem::take(&mut self.counts);
        self.shared.audit(&AuditRecord::End { at_ms: now_ms(), job: self.id, counts, stopped: self.stopped });
        self.progress().close(true);
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts hosts until the window is full, or skips them all once the job is stopped.
    fn fill_window(&mut self) {
        if self.stopped {
            while let Some(host) = self.queue.pop_front() {
                self.end(host, Ending::Skipped);
            }
            return;
        }
        let room = self.window.saturating_sub(self.waiting.len()).min(self.queue.len());
        if room == 0 {
            return;
        }
        let batch: Vec<String> = self.queue.drain(..room).collect();
        // Written before they are sent: a master that dies in between asks these hosts, and
        // sends the command to none of them twice.
        self.shared.audit(&AuditRecord::Sent { at_ms: now_ms(), job: self.id, hosts: batch.clone() });
        for host in batch {
            if self.shared.send_to(&host, &self.run) {
                self.watch(host.clone(), self.wait, false);
                self.emit(JobEvent::Sent(host));
            } else {
                self.end(host, Ending::Unreachable);
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

    /// Counts `ending` by its label, and as a failure when it is one.
    fn count(&mut self, ending: &Ending) {
        *self.counts.entry(ending.label().to_owned()).or_default() += 1;
        if ending.is_failure() {
            self.failures += 1;
        }
    }

    fn end(&mut self, host: String, ending: Ending) {
        self.count(&ending);
        self.shared.audit(&host_record(self.id, &host, &ending));
        self.emit(JobEvent::Ended(host, ending));
        if let Some(budget) = self.budget
            && self.failures > budget
            && !self.stopped
        {
            self.stopped = true;
            self.emit(JobEvent::Stopped { failures: self.failures, budget });
        }
    }

    fn emit(&self, event: JobEvent) {
        self.progress().push(event);
    }
}

/// The audit record of `host` ending as `ending` in job `job`.
pub(super) fn host_record(job: u64, host: &str, ending: &Ending) -> AuditRecord {
    let exit = ending.exit();
    let text = |bytes: Option<&Vec<u8>>| {
        bytes.map(|bytes| String::from_utf8_lossy(bytes).into_owned()).unwrap_or_default()
    };
    AuditRecord::Host {
        at_ms: now_ms(),
        job,
        host: host.to_owned(),
        ending: ending.label().to_owned(),
        status: exit.map(Exit::status),
        reason: match ending {
            Ending::Refused(refusal) => Some(refusal.to_string()),
            Ending::Lost(why) => Some(why.clone()),
            _ => None,
        },
        refusal: match ending {
            Ending::Refused(refusal) => Some(refusal.clone()),
            _ => None,
        },
        code: exit.and_then(|exit| exit.code),
        signal: exit.and_then(|exit| exit.signal),
        stdout: text(exit.map(|exit| &exit.stdout)),
        stderr: text(exit.map(|exit| &exit.stderr)),
        truncated: exit.is_some_and(|exit| exit.truncated),
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
