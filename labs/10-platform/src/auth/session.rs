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
        todo!("stage 2: equal lengths, and the bytes compared with subtle's ct_eq")
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
        todo!("stage 2: see the doc comment")
    }

    /// Begins a session for `user` at `now`: returns the token for their cookie (shown to no one
    /// else, kept nowhere but as its hash) and the session.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when it cannot be recorded (the user does not exist).
    pub async fn begin(&self, user: &str, now: Millis) -> Result<(String, Session), RecordError> {
        todo!(
            "stage 2: a random token and a random CSRF token; record the session by the token's hash with expires now plus the lifetime; cache it with the time"
        )
    }

    /// The session `token` names, if it exists and has not expired at `now`.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be read.
    pub async fn find(&self, token: &str, now: Millis) -> Result<Option<Session>, RecordError> {
        todo!(
            "stage 2: a token of the wrong length is none; a session cached less than CACHED_FOR ago, if not expired; else the records by the token's hash, cached with the time"
        )
    }

    /// Ends the session `token` names, if any.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be written.
    pub async fn end(&self, token: &str) -> Result<(), RecordError> {
        todo!("stage 2: forget it in the cache and in the records, by the token's hash")
    }

    /// Ends every session of `user`: their password or role changed, or they were disabled.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be written.
    pub async fn end_all_of(&self, user: &str) -> Result<(), RecordError> {
        todo!("stage 2: forget the user's sessions in the cache and in the records")
    }
}

/// 32 random bytes in lower-case hex: a token no one guesses.
pub fn random_token() -> String {
    todo!("stage 2: 32 bytes from rand::fill, in hex")
}

/// The SHA-256 of `token`, in lower-case hex: what the records keep of a session's token.
pub fn token_hash(token: &str) -> String {
    todo!("stage 2: Sha256 of the token, in hex")
}
