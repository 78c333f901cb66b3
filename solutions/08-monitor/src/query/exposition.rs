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
    let mut name = metric_name(metric);
    match kind {
        Kind::Counter if !name.ends_with("_total") => name.push_str("_total"),
        Kind::Gauge if RESERVED_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) => {
            name.push_str("_value");
        }
        _ => {}
    }
    name
}

/// `tag` as a Prometheus label name.
pub fn label_name(tag: &str) -> String {
    sanitise(tag, false)
}

/// Replaces each character outside Prometheus's alphabet with `_` (colons only in metric names),
/// and puts `_` before a leading digit or in place of an empty name.
fn sanitise(name: &str, colons: bool) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => c,
            ':' if colons => c,
            _ => '_',
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `value` escaped for a quoted label value: `\` as `\\`, `"` as `\"`, a line feed as `\n`.
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// A `# HELP` line's text: the agent's own name for the metric, with `\` and a line feed escaped.
fn escape_help(text: &str) -> String {
    format!("monitor metric {}", text.replace('\\', "\\\\").replace('\n', "\\n"))
}

/// A value as the format writes it: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that reads back
/// as the same `f64`.
pub fn format_value(value: f64) -> String {
    match value {
        v if v.is_nan() => "NaN".to_owned(),
        v if v == f64::INFINITY => "+Inf".to_owned(),
        v if v == f64::NEG_INFINITY => "-Inf".to_owned(),
        v => v.to_string(),
    }
}

/// Renders `points` (their host is left out: the scraper knows whom it scraped) in the text format,
/// grouped by metric name, names in order, each series once with its last value.
pub fn render(points: &[Point]) -> String {
    // name → (kind, the metric as the agent names it, labels text → value); a BTreeMap keeps the
    // output stable from scrape to scrape.
    let mut families: BTreeMap<String, (Kind, String, BTreeMap<String, f64>)> = BTreeMap::new();
    for point in points {
        let name = exposition_name(&point.metric, point.kind);
        let family =
            families.entry(name).or_insert_with(|| (point.kind, point.metric.clone(), BTreeMap::new()));
        let mut labels = String::new();
        for (i, (tag, value)) in point.tags.iter().enumerate() {
            let separator = if i == 0 { "{" } else { "," };
            // Writing to a String cannot fail.
            let _ = write!(labels, "{separator}{}=\"{}\"", label_name(tag), escape_label_value(value));
        }
        if !labels.is_empty() {
            labels.push('}');
        }
        family.2.insert(labels, point.value);
    }
    let mut out = String::new();
    for (name, (kind, metric, series)) in families {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&metric));
        let _ = writeln!(out, "# TYPE {name} {}", kind.as_str());
        for (labels, value) in series {
            let _ = writeln!(out, "{name}{labels} {}", format_value(value));
        }
    }
    out
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
        let mut latest = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        for point in points {
            let key = point.series();
            match latest.get(&key) {
                Some(kept) if kept.timestamp > point.timestamp => {}
                _ => {
                    latest.insert(key, point.clone());
                }
            }
        }
    }

    /// The latest points, rendered by [`render`].
    pub fn render(&self) -> String {
        let latest = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        let points: Vec<Point> = latest.values().cloned().collect();
        drop(latest);
        render(&points)
    }
}
