//! Key pairs: an [`Identity`] signs (commands, for an operator) and proves itself in the session
//! handshake (agents and the master); its [`PublicKey`] is what others pin or enroll.
//!
//! The Noise handshake speaks X25519, not ed25519. Rather than a second key pair to keep and
//! enroll, the session uses the X25519 form of the same key, which ed25519-dalek computes
//! ([`SigningKey::to_scalar_bytes`], [`VerifyingKey::to_montgomery`]): the conversion age and
//! libsodium also make. No arithmetic on keys is written here.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::error::Error;

/// A key pair: an agent's, the master's or an operator's.
#[derive(Clone)]
pub struct Identity {
    signing: SigningKey,
}

impl Identity {
    /// A new key pair from the operating system's random source.
    pub fn generate() -> Identity {
        Identity { signing: SigningKey::generate(&mut rand::rng()) }
    }

    /// The key pair whose 32-byte secret is `seed`: for tests and simulated agents, never for a
    /// real one.
    pub fn from_seed(seed: [u8; 32]) -> Identity {
        Identity { signing: SigningKey::from_bytes(&seed) }
    }

    /// Reads the key file at `path`: the secret in 64 hex digits on one line.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be read, [`Error::BadKey`] when it is not a key.
    pub fn load(path: &Path) -> Result<Identity, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::file(path))?;
        let seed = parse_hex32(text.trim())
            .map_err(|reason| Error::BadKey { what: path.display().to_string(), reason })?;
        Ok(Identity::from_seed(seed))
    }

    /// Writes the key file at `path`, readable by its owner only; an existing file is never
    /// overwritten.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it exists or cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(Error::file(path))?;
        writeln!(file, "{}", hex::encode(self.signing.to_bytes())).map_err(Error::file(path))?;
        file.sync_all().map_err(Error::file(path))
    }

    /// The key at `path`, made and saved there first when there is none: an agent's first start.
    ///
    /// # Errors
    ///
    /// As [`Identity::load`] and [`Identity::save`].
    pub fn load_or_generate(path: &Path) -> Result<Identity, Error> {
        match path.try_exists().map_err(Error::file(path))? {
            true => Identity::load(path),
            false => {
                let identity = Identity::generate();
                identity.save(path)?;
                Ok(identity)
            }
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The X25519 secret of the same key, for the Noise handshake.
    pub(crate) fn noise_secret(&self) -> [u8; 32] {
        self.signing.to_scalar_bytes()
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
        VerifyingKey::from_bytes(bytes).map(PublicKey).map_err(|_| "not an ed25519 public key".to_owned())
    }

    /// Its 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Whether `signature` is this key's signature of `message` (the strict check: no
    /// malleable or weak-key signatures).
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = Signature::from_bytes(signature);
        self.0.verify_strict(message, &signature).is_ok()
    }

    /// A short form for people to compare: the first 16 hex digits.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.to_bytes()[..8])
    }

    /// The X25519 public key of the same key, what the Noise handshake sees.
    pub(crate) fn noise_public(&self) -> [u8; 32] {
        self.0.to_montgomery().to_bytes()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_bytes()))
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
        PublicKey::from_bytes(&parse_hex32(text.trim())?)
    }
}

/// 32 bytes from 64 hex digits.
fn parse_hex32(text: &str) -> Result<[u8; 32], String> {
    let mut bytes = [0; 32];
    hex::decode_to_slice(text, &mut bytes)
        .map_err(|err| format!("expected 64 hex digits, found {} characters ({err})", text.len()))?;
    Ok(bytes)
}
