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
        if rule.expr.trim().is_empty() {
            return Err(check::invalid("rule.expr", "is empty"));
        }
        check::text("rule.expr", &rule.expr)?;
        check::text("rule.note", &rule.note)?;
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM rules WHERE id = ?").bind(rule.id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO rules (id, expr, priority, note) VALUES (?, ?, ?, ?)")
            .bind(rule.id)
            .bind(&rule.expr)
            .bind(rule.priority)
            .bind(&rule.note)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every rule, by id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn rules(&self) -> Result<Vec<RuleRecord>> {
        let rows = sqlx::query("SELECT id, expr, priority, note FROM rules ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RuleRecord {
                    id: row.try_get("id")?,
                    expr: row.try_get("expr")?,
                    priority: row.try_get("priority")?,
                    note: row.try_get("note")?,
                })
            })
            .collect()
    }

    /// Deletes the rule with id `id`.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when there is none.
    pub async fn delete_rule(&self, id: i64) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM rules WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        if deleted.rows_affected() == 0 {
            return Err(RecordError::NotFound { what: "rule", key: id.to_string() });
        }
        Ok(())
    }
}
