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
    todo!("stage 5: check every parameter into a RangeQuery, naming the first one at fault")
}

/// `value` as a time: Unix seconds, a fraction allowed, between 1970 and the year 2286.
///
/// # Errors
///
/// A [`ParamError`] for `param` when it is not such a number.
pub fn parse_time(param: &str, value: &str) -> Result<Millis, ParamError> {
    todo!("stage 5: Unix seconds with a fraction to milliseconds")
}

/// `value` as a step: seconds (`15`, `0.5`) or a whole number with a unit (`10s`, `5m`, `1h`,
/// `1d`), at least 1 ms and at most a year.
///
/// # Errors
///
/// A [`ParamError`] for `param` when it is neither, or out of range.
pub fn parse_step(param: &str, value: &str) -> Result<Duration, ParamError> {
    todo!("stage 5: seconds, or a number with a unit, to a Duration")
}

/// `value` as an aggregate's name.
fn parse_aggregate(param: &str, value: &str) -> Result<Aggregate, ParamError> {
    todo!("stage 5: an aggregate's name")
}

/// `value`, refused when empty.
fn required_text(param: &str, value: &str) -> Result<String, ParamError> {
    match value.is_empty() {
        true => Err(ParamError::new(param, "empty")),
        false => Ok(value.to_owned()),
    }
}
