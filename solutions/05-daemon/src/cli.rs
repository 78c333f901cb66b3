//! The command line: `superd start|stop|status|reload`, parsed by clap and turned into a validated
//! [`crate::Config`] by [`crate::Config::try_from`], never passed further.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::Settings;
use crate::supervise::Policy;

/// Runs a command as a daemon and keeps it running.
///
/// `superd start` detaches from the terminal, writes a locked pid file and restarts the command
/// whenever it dies, with exponential backoff. `stop`, `status` and `reload` find it through the
/// pid file. The daemon stops its command and exits on SIGTERM or SIGINT, and reopens its log and
/// rereads --config on SIGHUP.
///
/// Exit status: 0 on success, 1 on an error, 2 on a usage error; `status` exits 0 when the daemon
/// runs, 1 when its pid file is stale, 3 when it does not run.
#[derive(Debug, Parser)]
#[command(name = "superd", version, args_override_self = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Start COMMAND as a supervised daemon.
    Start(StartArgs),
    /// Stop the daemon: SIGTERM, then wait for it to exit.
    Stop(StopArgs),
    /// Exit 0 if the daemon runs, 1 if its pid file is stale, 3 if it does not run.
    Status(PidArgs),
    /// Reopen the daemon's log file and reread its --config file (send it SIGHUP).
    Reload(PidArgs),
}

/// The pid file, which every subcommand needs.
#[derive(Debug, Args)]
pub struct PidArgs {
    /// The pid file: locked by the running daemon, holding its pid.
    #[arg(long, value_name = "PATH")]
    pub pidfile: PathBuf,
}

/// `superd start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The pid file: locked by the running daemon, holding its pid.
    #[arg(long, value_name = "PATH")]
    pub pidfile: PathBuf,
    /// The log file: the daemon's and the command's stdout and stderr.
    #[arg(long, value_name = "PATH")]
    pub log: PathBuf,
    /// A TOML file overriding the options below; reread on `superd reload`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Give up after this many restarts within the window.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub restart_max: u32,
    /// The window for --restart-max, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub restart_window_ms: u64,
    /// The delay before the first restart, in milliseconds; it doubles with each restart.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub backoff_ms: u64,
    /// The longest delay between restarts, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub backoff_max_ms: u64,
    /// How long the command has after SIGTERM before it gets SIGKILL, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    pub kill_after_ms: u64,
    /// The command to run, and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

impl StartArgs {
    /// The restart and stop policy these options describe.
    pub fn policy(&self) -> Policy {
        Policy {
            restart_max: self.restart_max,
            window: Duration::from_millis(self.restart_window_ms),
            backoff: Duration::from_millis(self.backoff_ms),
            backoff_max: Duration::from_millis(self.backoff_max_ms),
            kill_after: Duration::from_millis(self.kill_after_ms),
        }
    }

    /// The command and policy these options describe, before any configuration file.
    pub fn settings(&self) -> Settings {
        Settings { command: self.command.clone(), policy: self.policy() }
    }
}

/// `superd stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The pid file: locked by the running daemon, holding its pid.
    #[arg(long, value_name = "PATH")]
    pub pidfile: PathBuf,
    /// How long to wait for the daemon to exit, in seconds.
    #[arg(long, value_name = "S", default_value_t = 30)]
    pub timeout: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
