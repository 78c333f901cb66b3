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
    todo!("stage 1: pid, comm between the first ( and the LAST ), then the state and field 20")
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
    todo!("stage 1: proc.count, proc.threads, and proc.state for every state, 0 included")
}
