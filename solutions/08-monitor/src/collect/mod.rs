//! The collectors (stage 1): what the agent measures, and the scheduler that measures it on time.
//!
//! Every collector is two parts. A *parser* is a pure function from the text a source gives (a
//! `/proc` file, nginx's `stub_status` page, a plugin's output) to a reading, and a *sampler* turns
//! one reading, or the difference of two, into [`Sample`]s. Both take their input as an argument, so
//! the tests feed them fixtures. A [`Collector`] wraps them with the reading of the real source and
//! whatever it keeps between two readings; the [`Scheduler`] runs each collector on its own thread at
//! ticks aligned to its interval and stamps the samples into [`crate::Point`]s.
//!
//! # Layout
//!
//! - [`cpu`], [`memory`], [`load`], [`disk`], [`filesystem`], [`net`], [`accounts`], [`procs`]: one
//!   parser and sampler per `/proc` source (and `statvfs`, and utmp);
//!   [`system`]: the collectors that read them under a `/proc` root ([`system_collectors`]).
//! - [`nginx`]: `stub_status` over HTTP ([`NginxStatusCollector`]); [`access_log`]: rates from an
//!   access log followed across rotation ([`AccessLogCollector`]).
//! - [`plugin`]: running an executable as a collector ([`PluginCollector`]); [`plugin_output`]: the
//!   two formats it may print ([`parse_plugin_output`]).
//! - [`schedule`]: aligned ticks ([`next_tick`]), one thread per collector ([`Scheduler`]).
//!
//! # Metrics
//!
//! Names are dotted as Open-Falcon's are. Where prometheus-node-exporter has the same quantity, the
//! formula is the one its users write in PromQL, named beside the metric, so that the two agree.
//! Everything is a gauge unless it says counter.
//!
//! - **cpu** (%, per core tagged `cpu=N`, and untagged for the whole machine): `cpu.busy` is
//!   `100 × (1 − Δidle / Δtotal)`, so iowait counts as busy, as in
//!   `1 - rate(node_cpu_seconds_total{mode="idle"}[…])`; `cpu.user`, `cpu.nice`, `cpu.system`,
//!   `cpu.idle`, `cpu.iowait`, `cpu.irq`, `cpu.softirq`, `cpu.steal` and `cpu.guest` are
//!   `100 × Δmode / Δtotal`, where the total adds the eight modes but not guest, which user holds.
//! - **memory** (bytes): `mem.total`, `mem.available` (`node_memory_MemAvailable_bytes`),
//!   `mem.free`, `mem.buffers`, `mem.cached`, `mem.used` (total − available); (%)
//!   `mem.used.percent` (`100 × used / total`) and `mem.available.percent`; swap: `mem.swap.total`,
//!   `mem.swap.free`, `mem.swap.used` (bytes), `mem.swap.used.percent` when there is swap.
//! - **load**: `load.1min`, `load.5min`, `load.15min` (`node_load1`, `node_load5`, `node_load15`).
//! - **disk I/O** (tagged `device`): `disk.io.read_bytes`, `disk.io.write_bytes` (bytes/s, sectors
//!   × 512, `rate(node_disk_read_bytes_total[…])`), `disk.io.reads`, `disk.io.writes`
//!   (requests/s), `disk.io.util` (% of the time some I/O was in progress), `disk.io.await` (ms per
//!   request, when there were requests).
//! - **filesystems** (tagged `mount` and `fstype`): `df.bytes.total`, `df.bytes.free`,
//!   `df.bytes.avail`, `df.bytes.used` (bytes: statvfs's blocks, bfree, bavail and blocks − bfree
//!   times the fragment size, as `node_filesystem_{size,free,avail}_bytes`),
//!   `df.bytes.used.percent` (`100 × used / (used + avail)`, as `df` prints it), `df.inodes.total`,
//!   `df.inodes.free`, `df.inodes.used.percent`.
//! - **network** (tagged `iface`): `net.if.in.bytes`, `net.if.out.bytes` (bytes/s,
//!   `rate(node_network_receive_bytes_total[…])` and `…transmit…`), `net.if.in.packets`,
//!   `net.if.out.packets`, `net.if.in.errors`, `net.if.out.errors`, `net.if.in.dropped`,
//!   `net.if.out.dropped` (per second).
//! - **accounts**: `users.sessions` (utmp's login sessions), `users.accounts` (the distinct
//!   accounts holding them).
//! - **processes**: `proc.count`, `proc.threads`, and `proc.state` tagged `state` (running,
//!   sleeping, disk_sleep, zombie, stopped, idle, other), every state always.
//! - **nginx `stub_status`**: `nginx.connections.active`, `.reading`, `.writing`, `.waiting`, and
//!   the counters `nginx.connections.accepted`, `nginx.connections.handled`, `nginx.requests`
//!   (totals since nginx started).
//! - **nginx access log** (per second): `nginx.log.requests`, `nginx.log.bytes` (body bytes
//!   sent), `nginx.log.unparsed` (lines that are not `combined`), and `nginx.log.status` tagged
//!   `class` (`1xx` … `5xx`).
//! - **plugins**: whatever they print, with their tags (see [`plugin_output`]).
//! - **the collectors themselves** (tagged `collector`): `agent.collector.duration.seconds` (how long
//!   the last reading took, ms) and the counter `agent.collector.errors` (failed or panicked
//!   readings since the agent started).
//!
//! Percentages and rates come from two readings, so the collectors that give them (cpu, disk, net,
//! the access log) give nothing on their first call. A counter that went backwards between two
//! readings (it wrapped, the machine's driver reset it, a core came back online) gives no value for
//! that interval: a wrong number is worse than a missing one.

