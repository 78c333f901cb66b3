//! The agent, `monitor agent`: this machine's collectors run by the [`Scheduler`], their points
//! handed to the [`Sender`] (or printed, one a line, when there is no relay).
//!
//! The parts are the stages' work: the collectors and the scheduler are stage 1's, the spool and the
//! sender stage 2's. This file only joins them, so it is given.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::collect::{
    AccessLogCollector, Collector, NginxStatusCollector, PluginCollector, PluginSpec, Scheduler,
    system_collectors,
};
use crate::error::Error;
use crate::point::{Point, now_millis};
use crate::query::{LatestPoints, metrics_router, serve_http};
use crate::shutdown::Shutdown;
use crate::wire::{Sender, SenderConfig, Spool};

/// Batches of points waiting between the collectors and the sender: enough for a few steps of every
/// collector, so a slow relay holds the collectors back (they block) rather than using memory.
const QUEUE_BATCHES: usize = 256;

/// Everything `monitor agent` needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// The name this machine's points carry.
    pub host: String,
    /// The relays, tried in order; none: print the points instead.
    pub relays: Vec<SocketAddr>,
    /// How often the built-in collectors and the plugins run.
    pub step: Duration,
    /// Take one reading of everything, print it and return.
    pub once: bool,
    /// The spool's directory.
    pub spool: PathBuf,
    /// The spool's bound in bytes.
    pub spool_max_bytes: u64,
    /// Where `/proc` is read from.
    pub proc_root: PathBuf,
    /// The login records.
    pub utmp: PathBuf,
    /// Plugin programs, each run every step.
    pub plugins: Vec<PathBuf>,
    /// How long a plugin may run.
    pub plugin_timeout: Duration,
    /// nginx's stub_status URL.
    pub nginx_status: Option<String>,
    /// An nginx access log to follow.
    pub nginx_log: Option<PathBuf>,
    /// Serve the latest readings at `/metrics` on this address, for Prometheus.
    pub metrics: Option<SocketAddr>,
}

impl AgentConfig {
    /// An agent for `host` that prints every 10 s what this machine's `/proc` says, with a 256 MiB
    /// spool in `/var/lib/monitor/spool` for when relays are added.
    pub fn new(host: impl Into<String>) -> AgentConfig {
        AgentConfig {
            host: host.into(),
            relays: Vec::new(),
            step: Duration::from_secs(10),
            once: false,
            spool: PathBuf::from("/var/lib/monitor/spool"),
            spool_max_bytes: 256 << 20,
            proc_root: PathBuf::from("/proc"),
            utmp: PathBuf::from("/var/run/utmp"),
            plugins: Vec::new(),
            plugin_timeout: Duration::from_secs(5),
            nginx_status: None,
            nginx_log: None,
            metrics: None,
        }
    }

    /// The collectors this configuration asks for: the system's, then the plugins, then nginx's.
    pub fn collectors(&self) -> Vec<Box<dyn Collector>> {
        let mut collectors = system_collectors(&self.proc_root, &self.utmp, self.step);
        for program in &self.plugins {
            let mut spec = PluginSpec::new(program.clone());
            spec.interval = self.step;
            spec.timeout = self.plugin_timeout.min(self.step);
            collectors.push(Box::new(PluginCollector::new(spec)));
        }
        if let Some(url) = &self.nginx_status {
            let timeout = self.step.min(Duration::from_secs(5));
            collectors.push(Box::new(NginxStatusCollector::new(url.clone(), self.step, timeout)));
        }
        if let Some(path) = &self.nginx_log {
            collectors.push(Box::new(AccessLogCollector::new(path.clone(), self.step)));
        }
        collectors
    }
}

/// Runs the agent until `shutdown` (or, with [`AgentConfig::once`], for one reading), writing the
/// points to `out` when there is no relay.
///
/// # Errors
///
/// When the spool cannot be opened ([`Error::File`]) or `out` cannot be written
/// ([`Error::Write`]). A collector or a relay that fails is reported and the agent carries on.
pub fn run_agent(config: &AgentConfig, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    if config.once {
        return collect_once(config, shutdown, out);
    }
    // Open the spool before anything runs: a spool that cannot be made is an error at once.
    let spool = match config.relays.is_empty() {
        true => None,
        false => Some(Spool::open(&config.spool, config.spool_max_bytes)?),
    };
    let mut scheduler = Scheduler::new(config.host.clone());
    for collector in config.collectors() {
        scheduler.add(collector);
    }
    let (points, batches) = mpsc::sync_channel(QUEUE_BATCHES);
    let collecting = scheduler.spawn(points, shutdown.clone());
    let (batches, page) = match config.metrics {
        Some(addr) => {
            let (batches, latest) = tap_latest(batches);
            let page = serve_http(addr, metrics_router(latest), shutdown)?;
            tracing::info!(url = %format!("http://{}/metrics", page.local_addr()), "serving metrics");
            (batches, Some(page))
        }
        None => (batches, None),
    };
    tracing::info!(host = %config.host, step = ?config.step, relays = ?config.relays, "agent started");
    let printed = match spool {
        Some(spool) => {
            let sender = Sender::new(SenderConfig::new(config.relays.clone()), spool);
            let stats = sender.run(batches, shutdown.clone());
            tracing::info!(?stats, "agent stopped");
            Ok(())
        }
        None => print_batches(&batches, out),
    };
    if printed.is_err() {
        // Nobody reads the points any more (`monitor agent | head`): stop collecting them.
        shutdown.stop();
    }
    collecting.join();
    if let Some(page) = page {
        // The collectors have stopped: stop the page too, whatever ended the run.
        shutdown.stop();
        page.join()?;
    }
    printed
}

/// Passes every batch on, keeping each series' latest point for the `/metrics` page.
fn tap_latest(batches: mpsc::Receiver<Vec<Point>>) -> (mpsc::Receiver<Vec<Point>>, Arc<LatestPoints>) {
    let latest = Arc::new(LatestPoints::new());
    let (tapped, out) = mpsc::sync_channel(QUEUE_BATCHES);
    let keeper = Arc::clone(&latest);
    // Ends when the collectors have stopped (their channel closes) or nothing reads any more.
    std::thread::spawn(move || {
        for batch in batches {
            keeper.update(&batch);
            if tapped.send(batch).is_err() {
                break;
            }
        }
    });
    (out, latest)
}

/// Writes every batch to `out` as it comes, until the collectors stop.
fn print_batches(batches: &mpsc::Receiver<Vec<Point>>, out: &mut dyn Write) -> Result<(), Error> {
    for batch in batches {
        for point in batch {
            writeln!(out, "{point}").map_err(Error::Write)?;
        }
        out.flush().map_err(Error::Write)?;
    }
    Ok(())
}

/// Reads every collector twice, a second apart, so that rates have two readings, and prints the
/// second reading.
fn collect_once(config: &AgentConfig, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let mut collectors = config.collectors();
    for collector in &mut collectors {
        // The first reading only primes the collectors that compute rates.
        let _ = collector.collect(now_millis());
    }
    if shutdown.wait_timeout(Duration::from_secs(1)) {
        return Ok(());
    }
    let now = now_millis();
    for collector in &mut collectors {
        match collector.collect(now) {
            Ok(samples) => {
                for sample in samples {
                    writeln!(out, "{}", sample.at(&config.host, now)).map_err(Error::Write)?;
                }
            }
            Err(err) => tracing::warn!(collector = collector.name(), cause = %err, "collector failed"),
        }
    }
    Ok(())
}
