//! Passwords: hashed with argon2id (memory-hard, so a stolen table of hashes costs an attacker
//! memory as well as time for every guess), kept as PHC strings that name their own parameters,
//! and checked in the same time whether the user exists or not.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The fewest characters a new password may have.
pub const MIN_PASSWORD: usize = 10;

/// The most bytes a password may have: hashing is deliberately slow, and a megabyte password
/// would make it slower still.
pub const MAX_PASSWORD: usize = 1024;

/// Hashes `password` with argon2id, its default parameters and a fresh random salt, into a PHC
/// string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
///
/// # Errors
///
/// A message when the password is longer than [`MAX_PASSWORD`] or the system's randomness fails.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.len() > MAX_PASSWORD {
        return Err(format!("is longer than {MAX_PASSWORD} bytes"));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| err.to_string())
}

/// Whether `password` is the one `hash` was made from. A hash that does not parse matches
/// nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Spends the time of one [`verify_password`] and matches nothing: for a login whose user does
/// not exist, so that how long a refusal takes does not tell which user names do.
pub fn verify_nobody(password: &str) {
    static NOBODY: OnceLock<String> = OnceLock::new();
    let hash = NOBODY.get_or_init(|| hash_password("no user has this password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// Checks a new password for `user`: at least [`MIN_PASSWORD`] characters, at most
/// [`MAX_PASSWORD`] bytes, and not the user's name.
///
/// # Errors
///
/// What is wrong with it, for a message naming the field.
pub fn check_new_password(user: &str, password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        Err(format!("is shorter than {MIN_PASSWORD} characters"))
    } else if password.len() > MAX_PASSWORD {
        Err(format!("is longer than {MAX_PASSWORD} bytes"))
    } else if password.eq_ignore_ascii_case(user) {
        Err("is the user's name".into())
    } else {
        Ok(())
    }
}

/// A new random password of 20 characters from an alphabet with no look-alikes (no `0`/`O`,
/// `1`/`l`/`I`): for an account made by the platform, shown once.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    // 256 is not a multiple of 55: taking each byte modulo it favours the first 36 letters a
    // little, which costs under 0.2 bits of the 115 a password has.
    bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
}
