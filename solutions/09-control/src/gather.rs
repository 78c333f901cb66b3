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
        Likeness {
            ending: self.ending,
            status: self.status,
            reason: self.reason.as_deref().map(Cow::Borrowed),
            stdout: &self.stdout,
            stderr: &self.stderr,
            truncated: self.truncated,
        }
    }
}

impl<'a> Likeness<'a> {
    fn of(ending: &'a Ending) -> Likeness<'a> {
        let exit = ending.exit();
        Likeness {
            ending: ENDINGS[rank(ending)],
            status: exit.map(Exit::status),
            reason: match ending {
                Ending::Refused(refusal) => Some(Cow::Owned(refusal.to_string())),
                Ending::Lost(why) => Some(Cow::Borrowed(why.as_str())),
                _ => None,
            },
            stdout: exit.map_or(&[], |exit| &exit.stdout),
            stderr: exit.map_or(&[], |exit| &exit.stderr),
            truncated: exit.is_some_and(|exit| exit.truncated),
        }
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
        let mut index = HashMap::with_capacity(hosts.len());
        let mut unique = Vec::with_capacity(hosts.len());
        for host in hosts {
            if !index.contains_key(&host) {
                index.insert(host.clone(), unique.len());
                unique.push(host);
            }
        }
        Gather {
            start,
            states: vec![State::Waiting; unique.len()],
            hosts: unique,
            index,
            counts: [0; ENDINGS.len()],
            ended: 0,
            running: 0,
            groups: Vec::new(),
            by_hash: HashMap::new(),
            hasher: RandomState::new(),
            stopped: None,
        }
    }

    /// Takes in one event, seen at `at`. Replays are harmless: a host ends once, the first ending
    /// counts; events for hosts the job did not name are ignored.
    ///
    /// A host is running from its first `Sent`, or its first `StillRunning` if its `Sent` was
    /// missed (it was sent the command, then, if not when), until it ends.
    pub fn record(&mut self, event: &JobEvent, at: Instant) {
        match event {
            JobEvent::Sent(host) | JobEvent::StillRunning(host) => {
                let Some(&place) = self.index.get(host) else { return };
                if let State::Waiting = self.states[place] {
                    self.states[place] = State::Running(at);
                    self.running += 1;
                }
            }
            JobEvent::Ended(host, ending) => {
                let Some(&place) = self.index.get(host) else { return };
                match self.states[place] {
                    State::Ended => return,
                    State::Running(_) => self.running -= 1,
                    State::Waiting => {}
                }
                self.states[place] = State::Ended;
                self.ended += 1;
                self.counts[rank(ending)] += 1;
                let group = self.group_for(ending);
                self.groups[group].hosts.push(place);
            }
            JobEvent::Stopped { failures, budget } => {
                self.stopped.get_or_insert((*failures, *budget));
            }
        }
    }

    /// The group of the hosts that ended like `ending`, made if it is the first.
    fn group_for(&mut self, ending: &Ending) -> usize {
        let likeness = Likeness::of(ending);
        let hash = self.hasher.hash_one(&likeness);
        let candidates = self.by_hash.entry(hash).or_default();
        // Two different likenesses may share a hash: the hash finds the candidates, equality decides.
        if let Some(&group) = candidates.iter().find(|&&group| self.groups[group].likeness() == likeness) {
            return group;
        }
        candidates.push(self.groups.len());
        self.groups.push(Members {
            ending: likeness.ending,
            status: likeness.status,
            reason: likeness.reason.map(Cow::into_owned),
            stdout: likeness.stdout.to_vec(),
            stderr: likeness.stderr.to_vec(),
            truncated: likeness.truncated,
            hosts: Vec::new(),
        });
        self.groups.len() - 1
    }

    /// How many hosts the job named.
    pub fn named(&self) -> usize {
        self.hosts.len()
    }

    /// How many of them have ended.
    pub fn ended(&self) -> usize {
        self.ended
    }

    /// Every named host has ended.
    pub fn is_complete(&self) -> bool {
        self.ended == self.hosts.len()
    }

    /// How many hosts ended each way, by [`Ending::label`], in a fixed order: done, failed, timed
    /// out, refused, lost, unreachable, skipped (only the non-zero ones).
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        ENDINGS.into_iter().zip(self.counts).filter(|&(_, count)| count > 0).collect()
    }

