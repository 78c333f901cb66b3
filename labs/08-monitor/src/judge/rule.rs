//! What a rule says: an expression over a series' recent values ([`Expr`]: which series, which
//! function of how many values, compared with what) and what to do when it holds ([`Rule`]: its
//! priority and how often to notify again).
//!
//! An expression is written as Open-Falcon's strategies are, on one line:
//!
//! ```text
//! cpu.busy{host=web1,cpu=total} all(#3) > 90
//! df.bytes.free.percent{mount!=/boot} max(#2) < 5
//! net.if.in.bytes diff(#1) >= 1e9
//! ```
//!
//! [`Expr`]'s `Display` writes that form and [`Expr::parse`] reads it back.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::parse::{ParseError, parse_expr};
use crate::point::{SeriesKey, Tags};

/// A rule's number: what alerts, silences and the API name it by.
pub type RuleId = u64;

/// A rule: an expression and how its alerts are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its number, unique among the judge's rules.
    pub id: RuleId,
    /// What it checks.
    pub expr: Expr,
    /// How urgent its alerts are: 0 is the most urgent (Open-Falcon's P0), 5 the least.
    pub priority: u8,
    /// The most notifications one problem gets (the first included); 0 records the alerts and
    /// notifies no one.
    pub max_alerts: u32,
    /// The least time between two notifications of one problem.
    pub min_interval: Duration,
    /// A note for whoever receives the alert.
    pub note: String,
}

impl Rule {
    /// A rule numbered `id` checking `expr`: priority 2, at most 3 notifications a problem, at least
    /// 5 minutes apart, no note.
    pub fn new(id: RuleId, expr: Expr) -> Rule {
        todo!("stage 6: priority 2, max_alerts 3, min_interval 5 minutes, an empty note")
    }
}

/// An expression: `metric{selectors} function op threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The metric it watches.
    pub metric: String,
    /// What a series of the metric must have to be watched (all of them); `host` names the host.
    pub selectors: Vec<Selector>,
    /// What is computed from the series' newest values.
    pub function: Function,
    /// How it is compared.
    pub op: Op,
    /// With what.
    pub threshold: f64,
}

impl Expr {
    /// Reads an expression.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] naming the column where the text stops making sense and what was expected
    /// there.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        todo!("stage 6: parse_expr does the work")
    }

    /// Whether the series `key` is one this expression watches.
    pub fn matches(&self, key: &SeriesKey) -> bool {
        todo!("stage 6: the same metric, and every selector matches the key's host and tags")
    }

    /// Whether a series of this expression's metric, of `host` with `tags`, is one it watches.
    pub fn selects(&self, host: &str, tags: &Tags) -> bool {
        todo!("stage 6: every selector matches host and tags")
    }
}

impl FromStr for Expr {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Expr, ParseError> {
        todo!("stage 6: Expr::parse")
    }
}

impl fmt::Display for Expr {
    /// The expression as [`Expr::parse`] reads it: `cpu.busy{host=web1} all(#3) > 90`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!(
            "stage 6: the metric, its selectors in braces and split by commas (none: no braces), then function, op and threshold"
        )
    }
}

/// One condition on a series: `name=value` or `name!=value`; the name `host` means the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The tag's name, or `host`.
    pub name: String,
    /// Whether the value must be equal (`=`) or must not (`!=`; a missing tag is not equal).
    pub equal: bool,
    /// The value.
    pub value: String,
}

impl Selector {
    /// Whether a series of `host` with `tags` meets this condition.
    pub fn matches(&self, host: &str, tags: &Tags) -> bool {
        todo!(
            "stage 6: the host or the tag's value (None when missing), equal to the value or not as `equal` says"
        )
    }
}

impl fmt::Display for Selector {
    /// `name=value`, the value quoted when it holds a character a bare value cannot.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!(
            "stage 6: name, = or !=, then the value bare when is_bare_value_char allows it all, else in quotes with \" and \\ escaped"
        )
    }
}

/// What is computed from a series' newest values: Open-Falcon's functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `all(#N)`: every one of the newest N values meets the condition.
    All(usize),
    /// `avg(#N)`: the mean of the newest N values.
    Avg(usize),
    /// `max(#N)`: the largest of the newest N values.
    Max(usize),
    /// `min(#N)`: the smallest of the newest N values.
    Min(usize),
    /// `diff(#N)`: the newest value minus each of the N before it; met when any difference meets
    /// the condition.
    Diff(usize),
    /// `pdiff(#N)`: as `diff`, as a percentage of the older value (older values of 0 skipped).
    Pdiff(usize),
}

impl Function {
    /// The function's name, as written: `all`, `avg`, ...
    pub fn name(self) -> &'static str {
        todo!("stage 6: all, avg, max, min, diff or pdiff")
    }

    /// Its N.
    pub fn count(self) -> usize {
        todo!("stage 6: the N every variant carries")
    }

    /// How many of the newest values it reads: N, or N + 1 for `diff` and `pdiff`.
    pub fn values_needed(self) -> usize {
        todo!("stage 6: N, one more for diff and pdiff")
    }
}

impl fmt::Display for Function {
    /// `all(#3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 6: name(#count)")
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `==`, within [`EQUAL_WITHIN`].
    Equal,
    /// `!=`, by more than [`EQUAL_WITHIN`].
    NotEqual,
}

/// How close two values must be for `==` (and not to be for `!=`): Open-Falcon's tolerance, so a
/// value computed in floating point still equals the threshold it was meant to.
pub const EQUAL_WITHIN: f64 = 0.0001;

impl Op {
    /// Whether `value op threshold` holds. A NaN never does, for any operator.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        todo!("stage 6: false for a NaN; == and != compare the difference with EQUAL_WITHIN")
    }

    /// The operator, as written.
    pub fn as_str(self) -> &'static str {
        todo!("stage 6: >, >=, <, <=, == or !=")
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 6: as_str")
    }
}
