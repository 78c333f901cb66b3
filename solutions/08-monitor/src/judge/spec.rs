//! Rules as a user writes them: a rules file in TOML for `monitor judge --rules`, and the same
//! fields as JSON in the HTTP API. [`RuleSpec`] is that form; [`RuleSpec::to_rule`] checks it and
//! every error names the field at fault.
//!
//! ```toml
//! [[rule]]
//! id = 1
//! expr = "cpu.busy{cpu=total} all(#3) > 90"
//! priority = 1        # 0 the most urgent to 5; 2 when left out
//! max_alerts = 3      # notifications a problem, the first included; 0 notifies no one
//! min_interval = 300  # seconds between two of them
//! note = "CPU saturated for three steps"
//! ```

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::rule::{Expr, Rule, RuleId};
use crate::error::Error;

/// The least urgent priority.
pub const LOWEST_PRIORITY: u8 = 5;

/// A rule's fields as written; those left out take [`Rule::new`]'s defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The rule's number.
    pub id: RuleId,
    /// Its expression, as [`Expr::parse`] reads it.
    pub expr: String,
    /// 0 (the most urgent) to [`LOWEST_PRIORITY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// The most notifications a problem gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_alerts: Option<u32>,
    /// The least seconds between two notifications of a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval: Option<u64>,
    /// A note for whoever receives the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A field of a rule that is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as written: `expr`, `priority`...
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

impl RuleSpec {
    /// The rule this spec describes.
    ///
    /// # Errors
    ///
    /// A [`FieldError`] naming `expr` (with the parser's column) or `priority` (more than
    /// [`LOWEST_PRIORITY`]).
    pub fn to_rule(&self) -> Result<Rule, FieldError> {
        let expr =
            Expr::parse(&self.expr).map_err(|err| FieldError { field: "expr", message: err.to_string() })?;
        let mut rule = Rule::new(self.id, expr);
        if let Some(priority) = self.priority {
            if priority > LOWEST_PRIORITY {
                return Err(FieldError {
                    field: "priority",
                    message: format!("{priority} is not a priority from 0 to {LOWEST_PRIORITY}"),
                });
            }
            rule.priority = priority;
        }
        if let Some(max_alerts) = self.max_alerts {
            rule.max_alerts = max_alerts;
        }
        if let Some(seconds) = self.min_interval {
            rule.min_interval = Duration::from_secs(seconds);
        }
        if let Some(note) = &self.note {
            rule.note.clone_from(note);
        }
        Ok(rule)
    }

    /// The spec of `rule`, every field written out.
    pub fn of(rule: &Rule) -> RuleSpec {
        RuleSpec {
            id: rule.id,
            expr: rule.expr.to_string(),
            priority: Some(rule.priority),
            max_alerts: Some(rule.max_alerts),
            min_interval: Some(rule.min_interval.as_secs()),
            note: Some(rule.note.clone()),
        }
    }
}

/// A rules file: `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    /// The rules, in the file's order.
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// Reads the rules in `text`, a rules file's TOML.
///
/// # Errors
///
/// A message naming the line for TOML that does not read (or a field that is not a rule's), and
/// the rule's number and field for a rule that is not valid or a number used twice.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let file: RulesFile = toml::from_str(text).map_err(|err| err.to_string().trim_end().to_owned())?;
    let mut seen = HashSet::new();
    let mut rules = Vec::with_capacity(file.rule.len());
    for spec in &file.rule {
        if !seen.insert(spec.id) {
            return Err(format!("rule {}: the id is used twice", spec.id));
        }
        rules.push(spec.to_rule().map_err(|err| format!("rule {}: {err}", spec.id))?);
    }
    Ok(rules)
}

/// Reads the rules file at `path`.
///
/// # Errors
///
/// [`Error::File`] when it cannot be read, [`Error::BadOption`] naming the file and the fault
/// when it is not a valid rules file.
pub fn load_rules(path: &Path) -> Result<Vec<Rule>, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::file(path))?;
    parse_rules(&text).map_err(|err| Error::BadOption(format!("{}: {err}", path.display())))
}