    /// The hosts that ended alike (same label, same exit status, same stdout, stderr, truncated
    /// flag and reason), biggest group first, ties by first host name; hosts sorted in each.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .groups
            .iter()
            .map(|members| {
                let mut hosts: Vec<String> =
                    members.hosts.iter().map(|&place| self.hosts[place].clone()).collect();
                hosts.sort_unstable();
                Group {
                    ending: members.ending,
                    status: members.status,
                    reason: members.reason.clone(),
                    stdout: members.stdout.clone(),
                    stderr: members.stderr.clone(),
                    truncated: members.truncated,
                    hosts,
                }
            })
            .collect();
        // A group has a host from its making on, and no host is in two: the first names differ.
        groups.sort_unstable_by(|a, b| {
            b.hosts.len().cmp(&a.hosts.len()).then_with(|| a.hosts[0].cmp(&b.hosts[0]))
        });
        groups
    }

    /// Hosts sent the command and not ended, with how long since they were sent (as of `now`),
    /// longest first; at most `limit`.
    pub fn stragglers(&self, now: Instant, limit: usize) -> Vec<(String, Duration)> {
        let mut running: Vec<(Instant, &str)> = self
            .states
            .iter()
            .zip(&self.hosts)
            .filter_map(|(state, host)| match state {
                State::Running(since) => Some((*since, host.as_str())),
                _ => None,
            })
            .collect();
        // The `limit` longest first, without sorting all the others: a report of a job with
        // thousands running names a few.
        if limit < running.len() {
            running.select_nth_unstable(limit);
            running.truncate(limit);
        }
        running.sort_unstable();
        running
            .into_iter()
            .map(|(since, host)| (host.to_owned(), now.saturating_duration_since(since)))
            .collect()
    }

    /// Named hosts neither sent nor ended yet (waiting for their batch), in the job's order.
    pub fn not_started(&self) -> Vec<String> {
        self.states
            .iter()
            .zip(&self.hosts)
            .filter(|(state, _)| matches!(state, State::Waiting))
            .map(|(_, host)| host.clone())
            .collect()
    }

    /// `Some((failures, budget))` once a [`JobEvent::Stopped`] was seen.
    pub fn stopped(&self) -> Option<(usize, usize)> {
        self.stopped
    }

    /// One line for a progress bar: `412/1000 ended: 400 done, 10 failed, 2 lost; 30 running`.
    pub fn progress_line(&self) -> String {
        let mut line = format!("{}/{} ended", self.ended, self.named());
        self.write_counts(&mut line);
        if self.running > 0 {
            let _ = write!(line, "; {} running", self.running);
        }
        if self.stopped.is_some() {
            line.push_str("; stopped");
        }
        line
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
        // Writing to a String cannot fail: the results of write! are ignored below.
        let mut report = format!(
            "{}/{} hosts ended in {}",
            self.ended,
            self.named(),
            seconds(now.saturating_duration_since(self.start))
        );
        self.write_counts(&mut report);
        let not_started = self.named() - self.ended - self.running;
        if self.running > 0 {
            let _ = write!(report, "; {} running", self.running);
        }
        if not_started > 0 {
            let _ = write!(report, "; {not_started} not started");
        }
        report.push('\n');

        for group in self.groups() {
            report.push_str(group.ending);
            match (&group.reason, group.status) {
                (Some(reason), _) => {
                    let _ = write!(report, " ({})", printable(reason));
                }
                (None, Some(status)) => {
                    let _ = write!(report, " (status {status})");
                }
                (None, None) => {}
            }
            let _ = write!(report, ", {}", hosts(group.hosts.len()));
            write_names(&mut report, group.hosts.iter().map(String::as_str), group.hosts.len(), max_hosts);
            report.push('\n');
            write_output(&mut report, "stdout", &group.stdout, max_lines);
            write_output(&mut report, "stderr", &group.stderr, max_lines);
            if group.truncated {
                report.push_str("  (output cut at the agent's cap)\n");
            }
        }

        if self.running > 0 {
            let _ = write!(report, "still running, {}, longest first", hosts(self.running));
            let stragglers = self.stragglers(now, max_hosts);
            let names = stragglers.iter().map(|(host, since)| format!("{host} ({})", seconds(*since)));
            write_names(&mut report, names, self.running, max_hosts);
            report.push('\n');
        }
        if not_started > 0 {
            let _ = write!(report, "not started, {}", hosts(not_started));
            let names = self.not_started();
            write_names(&mut report, names.iter().map(String::as_str), not_started, max_hosts);
            report.push('\n');
        }
        if let Some((failures, budget)) = self.stopped {
            let _ = writeln!(
                report,
                "stopped: the failure budget of {budget} was spent ({failures} failures), so no more hosts are started"
            );
        }
        report
    }

    /// Appends `: 400 done, 10 failed` (nothing when no host has ended).
    fn write_counts(&self, line: &mut String) {
        for (i, (label, count)) in self.counts().into_iter().enumerate() {
            let _ = write!(line, "{}{count} {label}", if i == 0 { ": " } else { ", " });
        }
    }
}

/// The place of an ending in [`ENDINGS`].
fn rank(ending: &Ending) -> usize {
    match ending {
        Ending::Done(_) => 0,
        Ending::Failed(_) => 1,
        Ending::TimedOut(_) => 2,
        Ending::Refused(_) => 3,
        Ending::Lost(_) => 4,
        Ending::Unreachable => 5,
        Ending::Skipped => 6,
    }
}

/// `1 host`, `2 hosts`.
fn hosts(count: usize) -> String {
    format!("{count} host{}", if count == 1 { "" } else { "s" })
}

/// `12.3s`.
fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// Appends `: a, b, c and 7 more`: the first `max` of `names`, of `total` in all.
fn write_names<S: AsRef<str>>(line: &mut String, names: impl Iterator<Item = S>, total: usize, max: usize) {
    for (i, name) in names.take(max).enumerate() {
        line.push_str(if i == 0 { ": " } else { ", " });
        line.push_str(&printable(name.as_ref()));
    }
    if max > 0 && total > max {
        let _ = write!(line, " and {} more", total - max);
    }
}

/// Appends a stream's lines, indented under its name, at most `max_lines` of them (nothing for an
/// empty stream).
fn write_output(report: &mut String, name: &str, bytes: &[u8], max_lines: usize) {
    if bytes.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = writeln!(report, "  {name}:");
    let mut lines = text.lines();
    for line in lines.by_ref().take(max_lines) {
        let _ = writeln!(report, "    {}", printable(line));
    }
    let more = lines.count();
    if more > 0 {
        let _ = writeln!(report, "    ... {more} more line{}", if more == 1 { "" } else { "s" });
    }
}

/// `text` with its control characters but tab escaped (`\u{1b}`, `\r`).
fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}
