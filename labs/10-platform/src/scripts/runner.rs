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
    todo!(
        "stage 3: a thread that every RESCAN reads installed(dir), runs a script new or with a new current version at once and then on each next_tick of its interval, stamped with the tick due (never twice at once), each run in a thread of its own (a Run, below, frees the script again when dropped) through lab 08's PluginCollector, handing its samples at(host, tick) and the two health series tagged collector=script:NAME to sink"
    )
}

/// What one run of a script needs.
struct Run {
    host: String,
    sink: SyncSender<Vec<Point>>,
    running: Arc<AtomicBool>,
    errors: Arc<AtomicU64>,
}

impl Drop for Run {
    /// The script may run again at its next tick, however this run ended.
    fn drop(&mut self) {
        self.running.store(false, Ordering::Release);
    }
}
