//! Prometheus's text exposition format: how the agent's `/metrics` page shows its latest readings
//! to a Prometheus that scrapes it, as node_exporter's does.
//!
//! ```text
//! # HELP cpu_busy monitor metric cpu.busy
//! # TYPE cpu_busy gauge
//! cpu_busy 12.5
//! cpu_busy{cpu="0"} 10
//! # HELP nginx_requests_total monitor metric nginx.requests
//! # TYPE nginx_requests_total counter
//! nginx_requests_total 10234
//! ```
//!
//! Prometheus's names allow `[a-zA-Z_:][a-zA-Z0-9_:]*` and its label names
//! `[a-zA-Z_][a-zA-Z0-9_]*`, so every other character becomes `_` (`cpu.busy` is `cpu_busy`) and a
//! name that starts with a digit gets a `_` in front. Label values are quoted, with `\`, `"` and a
//! line feed escaped. A counter's name ends in `_total`, as Prometheus's conventions ask (and
//! `promtool check metrics` checks), and a gauge's may not end in a suffix the format keeps for
//! counters, histograms and summaries (`_total`, `_count`, `_sum`, `_bucket`): such a gauge gets
//! `_value` after it, so `mem.total` is `mem_total_value` ([`exposition_name`]). Each name has one `# HELP` and one `# TYPE` line before its
//! first sample, and all its samples follow them: the format requires a name's lines to stand
//! together. No timestamps are written: the scraper stamps what it scrapes, as it does for
//! node_exporter.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, PoisonError};

use crate::point::{Kind, Point, SeriesKey};

/// `metric` as a Prometheus metric name.
pub fn metric_name(metric: &str) -> String {
    sanitise(metric, true)
}

/// The suffixes Prometheus keeps for counters (`_total`), histograms and summaries.
const RESERVED_SUFFIXES: [&str; 4] = ["_total", "_count", "_sum", "_bucket"];

/// The name a point of `metric` and `kind` is shown under: [`metric_name`], then `_total` after a
/// counter's name that lacks it, and `_value` after a gauge's that ends in a reserved suffix.
pub fn exposition_name(metric: &str, kind: Kind) -> String {
    todo!("stage 5: the sanitised name, with _total for a counter and _value after a gauge's reserved suffix")
}

/// `tag` as a Prometheus label name.
pub fn label_name(tag: &str) -> String {
    sanitise(tag, false)
}

/// Replaces each character outside Prometheus's alphabet with `_` (colons only in metric names),
/// and puts `_` before a leading digit or in place of an empty name.
fn sanitise(name: &str, colons: bool) -> String {
    todo!("stage 5: make every character outside Prometheus's alphabet an underscore")
}

/// `value` escaped for a quoted label value: `\` as `\\`, `"` as `\"`, a line feed as `\n`.
pub fn escape_label_value(value: &str) -> String {
    todo!("stage 5: escape backslashes, quotes and line feeds")
}

/// A `# HELP` line's text: the agent's own name for the metric, with `\` and a line feed escaped.
fn escape_help(text: &str) -> String {
    todo!("stage 5: the HELP line's text, escaped")
}

/// A value as the format writes it: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that reads back
/// as the same `f64`.
pub fn format_value(value: f64) -> String {
    todo!("stage 5: NaN, +Inf, -Inf or the shortest decimal")
}

/// Renders `points` (their host is left out: the scraper knows whom it scraped) in the text format,
/// grouped by metric name, names in order, each series once with its last value.
pub fn render(points: &[Point]) -> String {
    todo!("stage 5: one HELP and TYPE line per name, then its series")
}

/// The agent's latest reading of every series, kept for its `/metrics` page.
#[derive(Debug, Default)]
pub struct LatestPoints {
    points: Mutex<BTreeMap<SeriesKey, Point>>,
}

impl LatestPoints {
    /// None yet.
    pub fn new() -> LatestPoints {
        LatestPoints::default()
    }

    /// Keeps each of `points` as its series' latest, unless one already kept is newer.
    pub fn update(&self, points: &[Point]) {
        todo!("stage 5: keep each series' newest point")
    }

    /// The latest points, rendered by [`render`].
    pub fn render(&self) -> String {
        let latest = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        let points: Vec<Point> = latest.values().cloned().collect();
        drop(latest);
        render(&points)
    }
}
