//! Authenticating callers: an [`Envelope`] carries a request signed with HMAC-SHA256 under a
//! shared [`Secret`], with an expiry and a nonce; a [`Verifier`] checks the tag in constant time,
//! refuses what has expired, and remembers each nonce until its expiry so a replay is refused.

use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::Error;

/// Domain separation: a tag for this protocol can never be mistaken for another use of the key.
const CONTEXT: &[u8] = b"rpc-lab signed request v1\0";

/// A shared secret key.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

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
        let mut bytes = std::fs::read(path).map_err(Error::file(path))?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        if bytes.is_empty() {
            return Err(Error::file(path)(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the secret is empty",
            )));
        }
        Ok(Secret(bytes))
    }

    fn mac(&self, method: &str, expires_ms: u64, nonce: u128, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("any key length");
        mac.update(CONTEXT);
        mac.update(&(method.len() as u64).to_be_bytes());
        mac.update(method.as_bytes());
        mac.update(&expires_ms.to_be_bytes());
        mac.update(&nonce.to_be_bytes());
        mac.update(body);
        mac
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
        let expires_ms = unix_ms(expires);
        let nonce = random_nonce();
        let tag = secret.mac(method, expires_ms, nonce, &body).finalize().into_bytes().to_vec();
        Envelope { expires_ms, nonce, body, tag }
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

    // ANCHOR: verify
    /// Accepts `envelope` for `method` at time `now`, or says why not. An accepted nonce is
    /// remembered until its expiry.
    ///
    /// # Errors
    ///
    /// An [`AuthError`].
    pub fn verify(&self, method: &str, envelope: &Envelope, now: SystemTime) -> Result<(), AuthError> {
        let Some(secret) = &self.secret else { return Err(AuthError::NoSecret) };
        if envelope.tag.is_empty() {
            return Err(AuthError::Unsigned);
        }
        let mac = secret.mac(method, envelope.expires_ms, envelope.nonce, &envelope.body);
        mac.verify_slice(&envelope.tag).map_err(|_| AuthError::BadSignature)?;
        let now_ms = unix_ms(now);
        if envelope.expires_ms <= now_ms {
            return Err(AuthError::Expired { ago_ms: now_ms - envelope.expires_ms });
        }
        let max_ms = self.max_ttl.as_millis() as u64;
        if envelope.expires_ms - now_ms > max_ms {
            return Err(AuthError::TooFarAhead { max_ms });
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(&(expires, nonce)) = seen.by_expiry.first() {
            if expires > now_ms {
                break;
            }
            seen.by_expiry.pop_first();
            seen.all.remove(&nonce);
        }
        if seen.all.contains(&envelope.nonce) {
            return Err(AuthError::Replayed { nonce: envelope.nonce });
        }
        if seen.all.len() >= self.capacity {
            return Err(AuthError::CacheFull);
        }
        seen.all.insert(envelope.nonce);
        seen.by_expiry.insert((envelope.expires_ms, envelope.nonce));
        Ok(())
    }
    // ANCHOR_END: verify
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
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
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    now ^ (u128::from(std::process::id()) << 96) ^ u128::from(count)
}
