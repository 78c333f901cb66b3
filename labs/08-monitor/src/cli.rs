//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Collect, route and keep the measurements of many machines.
///
/// `monitor agent` runs on every machine: it reads /proc (CPU, memory, load, disks, file systems,
/// network, logged-in sessions, processes), nginx and plugins on a schedule, and sends the points
/// to a relay; while no relay answers it keeps them in an on-disk spool and sends them, in order,
/// when one comes back. Without --relay it prints the points instead, one a line:
///
///   host metric{tag=value,...} timestamp-ms value kind
///
/// Ctrl-C or SIGTERM stops it gracefully; a second Ctrl-C ends the process at once.
///
/// Exit status: 0 on success, 1 when it cannot run (a spool directory that cannot be made), 2 on a
/// usage error, 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "monitor", version, max_term_width = 100, verbatim_doc_comment)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Sub,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Collect this machine's measurements every step and send them to a relay (or print them).
    Agent(AgentArgs),
}

/// The options of `monitor agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// A relay to send to, as HOST:PORT; repeat it for fail-over, tried in order. Without one the
    /// points are printed on standard output.
    #[arg(long = "relay", value_name = "ADDR")]
    pub relays: Vec<SocketAddr>,
    /// The name this machine's points carry [default: the host name].
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Seconds between two readings of the built-in collectors; readings are aligned to
    /// multiples of it, so every agent reads at the same moments.
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub step: u64,
    /// Take one reading of every collector (two, a second apart, for rates), print it and exit.
    #[arg(long)]
    pub once: bool,
    /// Where points wait while no relay answers.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/monitor/spool")]
    pub spool: PathBuf,
    /// The most the spool may hold, in MiB; beyond it the oldest points are dropped and counted.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub spool_max: u64,
    /// Read /proc from here instead (a copy of another machine's, for a test).
    #[arg(long, value_name = "DIR", default_value = "/proc")]
    pub proc_root: PathBuf,
    /// The login records to count sessions from.
    #[arg(long, value_name = "FILE", default_value = "/var/run/utmp")]
    pub utmp: PathBuf,
    /// Run this program every step as a plugin: it prints `name value [tag=v ...]` lines or the
    /// Prometheus text format. Repeat for more. It runs without a shell, in its own process group.
    #[arg(long = "plugin", value_name = "PROGRAM")]
    pub plugins: Vec<PathBuf>,
    /// Kill a plugin (and everything it started) that runs longer than S seconds.
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    pub plugin_timeout: f64,
    /// Read nginx's stub_status page at this URL, as http://127.0.0.1/nginx_status.
    #[arg(long, value_name = "URL")]
    pub nginx_status: Option<String>,
    /// Follow this nginx access log (across rotation) for request rates, status classes and bytes.
    #[arg(long, value_name = "FILE")]
    pub nginx_log: Option<PathBuf>,
}
