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
/// `monitor relay` routes every series to one of the store shards by consistent hashing, and to
/// one of the judge shards. `monitor store` keeps the points of its shard (a write-ahead log,
/// compressed blocks, rollups) and answers range queries over HTTP. `monitor judge` evaluates alert
/// rules such as `cpu.busy all(#3) > 90` as the points arrive, and `monitor alarm` tells people:
/// webhooks, mail, a log or an Alertmanager, within limits. `monitor demo` runs all of it on this
/// machine.
///
/// Ctrl-C or SIGTERM stops any of them gracefully; a second Ctrl-C ends the process at once.
///
/// Exit status: 0 on success, 1 when it cannot run (an address in use, a directory that cannot be
/// made), 2 on a usage error, 130 when interrupted.
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
    /// Receive agents' batches and route every series to its store shard.
    ///
    /// Prints `relay listening on ADDR` first, so `--listen 127.0.0.1:0` is usable.
    Relay(RelayArgs),
    /// Keep one shard's points and answer range queries over HTTP.
    ///
    /// Prints `store listening on ADDR` and `query API on http://ADDR` first.
    Store(StoreArgs),
    /// Evaluate alert rules on the points the relay routes here, and print the alerts.
    ///
    /// Prints `judge listening on ADDR` first, then each alert as a JSON line.
    Judge(JudgeArgs),
    /// Take the judges' events and send the alerts to the receivers of a configuration file.
    ///
    /// Prints `alarm listening on http://ADDR` first; judges post to it with --alarm.
    Alarm(AlarmArgs),
    /// Run a relay, two store shards and a few agents on this machine, and print how to query them.
    Demo(DemoArgs),
}

/// The options of `monitor relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// The address agents send to (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8433")]
    pub listen: SocketAddr,
    /// A store shard, as HOST:PORT; repeat for each. Their order does not matter: a series goes to
    /// the same shard whatever the order.
    #[arg(long = "shard", value_name = "ADDR", required_unless_present = "judges")]
    pub shards: Vec<SocketAddr>,
    /// A judge shard, as HOST:PORT; repeat for each. Every series also goes to one of them, by a
    /// ring of their own.
    #[arg(long = "judge", value_name = "ADDR")]
    pub judges: Vec<SocketAddr>,
    /// The most points held for one shard while it does not answer; beyond it the oldest are
    /// dropped and counted.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub queue_points: usize,
    /// Also forward every point to this Prometheus remote-write URL (VictoriaMetrics, Prometheus,
    /// Thanos, Mimir…), as http://HOST:PORT/api/v1/write.
    #[arg(long, value_name = "URL")]
    pub remote_write: Option<String>,
}

/// The options of `monitor store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The address the relay sends to (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6070")]
    pub listen: SocketAddr,
    /// Serve the query API here.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6071")]
    pub http: SocketAddr,
    /// Where the write-ahead log and the blocks live.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/monitor/store")]
    pub dir: PathBuf,
    /// Days to keep raw points; the rollups are kept longer.
    #[arg(long, value_name = "DAYS", default_value_t = 15)]
    pub retention_days: u64,
    /// Keep raw points only: no 5-minute and hourly rollups (when the long history lives
    /// elsewhere, behind the relay's remote write).
    #[arg(long)]
    pub no_rollups: bool,
}

/// The options of `monitor judge`.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The address the relay sends to (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6080")]
    pub listen: SocketAddr,
    /// The rules, a TOML file of `[[rule]]` tables: id, expr (as "cpu.busy all(#3) > 90"), and
    /// optionally priority (0-5), max_alerts, min_interval (seconds) and note.
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Where the alerts are logged, to be read back at the next start so none is told twice.
    #[arg(long, value_name = "FILE", default_value = "/var/lib/monitor/judge/events.log")]
    pub log: PathBuf,
    /// Seconds between two readings of the series judged (the agents' --step).
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub step: u64,
    /// Steps of silence after which a series is NODATA.
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub nodata_steps: u32,
    /// Post the alerts to the alarm at this URL (http://HOST:PORT) instead of printing them.
    #[arg(long, value_name = "URL")]
    pub alarm: Option<String>,
}

/// The options of `monitor alarm`.
#[derive(Debug, Args)]
pub struct AlarmArgs {
    /// Where judges post their events (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9912")]
    pub listen: SocketAddr,
    /// The receivers, a TOML file of `[[receiver]]` tables: name, optionally max_priority,
    /// limit (a minute) and digest_from, and one of log = "FILE", webhook = "URL",
    /// alertmanager = "URL" or smtp = { server = "HOST:PORT", from = "…", to = ["…"] }.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Where the alarm journals what it takes and sends, to come back to the same state after a
    /// restart and send what it had not.
    #[arg(long, value_name = "FILE", default_value = "/var/lib/monitor/alarm/journal")]
    pub journal: PathBuf,
}

/// The options of `monitor demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated machines besides this one.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub agents: usize,
    /// Seconds between two readings.
    #[arg(long, value_name = "S", default_value_t = 5)]
    pub step: u64,
    /// Serve the query API here (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub http: SocketAddr,
    /// Keep the stores' data here instead of a temporary directory removed at the end.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
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
    /// Serve the latest readings at http://ADDR/metrics in Prometheus's text format, for a
    /// Prometheus to scrape (as node_exporter's).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}
