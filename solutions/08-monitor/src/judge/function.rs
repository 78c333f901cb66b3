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
    let needed = function.values_needed();
    let values = newest_first.get(..needed)?;
    let newest = values[0];
    let verdict = |value: f64| Verdict { holds: op.holds(value, threshold), value };
    Some(match function {
        Function::All(_) => Verdict { holds: values.iter().all(|&v| op.holds(v, threshold)), value: newest },
        Function::Avg(n) => verdict(values.iter().sum::<f64>() / n as f64),
        Function::Max(_) => verdict(extreme(values, f64::max)),
        Function::Min(_) => verdict(extreme(values, f64::min)),
        Function::Diff(_) => first_holding(values[1..].iter().map(|&older| newest - older), op, threshold),
        Function::Pdiff(_) => first_holding(
            values[1..].iter().filter(|&&older| older != 0.0).map(|&older| (newest - older) / older * 100.0),
            op,
            threshold,
        ),
    })
}

/// The largest (or smallest) of `values` by `pick`; NaN when one is NaN (`f64::max` would skip it).
fn extreme(values: &[f64], pick: fn(f64, f64) -> f64) -> f64 {
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    values.iter().copied().reduce(pick).unwrap_or(f64::NAN)
}

/// The first of `candidates` that meets the condition; otherwise a verdict that does not hold, with
/// the last one tried (NaN when there was none: every older value was 0).
fn first_holding(candidates: impl Iterator<Item = f64>, op: Op, threshold: f64) -> Verdict {
    let mut last = f64::NAN;
    for value in candidates {
        if op.holds(value, threshold) {
            return Verdict { holds: true, value };
        }
        last = value;
    }
    Verdict { holds: false, value: last }
}
