//! The query API's parameters: from the text of a URL's query string to a checked
//! [`RangeQuery`], or a [`ParamError`] that names the parameter at fault.
//!
//! Times are Unix seconds, with a fraction if wanted (`1764720000`, `1764720000.5`), as
//! Prometheus's HTTP API takes them; a step is a number of seconds or a duration with a unit
//! (`10s`, `5m`, `1h`, `1d`). A query may ask for at most [`MAX_POINTS`] steps, Prometheus's own
//! limit, so that no request can make the server build an answer of millions of points.

use std::time::Duration;

use crate::point::{Millis, SeriesKey, Tags};
use crate::store::{Aggregate, RangeQuery};

/// The most steps one range query may span: `(end − start) / step`.
pub const MAX_POINTS: u64 = 11_000;

/// A parameter that is missing or malformed; the API answers 400 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {reason}")]
pub struct ParamError {
    /// The parameter, as `start` or `tag.cpu`.
    pub param: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ParamError {
    /// The error for `param`.
    pub fn new(param: impl Into<String>, reason: impl Into<String>) -> ParamError {
        ParamError { param: param.into(), reason: reason.into() }
    }
}

/// Parses the parameters of `/api/v1/query_range`, in the order they came: `host` and `metric`
/// (required), `tag.NAME=VALUE` for each tag of the series, `start` and `end` (Unix seconds, `end`
/// not before `start`), `step` (optional: the raw points when absent) and `aggregate` (`avg`, the
/// default, `min`, `max`, `sum`, `count` or `last`: how the points of one step are combined).
///
/// # Errors
///
/// A [`ParamError`] naming the first parameter that is missing, repeated, malformed or out of range
/// (more than [`MAX_POINTS`] steps), or that the API does not know.
pub fn parse_range(params: &[(String, String)]) -> Result<RangeQuery, ParamError> {
    let mut host = None;
    let mut metric = None;
    let mut tags = Tags::new();
    let (mut start, mut end, mut step, mut aggregate) = (None, None, None, None);
    for (name, value) in params {
        let repeated = || ParamError::new(name, "given more than once");
        if let Some(tag) = name.strip_prefix("tag.") {
            if tag.is_empty() {
                return Err(ParamError::new(name, "a tag needs a name: tag.NAME=VALUE"));
            }
            if tags.insert(tag.to_owned(), value.clone()).is_some() {
                return Err(repeated());
            }
            continue;
        }
        let slot_was_empty = match name.as_str() {
            "host" => host.replace(required_text(name, value)?).is_none(),
            "metric" => metric.replace(required_text(name, value)?).is_none(),
            "start" => start.replace(parse_time(name, value)?).is_none(),
            "end" => end.replace(parse_time(name, value)?).is_none(),
            "step" => step.replace(parse_step(name, value)?).is_none(),
            "aggregate" => aggregate.replace(parse_aggregate(name, value)?).is_none(),
            _ => return Err(ParamError::new(name, "unknown parameter")),
        };
        if !slot_was_empty {
            return Err(repeated());
        }
    }
    let missing = |param: &str| ParamError::new(param, "missing");
    let host = host.ok_or_else(|| missing("host"))?;
    let metric = metric.ok_or_else(|| missing("metric"))?;
    let start = start.ok_or_else(|| missing("start"))?;
    let end = end.ok_or_else(|| missing("end"))?;
    if end < start {
        return Err(ParamError::new("end", "is before start"));
    }
    if let Some(step) = step {
        let span = u64::try_from(end - start).unwrap_or(u64::MAX);
        let step_ms = u64::try_from(step.as_millis()).unwrap_or(u64::MAX).max(1);
        if span / step_ms > MAX_POINTS {
            return Err(ParamError::new(
                "step",
                format!("too small for the range: more than {MAX_POINTS} points; use a larger step"),
            ));
        }
    }
    Ok(RangeQuery {
        series: SeriesKey { host, metric, tags },
        from: start,
        to: end,
        step,
        aggregate: aggregate.unwrap_or(Aggregate::Avg),
    })
}

/// `value` as a time: Unix seconds, a fraction allowed, between 1970 and the year 2286.
///
/// # Errors
///
/// A [`ParamError`] for `param` when it is not such a number.
pub fn parse_time(param: &str, value: &str) -> Result<Millis, ParamError> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| ParamError::new(param, format!("{value:?} is not a time in Unix seconds")))?;
    if !seconds.is_finite() || !(0.0..=1e10).contains(&seconds) {
        return Err(ParamError::new(param, format!("{value:?} is not a time in Unix seconds")));
    }
    // In range, so the product fits: at most 1e13 ms.
    Ok((seconds * 1000.0).round() as Millis)
}

/// `value` as a step: seconds (`15`, `0.5`) or a whole number with a unit (`10s`, `5m`, `1h`,
/// `1d`), at least 1 ms and at most a year.
///
/// # Errors
///
/// A [`ParamError`] for `param` when it is neither, or out of range.
pub fn parse_step(param: &str, value: &str) -> Result<Duration, ParamError> {
    let bad = || ParamError::new(param, format!("{value:?} is not a duration like 10s, 5m or 15"));
    let text = value.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    let unit_seconds = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    let seconds = number.parse::<f64>().map_err(|_| bad())? * unit_seconds;
    if !seconds.is_finite() || !(0.001..=365.0 * 86_400.0).contains(&seconds) {
        return Err(ParamError::new(param, format!("{value:?} is not between 1ms and 365d")));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `value` as an aggregate's name.
fn parse_aggregate(param: &str, value: &str) -> Result<Aggregate, ParamError> {
    match value {
        "avg" => Ok(Aggregate::Avg),
        "min" => Ok(Aggregate::Min),
        "max" => Ok(Aggregate::Max),
        "sum" => Ok(Aggregate::Sum),
        "count" => Ok(Aggregate::Count),
        "last" => Ok(Aggregate::Last),
        _ => Err(ParamError::new(param, format!("{value:?} is not one of avg, min, max, sum, count, last"))),
    }
}

/// `value`, refused when empty.
fn required_text(param: &str, value: &str) -> Result<String, ParamError> {
    match value.is_empty() {
        true => Err(ParamError::new(param, "empty")),
        false => Ok(value.to_owned()),
    }
}
