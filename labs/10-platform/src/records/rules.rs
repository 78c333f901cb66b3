//! Alert rules, as lab 08's judges take them (`cpu.busy all(#3) > 90`): the records keep them so
//! the platform can push them to the judges after a restart. Parsing them is the judge's work.

use sqlx::Row;

use super::{RecordError, Records, Result, check};

/// An alert rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// Its id, the rule's own (lab 08's rules are numbered by whoever writes them).
    pub id: i64,
    /// The rule, as lab 08 parses it.
    pub expr: String,
    /// Its priority: 0 is the most urgent.
    pub priority: i64,
    /// A note for whoever is told.
    pub note: String,
}

impl Records {
    /// Records `rule`, replacing any rule with its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for an empty or overlong rule (`rule.expr`) or note (`rule.note`).
    pub async fn put_rule(&self, rule: &RuleRecord) -> Result<()> {
        todo!("stage 1: check the rule, then replace any rule with its id")
    }

    /// Every rule, by id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn rules(&self) -> Result<Vec<RuleRecord>> {
        todo!("stage 1: every rule, by id")
    }

    /// Deletes the rule with id `id`.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is none.
    pub async fn delete_rule(&self, id: i64) -> Result<()> {
        todo!("stage 1: no row deleted is NotFound")
    }
}
