//! Key pairs: an [`Identity`] signs (commands, for an operator) and proves itself in the session
//! handshake (agents and the master); its [`PublicKey`] is what others pin or enroll.
//!
//! The Noise handshake speaks X25519, not ed25519. Rather than a second key pair to keep and
//! enroll, the session uses the X25519 form of the same key, which ed25519-dalek computes
//! ([`SigningKey::to_scalar_bytes`], [`VerifyingKey::to_montgomery`]): the conversion age and
//! libsodium also make. No arithmetic on keys is written here.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::Error;

/// A key pair: an agent's, the master's or an operator's.
#[derive(Clone)]
pub struct Identity {
    signing: SigningKey,
}

impl Identity {
    /// A new key pair from the operating system's random source.
    pub fn generate() -> Identity {
        todo!("stage 2: a SigningKey from rand's generator")
    }

    /// The key pair whose 32-byte secret is `seed`: for tests and simulated agents, never for a
    /// real one.
    pub fn from_seed(seed: [u8; 32]) -> Identity {
        todo!("stage 2: the SigningKey of these bytes")
    }

    /// Reads the key file at `path`: the secret in 64 hex digits on one line.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be read, [`Error::BadKey`] when it is not a key.
    pub fn load(path: &Path) -> Result<Identity, Error> {
        todo!(
            "stage 2: read the file, parse_hex32 its trimmed text, from_seed; File or BadKey naming the path"
        )
    }

    /// Writes the key file at `path`, readable by its owner only; an existing file is never
    /// overwritten.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it exists or cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        todo!("stage 2: create_new with mode 0o600, the secret in hex on one line, then sync_all")
    }

    /// The key at `path`, made and saved there first when there is none: an agent's first start.
    ///
    /// # Errors
    ///
    /// As [`Identity::load`] and [`Identity::save`].
    pub fn load_or_generate(path: &Path) -> Result<Identity, Error> {
        todo!("stage 2: load when the file exists, else generate and save")
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        todo!("stage 2: the verifying key")
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        todo!("stage 2: the signature's 64 bytes")
    }

    /// The X25519 secret of the same key, for the Noise handshake.
    pub(crate) fn noise_secret(&self) -> [u8; 32] {
        todo!("stage 2: the signing key's scalar bytes")
    }
}

impl fmt::Debug for Identity {
    // Never the secret, not even in a debug print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("public", &self.public()).finish()
    }
}

/// A public key: 32 bytes, written as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The key of these 32 bytes.
    ///
    /// # Errors
    ///
    /// When they are not a point of the curve.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, String> {
        todo!("stage 2: a VerifyingKey, or a message when the bytes are not one")
    }

    /// Its 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        todo!("stage 2: the verifying key's bytes")
    }

    /// Whether `signature` is this key's signature of `message` (the strict check: no
    /// malleable or weak-key signatures).
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        todo!("stage 2: verify_strict")
    }

    /// A short form for people to compare: the first 16 hex digits.
    pub fn fingerprint(&self) -> String {
        todo!("stage 2: the hex of the first 8 bytes")
    }

    /// The X25519 public key of the same key, what the Noise handshake sees.
    pub(crate) fn noise_public(&self) -> [u8; 32] {
        todo!("stage 2: the Montgomery form of the key")
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 2: the 64 hex digits")
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl FromStr for PublicKey {
    type Err = String;

    /// Parses 64 hex digits.
    fn from_str(text: &str) -> Result<PublicKey, String> {
        todo!("stage 2: parse_hex32 of the trimmed text, then from_bytes")
    }
}

/// 32 bytes from 64 hex digits.
fn parse_hex32(text: &str) -> Result<[u8; 32], String> {
    todo!("stage 2: exactly 64 hex digits, else a message saying how many characters came")
}
