//! The supervisor's main loop: run the command, restart it when it dies, stop it on SIGTERM,
//! reopen the log and reread the configuration on SIGHUP, and reap every child so none is left a zombie.

use std::path::Path;
use std::time::Duration;

use crate::config::{Settings, SettingsSource};
use crate::error::Error;
use crate::signals::Signals;

// TODO(stage 1): `superd start` supervises as soon as the daemon is ready: start the command in a
// process group of its own (Command::process_group(0)), its output on the daemon's 1 and 2, and wait.
// TODO(stage 3): the loop keeps the child's pid and when its next start is due (an Option<Instant>,
// which gives signals.wait its timeout), and reaps with waitpid(-1, WNOHANG) on every wake-up, not
// only on SIGCHLD. Private helpers: spawn (Command::process_group(0), output through a pipe that a
// thread copies to fd 1, so a reopened log takes it at once), stop (SIGTERM to the group, wait up
// to kill_after, then SIGKILL) and reopen. The next start's delay comes from Restarts::next.

/// How the supervisor restarts and stops its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Give up after this many restarts within `window`.
    pub restart_max: u32,
    /// The window for `restart_max`.
    pub window: Duration,
    /// The delay before the first restart; it doubles with each restart within the window.
    pub backoff: Duration,
    /// The longest delay between restarts.
    pub backoff_max: Duration,
    /// How long the command has after SIGTERM before it gets SIGKILL.
    pub kill_after: Duration,
}

/// Why the supervisor returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM: the command was stopped.
    Stopped,
    /// The command died too often within the window.
    GaveUp,
}

/// Writes one line of the supervisor's own to its log (its stderr), prefixed with `superd: `.
pub fn note(message: &str) {
    eprintln!("superd: {message}");
}

/// Supervises `settings.command` until SIGTERM or until it dies too often. On SIGHUP it reopens
/// `log` and rereads `config` ([`SettingsSource::reload`]); new settings apply from the next restart or
/// stop, the running command is left alone.
///
/// Log lines, each starting with `superd: `: `started pid PID`, `pid PID exited: STATUS`,
/// `restart N in MS ms`, `giving up: N restarts within MS ms`, `reopened log`,
/// `configuration reloaded from FILE: …`, `cannot reload configuration: …`, `stopped`.
///
/// # Errors
///
/// [`Error::Sys`] if waiting for signals fails.
pub fn supervise(
    config: &SettingsSource,
    settings: Settings,
    log: &Path,
    signals: &Signals,
) -> Result<Exit, Error> {
    todo!(
        "stage 1: start the command and wait; stage 3: reap, restart it, stop on SIGTERM, reopen the log and reload on SIGHUP"
    )
}
