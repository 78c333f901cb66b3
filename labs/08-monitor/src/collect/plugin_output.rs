//! What a plugin may print: Open-Falcon-style lines, or Prometheus's text format. Both can be mixed
//! in one output, line by line.
//!
//! ```text
//! # A comment; blank lines are skipped too.
//! disk.temperature 41.5 device=sda model=ST4000
//! queue.depth 12
//! # HELP http_requests_total Requests served.
//! # TYPE http_requests_total counter
//! http_requests_total{method="post",code="200"} 1027 1395066363000
//! ```
//!
//! - A plain line is `name value [tag=value ...]`, separated by blanks: a gauge.
//! - A Prometheus line is `name{label="value",...} value [timestamp]`, or `name value timestamp`
//!   with an integer timestamp. Label values are quoted, with `\\`, `\"` and `\n` escaped. The kind
//!   comes from the metric's `# TYPE` line: `counter` is a counter, and so are the `_bucket`,
//!   `_sum` and `_count` series of a `histogram` or `summary`; anything else is a gauge.
//!   Timestamps are checked and dropped: a point takes its tick's time.
//!
//! Names are `[A-Za-z_:][A-Za-z0-9_:.-]*` (Prometheus's, plus dots and dashes), values are
//! decimal or Prometheus's `NaN`, `+Inf`, `-Inf`. A line that is none of this makes the whole output
//! an error, as node_exporter's textfile collector rejects a file: half a reading, silently, would
//! look like a whole one.

use std::collections::HashMap;

use super::ParseError;
use crate::{Kind, Sample, Tags};

/// Parses a plugin's output into samples, in the order printed.
///
/// # Errors
///
/// [`ParseError`] naming the first line that is neither format, and why.
pub fn parse_plugin_output(text: &str) -> Result<Vec<Sample>, ParseError> {
    todo!(
        "stage 1: skip blank lines; # TYPE lines give kinds; every other line through parse_sample, with the line's number on an error"
    )
}

/// One line that is not a comment: either format.
fn parse_sample(line: &str) -> Result<Sample, String> {
    todo!("stage 1: name, then {{labels}} or not, a value, then tags (plain) or a timestamp")
}

/// Reads `label="value",...}` into `tags`; returns what follows the `}`.
fn parse_labels<'a>(rest: &'a str, tags: &mut Tags) -> Result<&'a str, String> {
    todo!("stage 1: label=\"value\" pairs, comma-separated, escapes \\\\ \\\" \\n, up to the }}")
}

/// Whether `name` is a metric, tag or label name.
fn is_name(name: &str) -> bool {
    todo!("stage 1: [A-Za-z_:][A-Za-z0-9_:.-]*")
}

/// A decimal number, or `NaN`, `+Inf`, `-Inf`, `Inf`.
fn parse_value(word: &str) -> Option<f64> {
    todo!("stage 1: a decimal number, NaN, +Inf, -Inf (not Rust's inf or nan)")
}

/// The kind of a series, from its metric's `# TYPE`.
fn kind_of(metric: &str, types: &HashMap<&str, &str>) -> Kind {
    todo!("stage 1: counter, or a histogram's or summary's _bucket/_sum/_count, is a Counter; the rest Gauge")
}
