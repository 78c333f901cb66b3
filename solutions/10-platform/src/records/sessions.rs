//! Sessions: who is logged in, added by stage 2's migration. A session is kept by the hash of its
//! token, never the token, so the records alone open nothing.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Millis, RecordError, Records, Result, check, dialect};

/// A session, as the records keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The SHA-256 of the session's token, in lower-case hex.
    pub token_hash: String,
    /// Whose session it is.
    pub user: String,
    /// The token every request of this session that changes anything must carry back.
    pub csrf: String,
    /// When it began.
    pub created: Millis,
    /// When it ends.
    pub expires: Millis,
}

impl Records {
    /// Records a new session.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a hash that is not 64 lower-case hex digits
    /// (`session.token_hash`) or an empty CSRF token (`session.csrf`), [`RecordError::NotFound`]
    /// when the user does not exist, [`RecordError::Conflict`] for a hash recorded already.
    pub async fn add_session(&self, session: &SessionRecord) -> Result<()> {
        if session.token_hash.len() != 64
            || !session.token_hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(check::invalid("session.token_hash", "is not 64 lower-case hex digits"));
        }
        check::name("session.csrf", &session.csrf)?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_name, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&session.token_hash)
        .bind(&session.user)
        .bind(&session.csrf)
        .bind(session.created)
        .bind(session.expires)
        .execute(&mut *tx)
        .await
        .map_err(|err| {
            if dialect::is_missing_reference(&err) {
                RecordError::NotFound { what: "user", key: session.user.clone() }
            } else if dialect::is_conflict(&err) {
                RecordError::Conflict { what: "session", key: session.token_hash.clone() }
            } else {
                RecordError::Database(err)
            }
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// The session whose token hashes to `token_hash`, if it is recorded and has not expired at
    /// `now`.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn session(&self, token_hash: &str, now: Millis) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT token_hash, user_name, csrf, created, expires FROM sessions WHERE token_hash = ? AND expires > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| session_of(&row)).transpose()
    }

    /// Ends the session whose token hashes to `token_hash`; ending one that is not there is not
    /// an error. Returns whether there was one.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() > 0)
    }

    /// Ends every session of `user` (their password changed, or they were disabled); returns how
    /// many there were.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn delete_sessions_of(&self, user: &str) -> Result<u64> {
        let mut tx = self.write().await?;
        let deleted =
            sqlx::query("DELETE FROM sessions WHERE user_name = ?").bind(user).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }

    /// Forgets the sessions that expired at or before `now`; returns how many.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn delete_expired_sessions(&self, now: Millis) -> Result<u64> {
        let mut tx = self.write().await?;
        let deleted =
            sqlx::query("DELETE FROM sessions WHERE expires <= ?").bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }
}

/// A session from its row.
fn session_of(row: &AnyRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        token_hash: row.try_get("token_hash")?,
        user: row.try_get("user_name")?,
        csrf: row.try_get("csrf")?,
        created: row.try_get("created")?,
        expires: row.try_get("expires")?,
    })
}
