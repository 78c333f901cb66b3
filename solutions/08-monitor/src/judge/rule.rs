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
        Rule {
            id,
            expr,
            priority: 2,
            max_alerts: 3,
            min_interval: Duration::from_secs(300),
            note: String::new(),
        }
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
        parse_expr(text)
    }

    /// Whether the series `key` is one this expression watches.
    pub fn matches(&self, key: &SeriesKey) -> bool {
        key.metric == self.metric
            && self.selectors.iter().all(|selector| selector.matches(&key.host, &key.tags))
    }

    /// Whether a series of this expression's metric, of `host` with `tags`, is one it watches.
    pub fn selects(&self, host: &str, tags: &Tags) -> bool {
        self.selectors.iter().all(|selector| selector.matches(host, tags))
    }
}

impl FromStr for Expr {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Expr, ParseError> {
        Expr::parse(text)
    }
}

impl fmt::Display for Expr {
    /// The expression as [`Expr::parse`] reads it: `cpu.busy{host=web1} all(#3) > 90`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if !self.selectors.is_empty() {
            f.write_str("{")?;
            for (i, selector) in self.selectors.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{selector}")?;
            }
            f.write_str("}")?;
        }
        write!(f, " {} {} {}", self.function, self.op, self.threshold)
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
        let actual = if self.name == "host" { Some(host) } else { tags.get(&self.name).map(String::as_str) };
        (actual == Some(self.value.as_str())) == self.equal
    }
}

impl fmt::Display for Selector {
    /// `name=value`, the value quoted when it holds a character a bare value cannot.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_str(if self.equal { "=" } else { "!=" })?;
        if !self.value.is_empty() && self.value.chars().all(super::parse::is_bare_value_char) {
            return f.write_str(&self.value);
        }
        f.write_str("\"")?;
        for c in self.value.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
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
        match self {
            Function::All(_) => "all",
            Function::Avg(_) => "avg",
            Function::Max(_) => "max",
            Function::Min(_) => "min",
            Function::Diff(_) => "diff",
            Function::Pdiff(_) => "pdiff",
        }
    }

    /// Its N.
    pub fn count(self) -> usize {
        match self {
            Function::All(n)
            | Function::Avg(n)
            | Function::Max(n)
            | Function::Min(n)
            | Function::Diff(n)
            | Function::Pdiff(n) => n,
        }
    }

    /// How many of the newest values it reads: N, or N + 1 for `diff` and `pdiff`.
    pub fn values_needed(self) -> usize {
        match self {
            Function::Diff(n) | Function::Pdiff(n) => n + 1,
            other => other.count(),
        }
    }
}

impl fmt::Display for Function {
    /// `all(#3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(#{})", self.name(), self.count())
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
        if value.is_nan() {
            return false;
        }
        match self {
            Op::Greater => value > threshold,
            Op::GreaterOrEqual => value >= threshold,
            Op::Less => value < threshold,
            Op::LessOrEqual => value <= threshold,
            Op::Equal => (value - threshold).abs() < EQUAL_WITHIN,
            Op::NotEqual => (value - threshold).abs() > EQUAL_WITHIN,
        }
    }

    /// The operator, as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Greater => ">",
            Op::GreaterOrEqual => ">=",
            Op::Less => "<",
            Op::LessOrEqual => "<=",
            Op::Equal => "==",
            Op::NotEqual => "!=",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
