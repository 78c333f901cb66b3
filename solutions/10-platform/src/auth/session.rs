//! Sessions: a random token in an HttpOnly cookie names one, the records keep its hash, and a
//! second random token, the CSRF token, must come back with every request that changes anything.
//! Looking a session up is the work of every request, so the sessions seen are kept in memory too;
//! the records stay the truth (a restart, or a second platform server, finds them there).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::records::{Millis, RecordError, Records, SessionRecord};

/// The most sessions kept in memory; past it, the cache is emptied and fills again from the
/// records.
const MAX_CACHED: usize = 100_000;

/// How long a session found stays in memory before the records are asked again: a session ended
/// by another server, or by [`Sessions::end_all_of`] there, ends here within this.
const CACHED_FOR: Duration = Duration::from_secs(1);

/// A logged-in user's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose it is.
    pub user: String,
    /// The token that requests changing anything must carry, in the `X-CSRF-Token` header.
    pub csrf: String,
    /// When it ends.
    pub expires: Millis,
}

impl Session {
    /// Whether `token` is this session's CSRF token, compared in constant time.
    pub fn is_csrf(&self, token: &str) -> bool {
        token.len() == self.csrf.len() && bool::from(token.as_bytes().ct_eq(self.csrf.as_bytes()))
    }
}

/// The sessions: begun at login, found by their token, ended at logout or when they expire.
#[derive(Debug)]
pub struct Sessions {
    records: Records,
    lifetime: Millis,
    cache: Mutex<HashMap<String, (Instant, Session)>>,
}

impl Sessions {
    /// Sessions kept in `records`, each lasting `lifetime_ms` milliseconds from login.
    pub fn new(records: Records, lifetime_ms: Millis) -> Sessions {
        Sessions { records, lifetime: lifetime_ms, cache: Mutex::new(HashMap::new()) }
    }

    /// Begins a session for `user` at `now`: returns the token for their cookie (shown to no one
    /// else, kept nowhere but as its hash) and the session.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when it cannot be recorded (the user does not exist).
    pub async fn begin(&self, user: &str, now: Millis) -> Result<(String, Session), RecordError> {
        let token = random_token();
        let session = Session { user: user.to_string(), csrf: random_token(), expires: now + self.lifetime };
        let record = SessionRecord {
            token_hash: token_hash(&token),
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            created: now,
            expires: session.expires,
        };
        self.records.add_session(&record).await?;
        self.cache().insert(record.token_hash, (Instant::now(), session.clone()));
        Ok((token, session))
    }

    /// The session `token` names, if it exists and has not expired at `now`.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be read.
    pub async fn find(&self, token: &str, now: Millis) -> Result<Option<Session>, RecordError> {
        if token.len() != 64 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let cached = self
            .cache()
            .get(&hash)
            .filter(|(at, _)| at.elapsed() < CACHED_FOR)
            .map(|(_, session)| session.clone());
        if let Some(session) = cached {
            return Ok((session.expires > now).then_some(session));
        }
        let Some(record) = self.records.session(&hash, now).await? else { return Ok(None) };
        let session = Session { user: record.user, csrf: record.csrf, expires: record.expires };
        let mut cache = self.cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(hash, (Instant::now(), session.clone()));
        Ok(Some(session))
    }

    /// Ends the session `token` names, if any.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be written.
    pub async fn end(&self, token: &str) -> Result<(), RecordError> {
        let hash = token_hash(token);
        self.cache().remove(&hash);
        self.records.delete_session(&hash).await?;
        Ok(())
    }

    /// Ends every session of `user`: their password or role changed, or they were disabled.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be written.
    pub async fn end_all_of(&self, user: &str) -> Result<(), RecordError> {
        self.cache().retain(|_, (_, session)| session.user != user);
        self.records.delete_sessions_of(user).await?;
        Ok(())
    }

    /// The cache, whatever a panicking holder left in it (it is only ever a copy).
    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Session)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// 32 random bytes in lower-case hex: a token no one guesses.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// The SHA-256 of `token`, in lower-case hex: what the records keep of a session's token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
