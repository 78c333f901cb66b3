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
    todo!("stage 4: a Journal per started job from its records, dropped at its end; a plan for each left")
}

fn plan(id: u64, journal: Journal, pause: Duration) -> Unfinished {
    todo!(
        "stage 4: queue the hosts neither sent nor ended, follow the sent, replay the ended, pause for the wait"
    )
}

/// The ending a `host` record tells of; `None` for any other record, or an ending it does not know.
fn ending_of(record: &AuditRecord) -> Option<Ending> {
    todo!("stage 4: the Ending each label names, the exit rebuilt from the record")
}
