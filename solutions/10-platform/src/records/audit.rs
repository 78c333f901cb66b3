//! The audit log: who did what, when, and whether it was allowed. Rows are only ever inserted, and
//! every refusal is one, so the log answers "who tried to run what" as well as "who ran what".

use sqlx::{Any, QueryBuilder, Row};

use super::{Millis, Records, Result, check};

/// An entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// When.
    pub at: Millis,
    /// Who (a user's name, or `-` for someone not logged in).
    pub user: String,
    /// What they did or tried, as `run`, `login`, `rule.put`.
    pub action: String,
    /// On what: a target, a user's name, a rule's id.
    pub target: String,
    /// `allowed`, `refused` or `failed`.
    pub outcome: String,
    /// Anything else worth keeping (the command, the reason for a refusal).
    pub detail: String,
}

/// An entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id, increasing in the order the entries were appended.
    pub id: i64,
    /// The entry.
    pub entry: NewAudit,
}

/// Which entries to read: all that match every field given, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this user's.
    pub user: Option<String>,
    /// Only this action's.
    pub action: Option<String>,
    /// Only those at or after this time.
    pub since: Option<Millis>,
    /// At most this many (100 when 0).
    pub limit: u32,
}

impl Records {
    /// Appends `entry` to the log and returns its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`](super::RecordError::Invalid) for a bad user (`audit.user`), action
    /// (`audit.action`) or outcome (`audit.outcome`), or an overlong target or detail.
    pub async fn audit(&self, entry: &NewAudit) -> Result<i64> {
        check::name("audit.user", &entry.user)?;
        check::name("audit.action", &entry.action)?;
        check::name("audit.outcome", &entry.outcome)?;
        check::text("audit.target", &entry.target)?;
        check::text("audit.detail", &entry.detail)?;
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO audit (at, user_name, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(entry.at)
        .bind(&entry.user)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.outcome)
        .bind(&entry.detail)
        .execute(&mut *tx)
        .await?;
        let id = match inserted.last_insert_id() {
            Some(id) => id,
            None => sqlx::query_scalar("SELECT MAX(id) FROM audit").fetch_one(&mut *tx).await?,
        };
        tx.commit().await?;
        Ok(id)
    }

    /// The entries `query` asks for, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`](super::RecordError::Database) when the database fails.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        // The statement grows with the filters given, but every value is still a bound parameter:
        // only fixed text is pushed.
        let mut select = QueryBuilder::<Any>::new(
            "SELECT id, at, user_name, action, target, outcome, detail FROM audit WHERE 1 = 1",
        );
        if let Some(user) = &query.user {
            select.push(" AND user_name = ").push_bind(user.as_str());
        }
        if let Some(action) = &query.action {
            select.push(" AND action = ").push_bind(action.as_str());
        }
        if let Some(since) = query.since {
            select.push(" AND at >= ").push_bind(since);
        }
        let limit = if query.limit == 0 { 100 } else { query.limit };
        select.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
        let rows = select.build().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    entry: NewAudit {
                        at: row.try_get("at")?,
                        user: row.try_get("user_name")?,
                        action: row.try_get("action")?,
                        target: row.try_get("target")?,
                        outcome: row.try_get("outcome")?,
                        detail: row.try_get("detail")?,
                    },
                })
            })
            .collect()
    }
}
