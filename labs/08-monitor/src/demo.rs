//! `monitor demo`: the whole system on one machine. Two store shards and two judge shards, a relay
//! in front of them, an agent reading this machine and a few simulated ones (one of which runs hot
//! for a minute in every two, so an alert fires within the first minute), the alarm writing to a
//! log and posting to a local webhook, and the query API over both store shards, all on loopback
//! with ports chosen by the kernel, until Ctrl-C.
//!
//! The parts are the stages' work; this file only starts them, so it is given. The simulated
//! agents are the real scheduler and sender with one collector that makes up node-like numbers,
//! so a laptop shows what a rack would send.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::agent::AgentConfig;
use crate::alarm::{
    AlarmConfig, DispatchSettings, LogNotifier, Notification, Notifier, ReceiverConfig, WebhookNotifier,
    start_alarm,
};
use crate::collect::{CollectError, Collector, Scheduler};
use crate::config::local_host_name;
use crate::error::Error;
use crate::judge::{Event, EventSink, JudgeConfig, JudgeShard, Rule, parse_rules, serve_judge};
use crate::point::now_millis;
use crate::point::{Millis, Sample, SeriesKey};
use crate::query::{Source, router, serve_http};
use crate::relay::{DEFAULT_VNODES, Relay, RelayConfig, Ring};
use crate::shutdown::Shutdown;
use crate::store::{RangeQuery, Store, StoreOptions, serve};
use crate::web::{Console, console_router, dashboard_router};
use crate::wire::{Sender, SenderConfig, Spool};

/// What `monitor demo` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Simulated machines besides this one.
    pub agents: usize,
    /// How often every agent reads.
    pub step: Duration,
    /// Where the query API listens.
    pub http: SocketAddr,
    /// Where the stores and spools live; a temporary directory when `None`.
    pub dir: Option<PathBuf>,
}

/// The store shards of the demo, and its judge shards.
const SHARDS: usize = 2;

/// The demo's rules: the simulated host `sim-01` breaks the first for a minute in every two.
pub const DEMO_RULES: &str = r#"
[[rule]]
id = 1
expr = "cpu.busy all(#3) > 90"
priority = 1
note = "CPU busy above 90% for three readings in a row"

[[rule]]
id = 2
expr = "mem.used min(#3) > 6.8e9"
priority = 2
note = "memory nearly full"

[[rule]]
id = 3
expr = "load.1min avg(#6) > 3.9"
priority = 3
"#;

/// The demo's rules, parsed.
fn demo_rules() -> Vec<Rule> {
    // Checked by a test: the embedded rules parse.
    parse_rules(DEMO_RULES).unwrap_or_default()
}

