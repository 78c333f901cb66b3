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
//! A server killed with SIGKILL, and the standby that takes over from it (stage 5), lose no alert
//! and send none twice. The judge logs each event before it hands it on, the alarm journals each
//! event before it answers, and the alarm's journal sends again the messages not marked delivered;
//! two gaps are closed here. An event the judge logged and the alarm never took (the kill fell
//! between the two) is handed to the alarm again at the next start from the judge's log: the alarm
//! drops an event it took before, so only the missing ones count. And a message written to the log
//! but not yet marked delivered is not written again: the log is its own record of what it holds
//! ([`OnceLog`]).
//!
//! The parts are lab 08's work; this file only starts and stops them, so it is given.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use monitor::alarm::{
    AlarmConfig, AlarmCore, AlarmServer, DispatchSettings, LogNotifier, Notification, Notifier,
    ReceiverConfig, start_alarm,
};
use monitor::judge::{Event, EventLog, EventSink, JudgeConfig, JudgeServer, JudgeShard, serve_judge};
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
        let alarm_config = log_alarm_config();
        // Half the alarm's window for duplicates: what it can still tell it took.
        let recent = alarm_config.dedup_for / 2;
        let alarm = start_log_alarm(&config.dir, alarm_config, &shutdown).map_err(monitor_error)?;
        // The judge's events go through the console (its board of alerts) to the alarm; the
        // console needs the judge to exist, so it is put in place once it does.
        let to_console = Arc::new(LateSink { console: OnceLock::new(), alarm: alarm.core() });
        let judge_dir = config.dir.join("judge");
        std::fs::create_dir_all(&judge_dir).map_err(Error::sys(format!("create {}", judge_dir.display())))?;
        // What the judge told a server killed before its alarm took it: the alarm, which drops an
        // event it took before, takes the rest now.
        alarm.core().deliver(&recent_events(&judge_dir.join("events.log"), recent)?);
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

/// The alerts of the judge's log at `path` from the last `window`.
fn recent_events(path: &Path, window: Duration) -> Result<Vec<Event>, Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let (log, events) = EventLog::open(path).map_err(|err| Error::Monitor(err.to_string()))?;
    drop(log);
    let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let since = crate::now_millis().saturating_sub(window);
    Ok(events.into_iter().filter(|event| matches!(event, Event::Alert(alert) if alert.at >= since)).collect())
}

/// Lab 08's log of messages, each written once. A message equal to one the log holds is the same
/// message sent again (the alarm's journal sends again what it had not marked delivered when its
/// server was killed): it is not written twice. Two messages are equal only when they are the
/// same: each names its event's rule, series, status and time.
pub struct OnceLog {
    log: LogNotifier,
    written: HashSet<String>,
}

/// How much of the end of the log [`OnceLog`] reads at a start: what the alarm may send again
/// is among its last messages.
pub const ONCE_LOG_TAIL: u64 = 8 << 20;

impl OnceLog {
    /// The log at `path`, with the messages of its last [`ONCE_LOG_TAIL`] bytes known as written.
    /// A last line cut short (the process was killed writing it) is ended, so the next message
    /// starts a line of its own.
    ///
    /// # Errors
    ///
    /// When the file exists and cannot be read or ended.
    pub fn open(path: &Path) -> std::io::Result<OnceLog> {
        let mut written = HashSet::new();
        if let Ok(mut file) = std::fs::OpenOptions::new().read(true).append(true).open(path) {
            let length = file.metadata()?.len();
            file.seek(SeekFrom::Start(length.saturating_sub(ONCE_LOG_TAIL)))?;
            let mut text = String::new();
            file.read_to_string(&mut text)?;
            // Read from the middle of a line: that line is skipped.
            let whole = if length > ONCE_LOG_TAIL {
                text.split_once('\n').map_or("", |(_, rest)| rest)
            } else {
                &text
            };
            for line in whole.lines() {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
                    written.insert(value["notification"].to_string());
                }
            }
            if !text.is_empty() && !text.ends_with('\n') {
                file.write_all(b"\n")?;
            }
        }
        Ok(OnceLog { log: LogNotifier::new(path), written })
    }
}

impl Notifier for OnceLog {
    fn describe(&self) -> String {
        format!("{} (each message once)", self.log.describe())
    }

