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
    todo!(
        "stage 2: refuse a password over MAX_PASSWORD bytes, then Argon2::default().hash_password, as a PHC string"
    )
}

/// Whether `password` is the one `hash` was made from. A hash that does not parse matches
/// nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    todo!(
        "stage 2: false for an overlong password or a hash that does not parse as a PasswordHash, else Argon2's verify_password"
    )
}

/// Spends the time of one [`verify_password`] and matches nothing: for a login whose user does
/// not exist, so that how long a refusal takes does not tell which user names do.
pub fn verify_nobody(password: &str) {
    todo!(
        "stage 2: verify the password against a hash made once, of a password no user has, and ignore the answer"
    )
}

/// Checks a new password for `user`: at least [`MIN_PASSWORD`] characters, at most
/// [`MAX_PASSWORD`] bytes, and not the user's name.
///
/// # Errors
///
/// What is wrong with it, for a message naming the field.
pub fn check_new_password(user: &str, password: &str) -> Result<(), String> {
    todo!(
        "stage 2: at least MIN_PASSWORD characters, at most MAX_PASSWORD bytes, and not the user's name in any case"
    )
}

/// A new random password of 20 characters from an alphabet with no look-alikes (no `0`/`O`,
/// `1`/`l`/`I`): for an account made by the platform, shown once.
pub fn generate_password() -> String {
    todo!("stage 2: 20 random bytes, each picked into an alphabet with no look-alike characters")
}