/// Runs the demo until `shutdown`, writing how to reach it to `out`.
///
/// # Errors
///
/// When a directory cannot be made ([`Error::File`]) or an address bound ([`Error::Sys`]).
pub fn run_demo(config: &DemoConfig, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let temporary = match &config.dir {
        Some(_) => None,
        None => Some(tempfile_dir()?),
    };
    let dir = config.dir.clone().or_else(|| temporary.as_ref().map(|t| t.0.clone())).unwrap_or_default();
    let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();

    let mut stores = Vec::new();
    let mut servers = Vec::new();
    for shard in 0..SHARDS {
        let store = Arc::new(Store::open(StoreOptions::new(dir.join(format!("store-{shard}"))))?);
        let server = serve(loopback, Arc::clone(&store), shutdown)?;
        stores.push((server.local_addr(), store));
        servers.push(server);
    }
    let shard_addrs: Vec<SocketAddr> = stores.iter().map(|(addr, _)| *addr).collect();
    let source = Arc::new(Shards::new(stores));
    let (hook, alerts) = mpsc::channel::<Notification>();
    let webhook = serve_http(loopback, webhook_router(hook), shutdown)?;
    let alarm = start_demo_alarm(&dir, &format!("http://{}/hooks/alerts", webhook.local_addr()), shutdown)?;
    // The judges' events go through the console (its board of alerts) to the alarm; the console
    // needs the judges to exist, so it is put in place once they do.
    let to_console = Arc::new(LateSink { console: OnceLock::new(), alarm: alarm.core() });
    let mut judges = Vec::new();
    for shard in 0..SHARDS {
        let judge_dir = dir.join(format!("judge-{shard}"));
        std::fs::create_dir_all(&judge_dir).map_err(Error::file(&judge_dir))?;
        let judge = JudgeShard {
            listen: loopback,
            config: JudgeConfig::new(config.step),
            rules: demo_rules(),
            log: judge_dir.join("events.log"),
            store: Some(Arc::clone(&source) as Arc<dyn Source>),
            tick: config.step,
        };
        judges.push(serve_judge(judge, Arc::clone(&to_console) as Arc<dyn EventSink>, shutdown)?);
    }
    let mut relay_config = RelayConfig::new(loopback, shard_addrs.clone());
    relay_config.judges = judges.iter().map(|judge| judge.local_addr()).collect();
    let relay = Relay::start(relay_config, shutdown)?;
    let handles = judges.iter().map(|judge| judge.handle()).collect();
    let console = Console::open(
        Arc::clone(&source) as Arc<dyn Source>,
        handles,
        Some(alarm.core()),
        demo_rules(),
        Some(&dir.join("console.json")),
    )?;
    let console = Arc::new(console);
    let _ = to_console.console.set(Arc::clone(&console));
    let app = router(source).merge(console_router(Arc::clone(&console))).merge(dashboard_router(console));
    let api = serve_http(config.http, app, shutdown)?;

    let mut agents = Vec::new();
    let mut this_machine = AgentConfig::new(local_host_name());
    this_machine.step = config.step;
    let mut hosts = vec![this_machine.host.clone()];
    agents.push(start_agent(
        &this_machine.host,
        this_machine.collectors(),
        &dir,
        relay.local_addr(),
        shutdown,
    )?);
    for n in 1..=config.agents {
        let host = format!("sim-{n:02}");
        let collectors: Vec<Box<dyn Collector>> = vec![Box::new(Simulated::new(&host, config.step, n == 1))];
        agents.push(start_agent(&host, collectors, &dir, relay.local_addr(), shutdown)?);
        hosts.push(host);
    }

    let api_url = format!("http://{}", api.local_addr());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let example = hosts.get(1).unwrap_or(&hosts[0]);
    writeln!(
        out,
        "monitor demo: a relay on {}, store shards on {}, judge shards on {}, {} agents reading every {:?}\n\
         data in {}\n\
         rules: {}\n\
         alerts to {} and to the webhook http://{}/hooks/alerts\n\
         dashboard on {api_url}/\n\
         query API on {api_url}:\n  \
           curl '{api_url}/api/v1/hosts'\n  \
           curl '{api_url}/api/v1/series?host={example}'\n  \
           curl '{api_url}/api/v1/query_range?host={example}&metric=cpu.busy&start={}&end={}&step=30s'\n  \
           curl '{api_url}/api/v1/alerts'\n  \
           curl '{api_url}/api/v1/rules'\n\
         Ctrl-C stops it. Alerts, as the webhook receives them:",
        relay.local_addr(),
        shard_addrs.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(" and "),
        judges.iter().map(|judge| judge.local_addr().to_string()).collect::<Vec<_>>().join(" and "),
        hosts.len(),
        config.step,
        dir.display(),
        demo_rules().iter().map(|rule| rule.expr.to_string()).collect::<Vec<_>>().join("; "),
        dir.join("alerts.log").display(),
        webhook.local_addr(),
        now,
        now + 3600,
    )
    .map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;

    while !shutdown.is_stopped() {
        if let Ok(notification) = alerts.recv_timeout(Duration::from_millis(200)) {
            writeln!(out, "{}", describe(&notification, now_millis())).map_err(Error::Write)?;
            out.flush().map_err(Error::Write)?;
        }
    }
    for agent in agents {
        let _ = agent.join();
    }
    let stats = relay.join()?;
    tracing::info!(?stats, "relay stopped");
    for server in servers {
        server.join()?;
    }
    for judge in judges {
        judge.join()?;
    }
    alarm.join();
    webhook.join()?;
    api.join()?;
    drop(temporary);
    Ok(())
}

