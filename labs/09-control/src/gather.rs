//! A job's results gathered as they come: how many hosts ended each way, the hosts that ended
//! alike grouped with their output, the hosts still running (longest first) and those not started.
//!
//! An operator who runs a command on a thousand hosts wants "990 printed this, 8 printed that, 2
//! are still running", not a thousand outputs. So each ending is grouped with the others of the
//! same kind, exit status and output as it arrives, by hashing the output rather than comparing it
//! with every group, and the report reads straight from the groups. The `control run` command
//! feeds a [`Gather`] the events the master streams, and shows [`Gather::progress_line`] under
//! way; tests feed it the events of a [`Job`](crate::master::Job) in-process.
//!
//! A job can be re-attached after the master restarts, and its events then come again: every
//! event may be a replay. A host ends once, and its first ending is the one that counts.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::master::{Ending, JobEvent};
use crate::wire::Exit;

/// The endings' labels ([`Ending::label`]), in the order they are counted and reported.
const ENDINGS: [&str; 7] = ["done", "failed", "timed out", "refused", "lost", "unreachable", "skipped"];

/// A job's results gathered as they come.
///
/// Taking in an event costs a lookup of its host and, for an ending, of its group: gathering keeps
/// up with a job of 50,000 hosts. The lists (groups, stragglers, hosts not started) are built when
/// asked for.
#[derive(Debug)]
pub struct Gather {
    start: Instant,
    /// The hosts the job named, in its order, each once.
    hosts: Vec<String>,
    /// Where each host is in `hosts`.
    index: HashMap<String, usize>,
    /// How far each host of `hosts` is.
    states: Vec<State>,
    /// The hosts ended, by [`ENDINGS`].
    counts: [usize; ENDINGS.len()],
    ended: usize,
    running: usize,
    groups: Vec<Members>,
    /// The groups whose likeness hashes to each value (almost always one).
    by_hash: HashMap<u64, Vec<usize>>,
    hasher: RandomState,
    stopped: Option<(usize, usize)>,
}

/// Where a host is in the job.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Waiting for its turn.
    Waiting,
    /// Sent the command at this time, not ended.
    Running(Instant),
    Ended,
}

/// One group as gathered: what its hosts share, and the hosts (as places in [`Gather::hosts`]).
#[derive(Debug)]
struct Members {
    ending: &'static str,
    status: Option<i32>,
    reason: Option<String>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
    hosts: Vec<usize>,
}

/// What hosts that ended alike share, borrowed: from an ending to look its group up with (no copy
/// of the output unless the group is new), or from a group.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Likeness<'a> {
    ending: &'static str,
    status: Option<i32>,
    reason: Option<Cow<'a, str>>,
    stdout: &'a [u8],
    stderr: &'a [u8],
    truncated: bool,
}

impl Members {
    fn likeness(&self) -> Likeness<'_> {
        todo!("stage 4: borrow every field")
    }
}

impl<'a> Likeness<'a> {
    fn of(ending: &'a Ending) -> Likeness<'a> {
        todo!(
            "stage 4: the label and exit status; the refusal's text or why it was lost; the exit's output and truncated flag or none"
        )
    }
}

/// Hosts that ended alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// How they ended ([`Ending::label`]).
    pub ending: &'static str,
    /// The program's exit status, when it ran ([`Exit::status`]).
    pub status: Option<i32>,
    /// Why, for a refusal (its text) or a lost host.
    pub reason: Option<String>,
    /// What the program wrote to standard output.
    pub stdout: Vec<u8>,
    /// What it wrote to standard error.
    pub stderr: Vec<u8>,
    /// Whether the agent cut the output at its cap.
    pub truncated: bool,
    /// The hosts, sorted.
    pub hosts: Vec<String>,
}

impl Gather {
    /// Gathering for a job that named `hosts`, begun at `start`. A host named twice counts once.
    pub fn new(hosts: Vec<String>, start: Instant) -> Gather {
        todo!("stage 4: each host once with its place in an index; every host waiting")
    }

