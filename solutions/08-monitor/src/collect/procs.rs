//! Processes and threads, from each `/proc/<pid>/stat`: how many there are, and in which state.
//!
//! `/proc/<pid>/stat` is one line: `pid (comm) state ppid …`, with the thread count as its 20th
//! field. `comm` is the program's name as the process set it, up to 15 bytes of anything, spaces and
//! parentheses included (`(tmux: server)`, `(a) b (c)`): it ends at the *last* `)` of the line.

use std::collections::BTreeMap;

use super::ParseError;
use crate::Sample;

/// What one process's `stat` line says that is counted here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    /// The process ID.
    pub pid: u32,
    /// The program's name, between the parentheses.
    pub comm: String,
    /// The state letter: `R` running, `S` sleeping, `D` in uninterruptible (disk) sleep, `Z`
    /// zombie, `T` stopped, `t` stopped by a tracer, `I` idle kernel thread, `X` dead.
    pub state: char,
    /// Its threads (field 20).
    pub threads: u64,
}

/// Parses one `/proc/<pid>/stat` line.
///
/// # Errors
///
/// [`ParseError`] when the line is not `pid (comm) state …` with at least 20 fields and a numeric
/// thread count.
pub fn parse_pid_stat(text: &str) -> Result<ProcStat, ParseError> {
    let error = |reason: &str| ParseError::new(1, reason);
    let open = text.find('(').ok_or_else(|| error("no ( before comm"))?;
    let close = text.rfind(')').filter(|&close| close > open).ok_or_else(|| error("no ) after comm"))?;
    let pid = text[..open].trim().parse().map_err(|_| error("bad pid"))?;
    let comm = text[open + 1..close].to_owned();
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    // rest[0] is field 3 (state), so field 20 (num_threads) is rest[17].
    let state = match rest.first().map(|field| field.chars().collect::<Vec<_>>()).as_deref() {
        Some([state]) => *state,
        _ => return Err(error("bad state")),
    };
    let threads = rest.get(17).ok_or_else(|| error("fewer than 20 fields"))?;
    let threads = threads.parse().map_err(|_| error("bad thread count"))?;
    Ok(ProcStat { pid, comm, state, threads })
}

/// The states reported, by `proc.state`'s `state` tag, with the letters each counts.
pub const STATES: &[(&str, &[char])] = &[
    ("running", &['R']),
    ("sleeping", &['S']),
    ("disk_sleep", &['D']),
    ("zombie", &['Z']),
    ("stopped", &['T', 't']),
    ("idle", &['I']),
];

/// `proc.count` (processes), `proc.threads` (their threads added up) and `proc.state` tagged
/// `state=NAME` for each of [`STATES`] and `other` (every state always, 0 included, so an alert on
/// zombies sees a series).
pub fn proc_samples(stats: &[ProcStat]) -> Vec<Sample> {
    let threads = stats.iter().fold(0u64, |sum, stat| sum.saturating_add(stat.threads));
    let mut counts: BTreeMap<&str, u64> = STATES.iter().map(|(name, _)| (*name, 0)).collect();
    counts.insert("other", 0);
    for stat in stats {
        let state = STATES.iter().find(|(_, letters)| letters.contains(&stat.state)).map_or("other", |s| s.0);
        *counts.entry(state).or_default() += 1;
    }
    let mut samples =
        vec![Sample::gauge("proc.count", stats.len() as f64), Sample::gauge("proc.threads", threads as f64)];
    samples.extend(
        counts
            .into_iter()
            .map(|(state, count)| Sample::gauge("proc.state", count as f64).tag("state", state)),
    );
    samples
}
