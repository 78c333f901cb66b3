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
        todo!(
            "stage 2: check the hash and the CSRF token, insert; a foreign key violation is NotFound for the user, a unique one Conflict"
        )
    }

    /// The session whose token hashes to `token_hash`, if it is recorded and has not expired at
    /// `now`.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn session(&self, token_hash: &str, now: Millis) -> Result<Option<SessionRecord>> {
        todo!("stage 2: the row with this hash whose expires is after now")
    }

    /// Ends the session whose token hashes to `token_hash`; ending one that is not there is not
    /// an error. Returns whether there was one.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        todo!("stage 2: delete by hash; whether a row went")
    }

    /// Ends every session of `user` (their password changed, or they were disabled); returns how
    /// many there were.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn delete_sessions_of(&self, user: &str) -> Result<u64> {
        todo!("stage 2: delete every session of the user; how many went")
    }

    /// Forgets the sessions that expired at or before `now`; returns how many.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn delete_expired_sessions(&self, now: Millis) -> Result<u64> {
        todo!("stage 2: delete those whose expires is at or before now")
    }
}
