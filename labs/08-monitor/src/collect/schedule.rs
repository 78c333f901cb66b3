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

/// The first multiple of `interval` strictly after `now` (aligned to the Unix epoch, so all agents
/// tick together). An interval under 1 ms counts as 1 ms.
pub fn next_tick(now: Millis, interval: Duration) -> Millis {
    todo!("stage 1: the next multiple of the interval in ms (at least 1) after now")
}

/// The collectors of one agent, before they start.
pub struct Scheduler {
    host: String,
    collectors: Vec<Box<dyn Collector>>,
}

impl Scheduler {
    /// A scheduler stamping points with `host`.
    pub fn new(host: impl Into<String>) -> Scheduler {
        todo!("stage 1: a scheduler with no collectors")
    }

    /// Adds a collector.
    pub fn add(&mut self, collector: Box<dyn Collector>) {
        todo!("stage 1: keep it")
    }

    /// Runs every collector on its own thread at its aligned ticks until `shutdown`; each
    /// reading's samples become points stamped with the host and the tick's time and go to `sink`
    /// as one Vec, with the collector's self-metrics. A collector that fails or panics is reported
    /// (`tracing::warn!` with fields) and counted in its self-metrics, and the others go on.
    ///
    /// A full `sink` holds its collector back until there is room (so its next ticks are skipped)
    /// or the stop comes, which drops the batch; a closed one stops the collector.
    pub fn spawn(self, sink: SyncSender<Vec<Point>>, shutdown: Shutdown) -> ScheduleHandle {
        todo!("stage 1: one thread per collector running run_collector")
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
        todo!("stage 1: join every thread")
    }
}

/// One collector's loop: wait for the tick, read, hand the points on.
fn run_collector(
    collector: Box<dyn Collector>,
    host: &str,
    sink: &SyncSender<Vec<Point>>,
    shutdown: &Shutdown,
) {
    todo!(
        "stage 1: loop: wait_until the next tick, collect(tick) under catch_unwind, stamp the samples, add the self-metrics, deliver"
    )
}

/// Waits until the wall clock reaches `tick`; false when a stop came first.
fn wait_until(tick: Millis, shutdown: &Shutdown) -> bool {
    todo!("stage 1: shutdown.wait_timeout for what is left until the tick; never sleep")
}

/// Hands `points` to `sink`, waiting while it is full; false when it is closed or a stop came.
fn deliver(sink: &SyncSender<Vec<Point>>, points: Vec<Point>, shutdown: &Shutdown) -> bool {
    todo!("stage 1: try_send; while full, wait on the shutdown a little and try again")
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    todo!("stage 1: the &str or String the panic carries")
}
