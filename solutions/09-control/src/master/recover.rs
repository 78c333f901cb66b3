//! Taking jobs up again after a restart: the audit log is the master's journal, and a job with a
//! `start` and no `end` is rolled out on from where it was.
//!
//! Its hosts with a `host` record have ended, and are told to followers as they ended. Its hosts
//! in a `sent` record were sent the command, or were about to be: they are not sent it again, but
//! asked about once the wait has passed (an agent that finished it answers with its reply again;
//! one that never had it is lost). The rest are sent the signed command from the `start` record,
//! after a pause that lets the agents reconnect: the job's wait, and at least three heartbeats.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use super::job::{Ending, JobOptions};
use super::rollout::Plan;
use crate::audit::AuditRecord;
use crate::command::{Refusal, SignedCommand};
use crate::wire::{Exit, ToAgent, encode};

/// A job found unfinished: where to roll it on from, and its command, whose nonce the restarted
/// master must remember as seen.
pub(super) struct Unfinished {
    pub plan: Plan,
    pub signed: SignedCommand,
}

/// What the log says of one job so far.
struct Journal {
    signed: SignedCommand,
    hosts: Vec<String>,
    options: JobOptions,
    sent: HashSet<String>,
    ended: Vec<(String, Ending)>,
    ended_hosts: HashSet<String>,
}

/// The jobs of `records` (an audit log, oldest first) that started and did not end, each to pause
/// for its wait, and at least `pause`, before it sends anything.
pub(super) fn unfinished(records: Vec<AuditRecord>, pause: Duration) -> Vec<Unfinished> {
    let mut jobs: HashMap<u64, Journal> = HashMap::new();
    let mut order = Vec::new();
    for record in records {
        match record {
            AuditRecord::Start { job, hosts, batch, failure_budget, wait_ms, probe_ms, signed, .. } => {
                let options = JobOptions {
                    batch: batch.and_then(|batch| batch.parse().ok()),
                    failure_budget: failure_budget.and_then(|budget| budget.parse().ok()),
                    wait: Duration::from_millis(wait_ms),
                    probe: Duration::from_millis(probe_ms),
                };
                order.push(job);
                jobs.insert(
                    job,
                    Journal {
                        signed,
                        hosts,
                        options,
                        sent: HashSet::new(),
                        ended: Vec::new(),
                        ended_hosts: HashSet::new(),
                    },
                );
            }
            AuditRecord::Sent { job, hosts, .. } => {
                if let Some(journal) = jobs.get_mut(&job) {
                    journal.sent.extend(hosts);
                }
            }
            AuditRecord::Host { job, ref host, .. } => {
                if let Some(journal) = jobs.get_mut(&job)
                    && let Some(ending) = ending_of(&record)
                    && journal.ended_hosts.insert(host.clone())
                {
                    journal.ended.push((host.clone(), ending));
                }
            }
            AuditRecord::End { job, .. } => {
                jobs.remove(&job);
            }
            AuditRecord::Refused { .. } => {}
        }
    }
    order.into_iter().filter_map(|id| jobs.remove(&id).map(|journal| plan(id, journal, pause))).collect()
}

fn plan(id: u64, journal: Journal, pause: Duration) -> Unfinished {
    let Journal { signed, hosts, options, sent, ended, ended_hosts } = journal;
    let queue: VecDeque<String> =
        hosts.iter().filter(|host| !sent.contains(*host) && !ended_hosts.contains(*host)).cloned().collect();
    let following: Vec<String> =
        hosts.iter().filter(|host| sent.contains(*host) && !ended_hosts.contains(*host)).cloned().collect();
    let failures = ended.iter().filter(|(_, ending)| ending.is_failure()).count();
    let stopped = options.failure_budget.is_some_and(|budget| failures > budget.of(hosts.len()));
    let plan = Plan {
        id,
        run: Arc::from(encode(&ToAgent::Run(signed.clone()))),
        hosts,
        queue,
        sent: following,
        ended,
        absent: Vec::new(),
        pause: options.wait.max(pause),
        options,
        stopped,
    };
    Unfinished { plan, signed }
}

/// The ending a `host` record tells of; `None` for any other record, or an ending it does not know.
fn ending_of(record: &AuditRecord) -> Option<Ending> {
    let AuditRecord::Host { ending, reason, refusal, code, signal, stdout, stderr, truncated, .. } = record
    else {
        return None;
    };
    let exit = |timed_out| Exit {
        code: *code,
        signal: *signal,
        timed_out,
        stdout: stdout.clone().into_bytes(),
        stderr: stderr.clone().into_bytes(),
        truncated: *truncated,
    };
    let reason = reason.clone().unwrap_or_default();
    Some(match ending.as_str() {
        "done" => Ending::Done(exit(false)),
        "failed" => Ending::Failed(exit(false)),
        "timed out" => Ending::TimedOut(exit(true)),
        "refused" => Ending::Refused(refusal.clone().unwrap_or(Refusal::Malformed(reason))),
        "lost" => Ending::Lost(reason),
        "unreachable" => Ending::Unreachable,
        "skipped" => Ending::Skipped,
        _ => return None,
    })
}