/// The judges' sink: the console once it is there, the alarm before.
struct LateSink {
    console: OnceLock<Arc<Console>>,
    alarm: Arc<crate::alarm::AlarmCore>,
}

impl EventSink for LateSink {
    fn deliver(&self, events: &[Event]) {
        match self.console.get() {
            Some(console) => console.deliver(events),
            None => self.alarm.deliver(events),
        }
    }
}

/// One line for what the webhook received, with how long after its sample an alert came:
/// `[PROBLEM P1] sim-01 cpu.busy: cpu.busy all(#3) > 90 (92), 0.41 s after its sample`.
fn describe(notification: &Notification, now: Millis) -> String {
    match notification {
        Notification::Alert(alert) => {
            let late = (now - alert.at) as f64 / 1000.0;
            format!("{}, {late:.2} s after its sample", notification.subject())
        }
        other => other.subject(),
    }
}

/// The demo's alarm: every alert to a log in `dir`, and to the webhook at `webhook` (alerts of
/// priority 3 to 5 in a digest a minute), each at most 20 a minute.
fn start_demo_alarm(
    dir: &std::path::Path,
    webhook: &str,
    shutdown: &Shutdown,
) -> Result<crate::alarm::AlarmServer, Error> {
    let mut log = ReceiverConfig::new("log");
    log.limit = 100;
    log.digest_from = 6;
    let mut hook = ReceiverConfig::new("webhook");
    hook.limit = 20;
    let notifiers: Vec<Box<dyn Notifier>> = vec![
        Box::new(LogNotifier::new(&dir.join("alerts.log"))),
        Box::new(WebhookNotifier::new(webhook, Duration::from_secs(5)).map_err(Error::BadOption)?),
    ];
    let journal = dir.join("alarm.journal");
    start_alarm(
        AlarmConfig::new(vec![log, hook]),
        notifiers,
        DispatchSettings::default(),
        Some(&journal),
        shutdown,
    )
}