pub mod access_log;
pub mod accounts;
pub mod cpu;
pub mod disk;
pub mod filesystem;
pub mod load;
pub mod memory;
pub mod net;
pub mod nginx;
pub mod plugin;
pub mod plugin_output;
pub mod procs;
pub mod schedule;
pub mod system;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::{Millis, Sample};

pub use access_log::AccessLogCollector;
pub use nginx::NginxStatusCollector;
pub use plugin::{PluginCollector, PluginSpec};
pub use plugin_output::parse_plugin_output;
pub use schedule::{ScheduleHandle, Scheduler, next_tick};
pub use system::system_collectors;

/// Something that can be measured on a schedule.
pub trait Collector: Send {
    /// A short name for reports and the self-metrics' `collector` tag: "cpu", "plugin:mysql-status".
    fn name(&self) -> &str;

    /// How often it runs.
    fn interval(&self) -> Duration;

    /// One reading at `now` (ms since epoch). Collectors needing two readings (cpu, disk io, net)
    /// return no samples for the first call.
    ///
    /// # Errors
    ///
    /// [`CollectError`] naming the file, URL or plugin at fault. The scheduler reports it and calls
    /// again at the next tick.
    fn collect(&mut self, now: Millis) -> Result<Vec<Sample>, CollectError>;
}

/// Why one reading failed. The agent reports it, counts it and carries on.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A file (a `/proc` file, utmp, an access log) could not be read.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A file was read but does not have the format it should.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why it does not parse.
        source: ParseError,
    },
    /// An HTTP request failed: no connection, no answer in time, a status other than 200.
    #[error("{url}: {reason}")]
    Http {
        /// The URL asked for.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// An HTTP answer came but its body is not what was expected.
    #[error("{url}: {source}")]
    Response {
        /// The URL asked for.
        url: String,
        /// Where and why the body does not parse.
        source: ParseError,
    },
    /// A plugin could not be started (no such file, not executable).
    #[error("plugin {plugin}: cannot start it: {source}")]
    PluginStart {
        /// The plugin's program.
        plugin: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// A plugin did not finish (exit and close its output) in time; its process group was killed.
    #[error("plugin {plugin}: no answer in {timeout:?}, killed")]
    PluginTimeout {
        /// The plugin's program.
        plugin: String,
        /// How long it was given.
        timeout: Duration,
    },
    /// A plugin printed more than it may; its process group was killed.
    #[error("plugin {plugin}: printed more than {limit} bytes, killed")]
    PluginFlood {
        /// The plugin's program.
        plugin: String,
        /// The most it may print.
        limit: usize,
    },
    /// A plugin exited with a status other than 0, or was killed by a signal.
    #[error(
        "plugin {plugin}: {status}{}",
        if stderr.is_empty() { String::new() } else { format!(": {stderr}") }
    )]
    PluginFailed {
        /// The plugin's program.
        plugin: String,
        /// How it ended, as `exit status: 1` or `signal: 9 (SIGKILL)`.
        status: String,
        /// The start of what it wrote to standard error, trimmed.
        stderr: String,
    },
    /// A plugin printed something that is neither format; none of its output is used.
    #[error("plugin {plugin}: {source}")]
    PluginOutput {
        /// The plugin's program.
        plugin: String,
        /// The first line that is wrong, and why.
        source: ParseError,
    },
}

/// Where and why a text does not parse: the first line that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// The line, counted from 1 (0 for the text as a whole, as a missing line).
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl ParseError {
    /// A [`ParseError`] at `line` (from 1; 0 for the whole text).
    pub fn new(line: usize, reason: impl Into<String>) -> ParseError {
        ParseError { line, reason: reason.into() }
    }
}

/// The rate per second of a counter that went from `prev` to `cur` in `seconds`, or `None` when it
/// went backwards (a wrap or a reset) or no time passed.
pub fn per_second(prev: u64, cur: u64, seconds: f64) -> Option<f64> {
    let delta = cur.checked_sub(prev)?;
    (seconds > 0.0).then(|| delta as f64 / seconds)
}

/// The seconds from `prev` to `now`, when positive.
fn seconds_between(prev: Millis, now: Millis) -> Option<f64> {
    let elapsed = now.checked_sub(prev)?;
    (elapsed > 0).then(|| elapsed as f64 / 1000.0)
}
