//! Evaluating a function over a series' newest values, exactly as Open-Falcon's judge does
//! (`modules/judge/store/func.go`), with one change: a NaN never makes a condition hold.

use super::rule::{Function, Op};

/// What evaluating a condition over a series' values gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Whether the condition holds.
    pub holds: bool,
    /// The value compared (the newest value for `all`, the mean for `avg`, the difference that
    /// met the condition, or the last one tried, for `diff` and `pdiff`): what an alert reports.
    pub value: f64,
}

/// Evaluates `function op threshold` over `newest_first`, the series' values from the newest back;
/// `None` while there are fewer than the function needs ([`Function::values_needed`]).
///
/// A window with a NaN has no mean, largest or smallest value; in `all` a NaN fails the
/// condition; in `diff` and `pdiff` a difference with a NaN in it fails it.
pub fn evaluate(function: Function, op: Op, threshold: f64, newest_first: &[f64]) -> Option<Verdict> {
    todo!(
        "stage 6: the newest values_needed() values; all: each holds (value: the newest); avg, max, min: compare one value; diff, pdiff: first_holding over the differences"
    )
}

/// The largest (or smallest) of `values` by `pick`; NaN when one is NaN (`f64::max` would skip it).
fn extreme(values: &[f64], pick: fn(f64, f64) -> f64) -> f64 {
    todo!("stage 6: NaN if any value is NaN, else reduce by pick")
}

/// The first of `candidates` that meets the condition; otherwise a verdict that does not hold, with
/// the last one tried (NaN when there was none: every older value was 0).
fn first_holding(candidates: impl Iterator<Item = f64>, op: Op, threshold: f64) -> Verdict {
    todo!("stage 6: the first candidate that holds; else not holding, with the last candidate (NaN if none)")
}
