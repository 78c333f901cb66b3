//! The load average from `/proc/loadavg`: how many threads wanted a CPU (or waited on a disk),
//! averaged over 1, 5 and 15 minutes.
//!
//! `0.52 0.58 0.59 2/345 12345`: the three averages, then runnable/total scheduling entities and the
//! last PID given out, which are not used here. node_exporter calls them `node_load1`,
//! `node_load5` and `node_load15`.

use super::ParseError;
use crate::Sample;

/// The three load averages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadAvg {
    /// Over the last minute.
    pub one: f64,
    /// Over the last 5 minutes.
    pub five: f64,
    /// Over the last 15 minutes.
    pub fifteen: f64,
}

/// Parses `/proc/loadavg`.
///
/// # Errors
///
/// [`ParseError`] when its first three fields are not non-negative numbers.
pub fn parse_loadavg(text: &str) -> Result<LoadAvg, ParseError> {
    todo!("stage 1: the first three fields as non-negative numbers")
}

/// `load.1min`, `load.5min` and `load.15min`.
pub fn load_samples(load: &LoadAvg) -> Vec<Sample> {
    todo!("stage 1: load.1min, load.5min, load.15min")
}
