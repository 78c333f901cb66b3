//! Who leads, and the fence that keeps a deposed leader from writing.
//!
//! Two platform servers share these records; a lease (etcd's, or a lock file's on one machine)
//! says which of them leads, and gives each new leadership a fencing token greater than every
//! earlier one. A lease alone is not enough: a leader can be paused (a long garbage collection, a
//! stopped VM, a slow disk) past its lease, wake up, and write as if it still led, over what its
//! successor wrote. So the token goes to the records too. [`Records::lead`] raises the fence
//! (the one `leadership` row) to the new leader's token, never lowering it; every write of a
//! leader's records (`Records::write`) first reads the fence in the same transaction, under a
//! lock, and is refused with [`RecordError::Fenced`] when it holds another token. The lock orders
//! the two: a write that read the old token commits before the fence is raised, and every write
//! after it sees the new one.

use sqlx::Row;

use super::{Millis, RecordError, Records, Result, check, dialect};

/// The leadership the records know of: its token, the server that holds it and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// The fencing token: every new leadership's is greater.
    pub token: i64,
    /// The server that leads, as it names itself.
    pub holder: String,
    /// When it took over.
    pub since: Millis,
}

impl Records {
    /// Raises the fence to `token` for `holder`, who leads from `now`, and returns these records
    /// writing for that leadership: every write they make checks the fence first.
    ///
    /// Leading again with the token the fence holds is allowed (a leader whose records were
    /// opened again); any lower token is refused.
    ///
    /// # Errors
    ///
    /// [`RecordError::Fenced`] when the fence holds a higher token (a newer leader has taken
    /// over), [`RecordError::Invalid`] for a token below 1 or an empty holder,
    /// [`RecordError::Database`].
    pub async fn lead(&self, token: i64, holder: &str, now: Millis) -> Result<Records> {
        if token < 1 {
            return Err(check::invalid("leadership.token", "is not 1 or more"));
        }
        check::name("leadership.holder", holder)?;
        let mut tx = self.pool().begin_with(dialect::begin_write(self.backend())).await?;
        let select =
            format!("SELECT token FROM leadership WHERE id = 1{}", dialect::lock_for_update(self.backend()));
        let current: Option<i64> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(select)).fetch_optional(&mut *tx).await?;
        match current {
            Some(current) if current > token => return Err(RecordError::Fenced { token, current }),
            Some(_) => {
                sqlx::query("UPDATE leadership SET token = ?, holder = ?, since = ? WHERE id = 1")
                    .bind(token)
                    .bind(holder)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("INSERT INTO leadership (id, token, holder, since) VALUES (1, ?, ?, ?)")
                    .bind(token)
                    .bind(holder)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Records { fence: Some(token), ..self.clone() })
    }

    /// The newest leadership recorded, if any server has led.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`].
    pub async fn leader(&self) -> Result<Option<Leader>> {
        let row = sqlx::query("SELECT token, holder, since FROM leadership WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(Leader {
                token: row.try_get("token")?,
                holder: row.try_get("holder")?,
                since: row.try_get("since")?,
            })
        })
        .transpose()
    }

    /// The token these records write for, when they are a leader's.
    pub fn fence(&self) -> Option<i64> {
        self.fence
    }

    /// Refuses `tx` (a writing transaction just begun) unless the fence still holds this leader's
    /// token; records that are no leader's ([`Records::open`]'s) write freely.
    pub(crate) async fn check_fence(&self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
        let Some(token) = self.fence else { return Ok(()) };
        let select =
            format!("SELECT token FROM leadership WHERE id = 1{}", dialect::lock_for_share(self.backend()));
        let current: Option<i64> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(select)).fetch_optional(&mut **tx).await?;
        match current {
            Some(current) if current == token => Ok(()),
            // The row is gone only if someone deleted it by hand: no leadership can be vouched for.
            current => Err(RecordError::Fenced { token, current: current.unwrap_or(0) }),
        }
    }
}