    /// Takes in one event, seen at `at`. Replays are harmless: a host ends once, the first ending
    /// counts; events for hosts the job did not name are ignored.
    ///
    /// A host is running from its first `Sent`, or its first `StillRunning` if its `Sent` was
    /// missed (it was sent the command, then, if not when), until it ends.
    pub fn record(&mut self, event: &JobEvent, at: Instant) {
        todo!(
            "stage 4: a named waiting host sent or still running is running from now; a named host not ended ends once counted and grouped; keep the first stop"
        )
    }

    /// The group of the hosts that ended like `ending`, made if it is the first.
    fn group_for(&mut self, ending: &Ending) -> usize {
        todo!("stage 4: hash the likeness; among the groups of that hash the equal one or a new group")
    }

    /// How many hosts the job named.
    pub fn named(&self) -> usize {
        todo!("stage 4: how many hosts the job named")
    }

    /// How many of them have ended.
    pub fn ended(&self) -> usize {
        todo!("stage 4: how many have ended")
    }

    /// Every named host has ended.
    pub fn is_complete(&self) -> bool {
        todo!("stage 4: ended all that were named")
    }

    /// How many hosts ended each way, by [`Ending::label`], in a fixed order: done, failed, timed
    /// out, refused, lost, unreachable, skipped (only the non-zero ones).
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        todo!("stage 4: the labels with their non-zero counts in order")
    }

    /// The hosts that ended alike (same label, same exit status, same stdout, stderr, truncated
    /// flag and reason), biggest group first, ties by first host name; hosts sorted in each.
    pub fn groups(&self) -> Vec<Group> {
        todo!("stage 4: each group with its host names sorted; biggest first then by first name")
    }

    /// Hosts sent the command and not ended, with how long since they were sent (as of `now`),
    /// longest first; at most `limit`.
    pub fn stragglers(&self, now: Instant, limit: usize) -> Vec<(String, Duration)> {
        todo!(
            "stage 4: the running hosts earliest sent first and at most limit of them; how long since each was sent"
        )
    }

    /// Named hosts neither sent nor ended yet (waiting for their batch), in the job's order.
    pub fn not_started(&self) -> Vec<String> {
        todo!("stage 4: the waiting hosts in the job's order")
    }

    /// `Some((failures, budget))` once a [`JobEvent::Stopped`] was seen.
    pub fn stopped(&self) -> Option<(usize, usize)> {
        todo!("stage 4: the first stop seen")
    }

    /// One line for a progress bar: `412/1000 ended: 400 done, 10 failed, 2 lost; 30 running`.
    pub fn progress_line(&self) -> String {
        todo!("stage 4: ended out of named; the counts; how many running; stopped or not")
    }

    /// The whole human-readable report as of `now`: a first line with the totals and elapsed time
    /// since `start`, then each group (its label, exit status or reason, how many hosts, the
    /// hosts — at most `max_hosts` names then "and N more" — and its stdout/stderr, indented,
    /// lossy UTF-8, each capped at `max_lines` lines with a note of how many more), then the
    /// stragglers and not-started hosts if any, then "stopped: the failure budget ..." if stopped.
    ///
    /// Output is the hosts' own bytes: control characters in it are shown escaped, so that a host
    /// cannot move the cursor or recolour the operator's terminal.
    pub fn report(&self, now: Instant, max_hosts: usize, max_lines: usize) -> String {
        todo!(
            "stage 4: the totals line; each group with its hosts and output; the stragglers; those not started; the stop"
        )
    }
}

/// The place of an ending in [`ENDINGS`].
fn rank(ending: &Ending) -> usize {
    todo!("stage 4: the place of each ending in ENDINGS")
}

/// `text` with its control characters but tab escaped (`\u{1b}`, `\r`).
fn printable(text: &str) -> Cow<'_, str> {
    todo!("stage 4: escape control characters but tab")
}