    fn send(&mut self, notification: &Notification, now: monitor::point::Millis) -> Result<(), String> {
        let key = serde_json::to_value(notification).map(|value| value.to_string()).unwrap_or_default();
        if self.written.contains(&key) {
            return Ok(());
        }
        self.log.send(notification, now)?;
        self.written.insert(key);
        Ok(())
    }
}

/// The alarm's one receiver, the log: at most 100 alerts a minute, priorities 3 to 5 in a digest.
fn log_alarm_config() -> AlarmConfig {
    let mut log = ReceiverConfig::new("log");
    log.limit = 100;
    log.digest_from = 3;
    AlarmConfig::new(vec![log])
}

/// The alarm `config` describes, writing every alert to `alerts.log` in `dir` once ([`OnceLog`]).
fn start_log_alarm(
    dir: &Path,
    config: AlarmConfig,
    shutdown: &monitor::Shutdown,
) -> monitor::Result<AlarmServer> {
    let path = dir.join("alerts.log");
    let once =
        OnceLog::open(&path).map_err(|err| monitor::Error::File { path: path.clone(), source: err })?;
    let notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(once)];
    start_alarm(config, notifiers, DispatchSettings::default(), Some(&dir.join("alarm.journal")), shutdown)
}

#[cfg(test)]
mod tests {
    use monitor::alarm::Notification;
    use monitor::judge::{Alert, Status};
    use monitor::point::SeriesKey;

    use super::*;

    fn alert(host: &str, at: i64) -> Event {
        Event::Alert(Alert {
            rule: 1,
            priority: 0,
            expr: "cpu > 90".into(),
            series: SeriesKey { host: host.into(), metric: "cpu".into(), tags: Default::default() },
            status: Status::Problem,
            value: 95.0,
            at,
            count: 1,
            notify: true,
        })
    }

    /// The lines of the alerts log in `dir` that name `host`.
    fn alerts_of(dir: &Path, host: &str) -> usize {
        let text = std::fs::read_to_string(dir.join("alerts.log")).unwrap_or_default();
        text.lines().filter(|line| line.contains(&format!("\"{host}\""))).count()
    }

    /// Starts the monitoring in `dir` and stops it once the alerts log names `host`.
    fn run_until_written(dir: &Path, host: &str) {
        let monitoring = Monitoring::start(&MonitoringConfig::new(dir)).unwrap();
        testkit::eventually(&format!("{host}'s alert in the log"), || alerts_of(dir, host) > 0);
        monitoring.stop();
    }

    #[test]
    fn an_alert_the_judge_logged_before_a_kill_is_written_once_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let judge_log = dir.path().join("judge").join("events.log");
        std::fs::create_dir_all(judge_log.parent().unwrap()).unwrap();
        let now = crate::now_millis();
        // The server was killed after its judge logged these and before its alarm took them.
        let (mut log, _) = EventLog::open(&judge_log).unwrap();
        log.append(&[alert("old", now - 86_400_000), alert("web1", now - 1_000)]).unwrap();
        drop(log);
        run_until_written(dir.path(), "web1");
        // Killed again after one more; the alarm took web1 last time and must not send it again.
        let (mut log, _) = EventLog::open(&judge_log).unwrap();
        log.append(&[alert("web2", now)]).unwrap();
        drop(log);
        run_until_written(dir.path(), "web2");
        assert_eq!(alerts_of(dir.path(), "web1"), 1, "web1's alert written twice");
        assert_eq!(alerts_of(dir.path(), "old"), 0, "an alert older than the alarm's window was sent");
    }

    #[test]
    fn a_message_the_log_holds_is_not_written_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.log");
        let message = |count| Notification::Suppressed { count, since: 1_000 };
        let mut log = OnceLog::open(&path).unwrap();
        log.send(&message(1), 5).unwrap();
        log.send(&message(2), 6).unwrap();
        log.send(&message(1), 7).unwrap();
        drop(log);
        // A line cut short by a kill, then the journal's sending again after the restart.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"at\":8,\"subj").unwrap();
        let mut log = OnceLog::open(&path).unwrap();
        log.send(&message(2), 9).unwrap();
        log.send(&message(3), 10).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let counts: Vec<i64> = text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|line| line["notification"]["count"].as_i64().unwrap_or(-1))
            .collect();
        assert_eq!(counts, [1, 2, 3], "{text}");
        assert_eq!(text.lines().count(), 4, "the cut line stays a line of its own: {text}");
    }
}
