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
    let mut types: HashMap<&str, &str> = HashMap::new();
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        let error = |reason: String| ParseError::new(index + 1, reason);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_ascii_whitespace();
            if let (Some("TYPE"), Some(name), Some(kind)) = (words.next(), words.next(), words.next()) {
                types.insert(name, kind);
            }
            continue;
        }
        let mut sample = parse_sample(line).map_err(error)?;
        sample.kind = kind_of(&sample.metric, &types);
        samples.push(sample);
    }
    Ok(samples)
}

/// One line that is not a comment: either format.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(|c: char| c == '{' || c.is_ascii_whitespace()).unwrap_or(line.len());
    let (name, mut rest) = line.split_at(name_end);
    if !is_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut tags = Tags::new();
    let labelled = rest.starts_with('{');
    if labelled {
        rest = parse_labels(&rest[1..], &mut tags)?;
    }
    let mut words = rest.split_ascii_whitespace();
    let value = words.next().ok_or("no value")?;
    let value = parse_value(value).ok_or_else(|| format!("bad value {value:?}"))?;
    let extra: Vec<&str> = words.collect();
    match extra[..] {
        [] => {}
        [timestamp] if timestamp.parse::<i64>().is_ok() => {}
        _ if labelled => return Err("a labelled line takes only a value and a timestamp".into()),
        _ => {
            for word in extra {
                let (tag, tag_value) = word.split_once('=').ok_or_else(|| format!("bad tag {word:?}"))?;
                if !is_name(tag) || tag_value.is_empty() {
                    return Err(format!("bad tag {word:?}"));
                }
                tags.insert(tag.to_owned(), tag_value.to_owned());
            }
        }
    }
    Ok(Sample { metric: name.to_owned(), tags, value, kind: Kind::Gauge })
}

/// Reads `label="value",...}` into `tags`; returns what follows the `}`.
fn parse_labels<'a>(mut rest: &'a str, tags: &mut Tags) -> Result<&'a str, String> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let (label, after) = rest.split_once('=').ok_or("a label without =")?;
        let label = label.trim();
        if !is_name(label) {
            return Err(format!("bad label name {label:?}"));
        }
        let after = after.trim_start().strip_prefix('"').ok_or("a label value without quotes")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().ok_or("a label value without its closing quote")? {
                (at, '"') => break at,
                (_, '\\') => match chars.next().ok_or("a label value ending in \\")?.1 {
                    'n' => value.push('\n'),
                    escaped @ ('\\' | '"') => value.push(escaped),
                    other => return Err(format!("bad escape \\{other} in a label value")),
                },
                (_, other) => value.push(other),
            }
        };
        tags.insert(label.to_owned(), value);
        rest = after[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels not separated by commas".into());
        }
    }
}

/// Whether `name` is a metric, tag or label name.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'))
}

/// A decimal number, or `NaN`, `+Inf`, `-Inf`, `Inf`.
fn parse_value(word: &str) -> Option<f64> {
    match word {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        // Rust's parser also takes "inf", "infinity" and "nan" in any case: not Prometheus's.
        _ if word.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) => None,
        _ => word.parse().ok(),
    }
}

/// The kind of a series, from its metric's `# TYPE`.
fn kind_of(metric: &str, types: &HashMap<&str, &str>) -> Kind {
    if types.get(metric) == Some(&"counter") {
        return Kind::Counter;
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        let Some(base) = metric.strip_suffix(suffix) else { continue };
        if matches!(types.get(base), Some(&"histogram" | &"summary")) {
            return Kind::Counter;
        }
    }
    Kind::Gauge
}
