//! The checks every value passes before it reaches SQL, so both backends take and refuse the same
//! things: MariaDB would cut a long value short or fold the case of a key where SQLite would keep
//! it, and neither says which field was wrong.

use super::{RecordError, Result};

/// The most characters in a name (a host, a tag, a user, a role, a script): what an indexed
/// `VARCHAR(255)` holds.
pub const MAX_NAME: usize = 255;

/// The most bytes of text in a long field (a rule, a target, a manifest, an audit detail).
pub const MAX_TEXT: usize = 65_535;

/// The most bytes of a host's output that a run keeps; the rest is cut at a character boundary.
pub const MAX_OUTPUT: usize = 65_536;

/// The most bytes in a script's body: MariaDB's `MEDIUMBLOB` holds 16 MiB, and no monitoring
/// script needs one.
pub const MAX_BODY: usize = 4 << 20;

/// Checks a name: not empty, at most [`MAX_NAME`] characters, no control characters, and no
/// space at either end (two names that look the same are the same name).
///
/// # Errors
///
/// [`RecordError::Invalid`] naming `field`.
pub fn name(field: &str, value: &str) -> Result<()> {
    todo!(
        "stage 1: empty, over MAX_NAME characters, a control character, or a space at either end is invalid"
    )
}

/// Checks a long text: at most [`MAX_TEXT`] bytes and no NUL (which MariaDB's text keeps and C
/// tools reading the database cut at).
///
/// # Errors
///
/// [`RecordError::Invalid`] naming `field`.
pub fn text(field: &str, value: &str) -> Result<()> {
    todo!("stage 1: over MAX_TEXT bytes or holding a NUL is invalid")
}

/// `output` cut to at most [`MAX_OUTPUT`] bytes at a character boundary, NULs dropped.
pub fn output(output: &str) -> String {
    todo!("stage 1: at most MAX_OUTPUT bytes, cut back to a character boundary, NULs removed")
}

/// A [`RecordError::Invalid`].
pub fn invalid(field: &str, reason: impl Into<String>) -> RecordError {
    RecordError::Invalid { field: field.to_string(), reason: reason.into() }
}
