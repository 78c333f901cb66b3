//! Running collectors on time: each on its own thread, at ticks aligned to its interval.
//!
//! A collector with a 10 s interval runs at :00, :10, :20 of the wall clock, on every machine
//! (ticks are multiples of the interval since the Unix epoch, [`next_tick`]), so points of one
//! metric from a thousand agents share timestamps and add up without resampling. Its points carry
//! the tick's time, not the instant the reading finished.
//!
//! One thread per collector, because collectors block: a plugin may take its whole timeout, an
//! nginx may not answer, a `statvfs` on a dead NFS mount may never return. On a shared thread one
//! of them would delay every other. A reading that overruns its interval makes its collector skip
//! the ticks it missed, never run twice in a row to catch up.
//!
//! A collector that returns an error or panics is reported (a `tracing` warning with the
//! collector's name and the cause) and counted in its self-metrics, and runs again at its next
//! tick; the others never notice. Every reading, failed or not, ends with two self-metric points:
//! `agent.collector.duration.seconds` (a gauge) and `agent.collector.errors` (a counter since start),
//! tagged `collector=NAME`.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::Collector;
use crate::point::now_millis;
use crate::{Millis, Point, Sample, Shutdown};

/// How long a collector waits between two tries to hand a batch to a full sink.
const SINK_RETRY: Duration = Duration::from_millis(10);

// ANCHOR: next_tick
/// The first multiple of `interval` strictly after `now` (aligned to the Unix epoch, so all agents
/// tick together). An interval under 1 ms counts as 1 ms.
pub fn next_tick(now: Millis, interval: Duration) -> Millis {
    let step = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX).max(1);
    now.div_euclid(step).saturating_add(1).saturating_mul(step)
}
// ANCHOR_END: next_tick

/// The collectors of one agent, before they start.
pub struct Scheduler {
    host: String,
    collectors: Vec<Box<dyn Collector>>,
}

impl Scheduler {
    /// A scheduler stamping points with `host`.
    pub fn new(host: impl Into<String>) -> Scheduler {
        Scheduler { host: host.into(), collectors: Vec::new() }
    }

    /// Adds a collector.
    pub fn add(&mut self, collector: Box<dyn Collector>) {
        self.collectors.push(collector);
    }

    /// Runs every collector on its own thread at its aligned ticks until `shutdown`; each
    /// reading's samples become points stamped with the host and the tick's time and go to `sink`
    /// as one Vec, with the collector's self-metrics. A collector that fails or panics is reported
    /// (`tracing::warn!` with fields) and counted in its self-metrics, and the others go on.
    ///
    /// A full `sink` holds its collector back until there is room (so its next ticks are skipped)
    /// or the stop comes, which drops the batch; a closed one stops the collector.
    pub fn spawn(self, sink: SyncSender<Vec<Point>>, shutdown: Shutdown) -> ScheduleHandle {
        let threads = self
            .collectors
            .into_iter()
            .filter_map(|collector| {
                let name = collector.name().to_owned();
                let (host, sink, shutdown) = (self.host.clone(), sink.clone(), shutdown.clone());
                let spawned = thread::Builder::new()
                    .name(format!("collect-{name}"))
                    .spawn(move || run_collector(collector, &host, &sink, &shutdown));
                spawned
                    .inspect_err(
                        |err| tracing::error!(collector = %name, cause = %err, "cannot start a thread"),
                    )
                    .ok()
            })
            .collect();
        ScheduleHandle { threads }
    }
}

/// The running collectors' threads.
#[derive(Debug)]
pub struct ScheduleHandle {
    threads: Vec<JoinHandle<()>>,
}

impl ScheduleHandle {
    /// Waits for every collector's thread to end (after the shutdown, each finishes the reading it
    /// is in).
    pub fn join(self) {
        for thread in self.threads {
            // The loop catches the collectors' panics: a thread that still panicked has been
            // reported by the panic hook, and there is nothing left to stop.
            let _ = thread.join();
        }
    }
}

/// One collector's loop: wait for the tick, read, hand the points on.
fn run_collector(
    mut collector: Box<dyn Collector>,
    host: &str,
    sink: &SyncSender<Vec<Point>>,
    shutdown: &Shutdown,
) {
    let name = collector.name().to_owned();
    let interval = collector.interval();
    let mut errors = 0u64;
    loop {
        let tick = next_tick(now_millis(), interval);
        if !wait_until(tick, shutdown) {
            return;
        }
        let started = Instant::now();
        let reading = panic::catch_unwind(AssertUnwindSafe(|| collector.collect(tick)));
        let took = started.elapsed();
        let mut points = match reading {
            Ok(Ok(samples)) => samples.into_iter().map(|sample| sample.at(host, tick)).collect(),
            Ok(Err(err)) => {
                errors += 1;
                tracing::warn!(collector = %name, cause = %err, "collection failed");
                Vec::new()
            }
            Err(panic) => {
                errors += 1;
                tracing::warn!(collector = %name, cause = %panic_message(&*panic), "collector panicked");
                Vec::new()
            }
        };
        points.push(
            Sample::gauge("agent.collector.duration.seconds", took.as_secs_f64())
                .tag("collector", name.as_str())
                .at(host, tick),
        );
        points.push(
            Sample::counter("agent.collector.errors", errors as f64)
                .tag("collector", name.as_str())
                .at(host, tick),
        );
        if !deliver(sink, points, shutdown) {
            return;
        }
    }
}

/// Waits until the wall clock reaches `tick`; false when a stop came first.
fn wait_until(tick: Millis, shutdown: &Shutdown) -> bool {
    loop {
        let now = now_millis();
        if now >= tick {
            return !shutdown.is_stopped();
        }
        // Woken early, or the clock was set back: wait again for what is left.
        let left = Duration::from_millis(u64::try_from(tick - now).unwrap_or(0));
        if shutdown.wait_timeout(left) {
            return false;
        }
    }
}

/// Hands `points` to `sink`, waiting while it is full; false when it is closed or a stop came.
fn deliver(sink: &SyncSender<Vec<Point>>, mut points: Vec<Point>, shutdown: &Shutdown) -> bool {
    loop {
        match sink.try_send(points) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                points = back;
                if shutdown.wait_timeout(SINK_RETRY) {
                    return false;
                }
            }
        }
    }
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(message), _) => (*message).to_owned(),
        (_, Some(message)) => message.clone(),
        _ => "a panic without a message".to_owned(),
    }
}
