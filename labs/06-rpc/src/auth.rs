//! Authenticating callers: an [`Envelope`] carries a request signed with HMAC-SHA256 under a
//! shared [`Secret`], with an expiry and a nonce; a [`Verifier`] checks the tag in constant time,
//! refuses what has expired, and remembers each nonce until its expiry so a replay is refused.

use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Domain separation: a tag for this protocol can never be mistaken for another use of the key.
const CONTEXT: &[u8] = b"rpc-lab signed request v1\0";

/// A shared secret key.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

// TODO(stage 5): the tag is HMAC-SHA256 (hmac, sha2) over CONTEXT, the method's length and the
// method, the expiry, the nonce and the body; verify with verify_slice (constant time).

impl Secret {
    /// A secret of these bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The secret in the file at `path`, without a trailing newline.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be read or is empty.
    pub fn from_file(path: &Path) -> Result<Secret, Error> {
        todo!("stage 5: read the file, drop a trailing newline, refuse an empty secret")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A request body with its signature: the payload of an authenticated method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// When the signature stops being valid, in milliseconds since the Unix epoch.
    pub expires_ms: u64,
    /// A random number used once: the server refuses a second request with it.
    pub nonce: u128,
    /// The request, in postcard.
    pub body: Vec<u8>,
    /// HMAC-SHA256 of the method, expiry, nonce and body; empty when unsigned.
    pub tag: Vec<u8>,
}

impl Envelope {
    /// `body` without a signature (which a verifier refuses).
    pub fn unsigned(body: Vec<u8>) -> Envelope {
        Envelope { expires_ms: 0, nonce: 0, body, tag: Vec::new() }
    }

    /// `body` signed with `secret` for `method`, valid until `expires`, with a fresh random nonce.
    pub fn sign(secret: &Secret, method: &str, body: Vec<u8>, expires: SystemTime) -> Envelope {
        todo!("stage 5: tag the method, expiry, a fresh random nonce and the body with HMAC-SHA256")
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The server has no secret, so it accepts no signed request.
    #[error("this server has no secret: authenticated methods are disabled")]
    NoSecret,
    /// The request carries no signature.
    #[error("the request is not signed")]
    Unsigned,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// The signature has expired.
    #[error("the signature expired {ago_ms} ms ago")]
    Expired {
        /// How long ago.
        ago_ms: u64,
    },
    /// The expiry is further ahead than the server remembers nonces.
    #[error("the expiry is more than {max_ms} ms ahead")]
    TooFarAhead {
        /// The longest accepted lifetime.
        max_ms: u64,
    },
    /// The nonce was seen before.
    #[error("replayed request (nonce {nonce:#x} already used)")]
    Replayed {
        /// The nonce.
        nonce: u128,
    },
    /// The nonce cache is full of unexpired nonces; refusing is safer than forgetting one.
    #[error("too many requests in flight to remember (nonce cache full)")]
    CacheFull,
}

/// Checks envelopes and remembers their nonces until they expire.
#[derive(Debug)]
pub struct Verifier {
    secret: Option<Secret>,
    max_ttl: Duration,
    capacity: usize,
    seen: Mutex<Nonces>,
}

#[derive(Debug, Default)]
struct Nonces {
    by_expiry: BTreeSet<(u64, u128)>,
    all: HashSet<u128>,
}

impl Verifier {
    /// A verifier of signatures by `secret` (none: refuse everything), accepting lifetimes up to
    /// `max_ttl` and remembering at most `capacity` nonces.
    pub fn new(secret: Option<Secret>, max_ttl: Duration, capacity: usize) -> Verifier {
        Verifier { secret, max_ttl, capacity, seen: Mutex::default() }
    }

    /// Accepts `envelope` for `method` at time `now`, or says why not. An accepted nonce is
    /// remembered until its expiry.
    ///
    /// # Errors
    ///
    /// An [`AuthError`].
    pub fn verify(&self, method: &str, envelope: &Envelope, now: SystemTime) -> Result<(), AuthError> {
        todo!("stage 5: check the signature (in constant time), then the expiry, then the nonce")
    }
}

/// 128 random bits from the kernel; a clock-and-counter mix if /dev/urandom is unreadable (still
/// unique, which is all a nonce must be).
fn random_nonce() -> u128 {
    let mut bytes = [0u8; 16];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).is_ok() {
        return u128::from_ne_bytes(bytes);
    }
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    now ^ (u128::from(std::process::id()) << 96) ^ u128::from(count)
}
