//! The platform's monitoring side: lab 08's pipeline in the platform's process. A store that keeps
//! the points, a judge that evaluates the alert rules as they arrive, a relay the hosts' agents
//! send to (it routes each series to both), the alarm (every alert to a log in the data
//! directory), and lab 08's console, which holds the board of firing alerts and the silences and
//! pushes rules and silences to the judge and the alarm.
//!
//! The platform's records are the truth about the rules: the platform pushes them to the console
//! at every start and every change (see [`crate::alerting`]). The silences are the alarm's own
//! state, kept by the console in a file of the data directory, as Alertmanager keeps its own.
//!
//! The parts are lab 08's work; this file only starts and stops them, so it is given.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use monitor::alarm::{
    AlarmConfig, AlarmCore, AlarmServer, DispatchSettings, LogNotifier, Notifier, ReceiverConfig, start_alarm,
};
use monitor::judge::{Event, EventSink, JudgeConfig, JudgeServer, JudgeShard, serve_judge};
use monitor::query::Source;
use monitor::relay::{Relay, RelayConfig};
use monitor::store::{Store, StoreOptions, StoreServer, serve};
use monitor::web::Console;

use crate::error::Error;

/// How the monitoring side is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoringConfig {
    /// Where the store, the judge's event log, the alarm's journal and log and the console's
    /// file live.
    pub dir: PathBuf,
    /// Where the relay listens for agents (port 0: any free port).
    pub relay: SocketAddr,
    /// How often the agents read, which the judge needs to tell a silent series.
    pub step: Duration,
}

impl MonitoringConfig {
    /// Lab 08's pipeline in `dir`, its relay on a free loopback port, agents reading every 10 s.
    pub fn new(dir: impl Into<PathBuf>) -> MonitoringConfig {
        MonitoringConfig {
            dir: dir.into(),
            relay: SocketAddr::from(([127, 0, 0, 1], 0)),
            step: Duration::from_secs(10),
        }
    }
}

/// Lab 08's pipeline, running.
pub struct Monitoring {
    /// The rules, the silences and the board of alerts, over the store's points.
    pub console: Arc<Console>,
    /// Where the relay listens: agents send their points here.
    pub relay: SocketAddr,
    shutdown: monitor::Shutdown,
    parts: Parts,
}

impl std::fmt::Debug for Monitoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitoring").field("relay", &self.relay).finish_non_exhaustive()
    }
}

/// What is joined at a stop.
struct Parts {
    relay: Relay,
    store: StoreServer,
    judge: JudgeServer,
    alarm: AlarmServer,
}

impl Monitoring {
    /// Starts the store, the judge, the relay and the alarm, with no rules yet (the platform
    /// pushes its own).
    ///
    /// # Errors
    ///
    /// When a directory or file cannot be made or read, or an address bound ([`Error::Monitor`]).
    pub fn start(config: &MonitoringConfig) -> Result<Monitoring, Error> {
        let shutdown = monitor::Shutdown::new();
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let monitor_error = |err: monitor::Error| Error::Monitor(err.to_string());
        let store =
            Arc::new(Store::open(StoreOptions::new(config.dir.join("store"))).map_err(monitor_error)?);
        let store_server = serve(loopback, Arc::clone(&store), &shutdown).map_err(monitor_error)?;
        let source = Arc::clone(&store) as Arc<dyn Source>;
        let alarm = start_log_alarm(&config.dir, &shutdown).map_err(monitor_error)?;
        // The judge's events go through the console (its board of alerts) to the alarm; the
        // console needs the judge to exist, so it is put in place once it does.
        let to_console = Arc::new(LateSink { console: OnceLock::new(), alarm: alarm.core() });
        let judge_dir = config.dir.join("judge");
        std::fs::create_dir_all(&judge_dir).map_err(Error::sys(format!("create {}", judge_dir.display())))?;
        let judge = serve_judge(
            JudgeShard {
                listen: loopback,
                config: JudgeConfig::new(config.step),
                rules: Vec::new(),
                log: judge_dir.join("events.log"),
                store: Some(Arc::clone(&source)),
                tick: config.step,
            },
            Arc::clone(&to_console) as Arc<dyn EventSink>,
            &shutdown,
        )
        .map_err(monitor_error)?;
        let mut relay_config = RelayConfig::new(config.relay, vec![store_server.local_addr()]);
        relay_config.judges = vec![judge.local_addr()];
        let relay = Relay::start(relay_config, &shutdown).map_err(monitor_error)?;
        let console = Console::open(
            source,
            vec![judge.handle()],
            Some(alarm.core()),
            Vec::new(),
            Some(&config.dir.join("console.json")),
        )
        .map_err(monitor_error)?;
        let console = Arc::new(console);
        let _ = to_console.console.set(Arc::clone(&console));
        let relay_addr = relay.local_addr();
        Ok(Monitoring {
            console,
            relay: relay_addr,
            shutdown,
            parts: Parts { relay, store: store_server, judge, alarm },
        })
    }

    /// Stops every part and waits for it (blocking: call it off the async runtime's threads).
    pub fn stop(self) {
        self.shutdown.stop();
        let Parts { relay, store, judge, alarm } = self.parts;
        if let Err(err) = relay.join() {
            tracing::warn!(cause = %err, "the monitoring relay stopped badly");
        }
        if let Err(err) = judge.join() {
            tracing::warn!(cause = %err, "the judge stopped badly");
        }
        if let Err(err) = store.join() {
            tracing::warn!(cause = %err, "the store stopped badly");
        }
        alarm.join();
    }
}

/// The judge's sink: the console once it is there, the alarm before.
struct LateSink {
    console: OnceLock<Arc<Console>>,
    alarm: Arc<AlarmCore>,
}

impl EventSink for LateSink {
    fn deliver(&self, events: &[Event]) {
        match self.console.get() {
            Some(console) => console.deliver(events),
            None => self.alarm.deliver(events),
        }
    }
}

/// The alarm: every alert to `alerts.log` in `dir`, at most 100 a minute, priorities 3 to 5 in
/// a digest.
fn start_log_alarm(dir: &Path, shutdown: &monitor::Shutdown) -> monitor::Result<AlarmServer> {
    let mut log = ReceiverConfig::new("log");
    log.limit = 100;
    log.digest_from = 3;
    let notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(LogNotifier::new(&dir.join("alerts.log")))];
    start_alarm(
        AlarmConfig::new(vec![log]),
        notifiers,
        DispatchSettings::default(),
        Some(&dir.join("alarm.journal")),
        shutdown,
    )
}
