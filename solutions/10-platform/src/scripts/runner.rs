//! The scripts installed on a host, run as its collectors: each current version on its
//! manifest's interval (ticks aligned to the epoch, as lab 08's scheduler aligns its collectors),
//! through lab 08's plugin runner (its own process group, killed whole at the timeout, output
//! capped), what it prints turned into points for the host. The runner looks at the installed
//! scripts again every [`RESCAN`], so a version rolled out or rolled back runs within a second,
//! once at once and then on its ticks, with no restart of the agent.
//!
//! Each run is a thread of its own, so a slow script delays no other, and a script still running
//! at its next tick skips that tick rather than piling up. Beside a script's points come lab 08's
//! two health series for it, `agent.collector.duration.seconds` and the counter
//! `agent.collector.errors`, tagged `collector=script:NAME`: a broken version shows as errors
//! rising, and the cure is a rollback.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use monitor::collect::{Collector, PluginCollector, next_tick};
use monitor::point::now_millis;
use monitor::{Millis, Point, Sample, Shutdown};

use super::{Installed, installed};

/// How often the runner looks for scripts installed, rolled out, rolled back or removed.
pub const RESCAN: Duration = Duration::from_secs(1);

/// One script as the runner follows it.
struct Followed {
    version: i64,
    next: Millis,
    running: Arc<AtomicBool>,
    errors: Arc<AtomicU64>,
}

/// Runs the scripts current in `dir` as `host`'s collectors until `shutdown`, handing each run's
/// points to `sink`: a new script, or a new current version, at once, then on every tick of its
/// interval (multiples of it since the epoch), its points stamped with that tick.
///
/// # Errors
///
/// When the thread cannot be started.
pub fn spawn_runner(
    dir: PathBuf,
    host: String,
    sink: SyncSender<Vec<Point>>,
    shutdown: Shutdown,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("scripts".into()).spawn(move || {
        let mut followed: HashMap<String, Followed> = HashMap::new();
        loop {
            let now = now_millis();
            let current = installed(&dir);
            followed.retain(|name, _| current.iter().any(|script| &script.manifest.name == name));
            for script in current {
                let entry = followed.entry(script.manifest.name.clone()).or_insert_with(|| Followed {
                    version: script.version,
                    next: now,
                    running: Arc::default(),
                    errors: Arc::default(),
                });
                if entry.version != script.version {
                    (entry.version, entry.next) = (script.version, now);
                }
                if now < entry.next || entry.running.swap(true, Ordering::AcqRel) {
                    continue;
                }
                // Its points are stamped with the tick that was due (the clock's, as lab 08's
                // collectors stamp theirs), or with now for a first run.
                let tick = entry.next;
                entry.next = next_tick(now, script.manifest.interval());
                let run = Run {
                    host: host.clone(),
                    sink: sink.clone(),
                    running: Arc::clone(&entry.running),
                    errors: Arc::clone(&entry.errors),
                };
                let name = script.manifest.name.clone();
                if let Err(err) = std::thread::Builder::new()
                    .name(format!("script {name}"))
                    .spawn(move || run.once(&script, tick))
                {
                    tracing::warn!(script = %name, cause = %err, "cannot start a script's run");
                    entry.running.store(false, Ordering::Release);
                }
            }
            if shutdown.wait_timeout(RESCAN) {
                return;
            }
        }
    })
}

/// What one run of a script needs.
struct Run {
    host: String,
    sink: SyncSender<Vec<Point>>,
    running: Arc<AtomicBool>,
    errors: Arc<AtomicU64>,
}

impl Run {
    /// Runs `script` for the tick `tick` and hands on its points.
    fn once(&self, script: &Installed, tick: Millis) {
        let collector = format!("script:{}", script.manifest.name);
        let started = Instant::now();
        let mut points = match PluginCollector::new(script.plugin()).collect(tick) {
            Ok(samples) => samples.into_iter().map(|sample| sample.at(&self.host, tick)).collect(),
            Err(err) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%collector, version = script.version, cause = %err, "a script failed");
                Vec::new()
            }
        };
        points.push(
            Sample::gauge("agent.collector.duration.seconds", started.elapsed().as_secs_f64())
                .tag("collector", collector.as_str())
                .at(&self.host, tick),
        );
        points.push(
            Sample::counter("agent.collector.errors", self.errors.load(Ordering::Relaxed) as f64)
                .tag("collector", collector.as_str())
                .at(&self.host, tick),
        );
        // A sink that is gone (the agent stopping) takes nothing more.
        let _ = self.sink.send(points);
    }
}

impl Drop for Run {
    /// The script may run again at its next tick, however this run ended.
    fn drop(&mut self) {
        self.running.store(false, Ordering::Release);
    }
}