/// The local webhook: `POST /hooks/alerts` with a notification's JSON, handed to `received`.
fn webhook_router(received: mpsc::Sender<Notification>) -> axum::Router {
    let received = Arc::new(std::sync::Mutex::new(received));
    axum::Router::new().route(
        "/hooks/alerts",
        axum::routing::post(move |axum::Json(notification): axum::Json<Notification>| {
            let received = Arc::clone(&received);
            async move {
                let _ = received.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(notification);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    )
}

/// Starts one agent: `collectors` on a scheduler, their points sent to `relay` through a spool of
/// its own.
fn start_agent(
    host: &str,
    collectors: Vec<Box<dyn Collector>>,
    dir: &std::path::Path,
    relay: SocketAddr,
    shutdown: &Shutdown,
) -> Result<JoinHandle<()>, Error> {
    let spool = Spool::open(&dir.join(format!("spool-{host}")), 64 << 20)?;
    let mut scheduler = Scheduler::new(host);
    for collector in collectors {
        scheduler.add(collector);
    }
    let (points, batches) = mpsc::sync_channel(64);
    let collecting = scheduler.spawn(points, shutdown.clone());
    let sender = Sender::new(SenderConfig::new(vec![relay]), spool);
    let shutdown = shutdown.clone();
    std::thread::Builder::new()
        .name(format!("agent {host}"))
        .spawn(move || {
            sender.run(batches, shutdown);
            collecting.join();
        })
        .map_err(Error::sys("spawn an agent's thread"))
}

/// A temporary directory, removed when the value is dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir, Error> {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let path = std::env::temp_dir().join(format!("monitor-demo-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(Error::file(&path))?;
    Ok(TempDir(path))
}

/// The query API's view of several shards: a series is asked of the shard the relay's ring sends
/// it to; lists are the union of every shard's.
struct Shards {
    ring: Ring,
    stores: Vec<(String, Arc<Store>)>,
}

impl Shards {
    fn new(stores: Vec<(SocketAddr, Arc<Store>)>) -> Shards {
        let stores: Vec<(String, Arc<Store>)> =
            stores.into_iter().map(|(addr, store)| (addr.to_string(), store)).collect();
        // The relay's own ring over the same names: a series is read where it was sent.
        let ring = Ring::with_shards(DEFAULT_VNODES, stores.iter().map(|(name, _)| name.as_str()));
        Shards { ring, stores }
    }
}

impl Source for Shards {
    fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.stores.iter().flat_map(|(_, store)| store.hosts()).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    fn series(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        let mut series: Vec<SeriesKey> =
            self.stores.iter().flat_map(|(_, store)| store.series(host, metric)).collect();
        series.sort();
        series.dedup();
        series
    }

    fn query(&self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        let Some(shard) = self.ring.shard_for(&query.series) else { return Vec::new() };
        self.stores
            .iter()
            .find(|(name, _)| name == shard)
            .map(|(_, store)| store.query(query))
            .unwrap_or_default()
    }
}

/// A made-up machine: CPU, memory, load and network numbers that wander as a real node's do,
/// from a small random walk seeded by the host's name. A hot one's CPU is above 90% for 12
/// readings in every 24.
struct Simulated {
    interval: Duration,
    hot: bool,
    readings: u64,
    state: u64,
    cpu: f64,
    memory: f64,
    received: f64,
}

impl Simulated {
    fn new(host: &str, interval: Duration, hot: bool) -> Simulated {
        let seed = host
            .bytes()
            .fold(0x9e37_79b9_7f4a_7c15u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        Simulated { interval, hot, readings: 0, state: seed | 1, cpu: 20.0, memory: 4e9, received: 0.0 }
    }

    /// A number in [-1, 1) (xorshift64*).
    fn wobble(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 52) as f64 - 1.0
    }
}

impl Collector for Simulated {
    fn name(&self) -> &str {
        "simulated"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let burning = self.hot && self.readings % 24 < 12;
        self.readings += 1;
        let (floor, core_floor) = if burning { (92.0, 91.0) } else { (1.0, 0.0) };
        self.cpu = (self.cpu + 5.0 * self.wobble()).clamp(floor, if burning { 99.0 } else { 80.0 });
        self.memory = (self.memory + 5e7 * self.wobble()).clamp(1e9, 7e9);
        let rate = 2e6 + 1e6 * self.wobble();
        self.received += rate * self.interval.as_secs_f64();
        let load = self.cpu / 25.0;
        let mut samples = vec![
            Sample::gauge("cpu.busy", (self.cpu * 100.0).round() / 100.0),
            Sample::gauge("mem.used", self.memory.round()),
            Sample::gauge("load.1min", (load * 100.0).round() / 100.0),
            Sample::gauge("net.if.in.bytes", rate.round()).tag("iface", "eth0"),
        ];
        for core in 0..4 {
            let busy = (self.cpu + 10.0 * self.wobble()).clamp(core_floor, 100.0);
            samples
                .push(Sample::gauge("cpu.busy", (busy * 100.0).round() / 100.0).tag("cpu", core.to_string()));
        }
        Ok(samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_rules_parse() {
        assert_eq!(parse_rules(DEMO_RULES).map(|rules| rules.len()), Ok(3));
    }
}
