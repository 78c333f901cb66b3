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
    let reason = if value.is_empty() {
        "is empty"
    } else if value.chars().count() > MAX_NAME {
        "is longer than 255 characters"
    } else if value.chars().any(char::is_control) {
        "holds a control character"
    } else if value.trim() != value {
        "starts or ends with a space"
    } else {
        return Ok(());
    };
    Err(invalid(field, reason))
}

/// Checks a long text: at most [`MAX_TEXT`] bytes and no NUL (which MariaDB's text keeps and C
/// tools reading the database cut at).
///
/// # Errors
///
/// [`RecordError::Invalid`] naming `field`.
pub fn text(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_TEXT {
        Err(invalid(field, "is longer than 65535 bytes"))
    } else if value.contains('\0') {
        Err(invalid(field, "holds a NUL character"))
    } else {
        Ok(())
    }
}

/// `output` cut to at most [`MAX_OUTPUT`] bytes at a character boundary, NULs dropped.
pub fn output(output: &str) -> String {
    let mut end = output.len().min(MAX_OUTPUT);
    while !output.is_char_boundary(end) {
        end -= 1;
    }
    output[..end].replace('\0', "")
}

/// A [`RecordError::Invalid`].
pub fn invalid(field: &str, reason: impl Into<String>) -> RecordError {
    RecordError::Invalid { field: field.to_string(), reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(name("host.name", "web-01.example").is_ok());
        assert!(name("host.name", &"é".repeat(255)).is_ok());
        for bad in ["", " web", "web ", "we\nb", &"x".repeat(256)] {
            assert!(
                matches!(name("host.name", bad), Err(RecordError::Invalid { field, .. }) if field == "host.name"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn output_is_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_OUTPUT);
        let cut = output(&long);
        assert!(cut.len() <= MAX_OUTPUT && cut.len() >= MAX_OUTPUT - 1);
        assert_eq!(output("a\0b"), "ab");
    }
}
