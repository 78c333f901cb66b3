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
        todo!("stage 1: check the fields, insert the entry, return its id")
    }

    /// The entries `query` asks for, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`](super::RecordError::Database) when the database fails.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        todo!(
            "stage 1: a QueryBuilder that adds a condition a filter given, each value with push_bind, newest first, at most limit or 100"
        )
    }
}
