//! Sizes on the command line: `4M`, `512K`, `1G`, `65536`.

/// Why a size was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid size {text:?}: expected a positive number with an optional K, M, G or T suffix (powers of 1024), like 4M or 512K"
)]
pub struct SizeError {
    /// The text as given.
    pub text: String,
}

/// Parses a positive size in bytes: digits, then optionally `K`, `M`, `G` or `T` (in either case,
/// powers of 1024), optionally followed by `iB` or `B` (`4M`, `4MiB`, `4mb` and `4194304` are the
/// same size).
///
/// # Errors
///
/// [`SizeError`] for anything else, for zero, and for a size that does not fit in a `u64`.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    // ANCHOR: parse_size
    let error = || SizeError { text: text.to_owned() };
    let digits_end = text.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(error());
    }
    let number: u64 = digits.parse().map_err(|_| error())?;
    let suffix = suffix.to_ascii_lowercase();
    let (unit, rest) = match suffix.chars().next() {
        Some('k') => (1 << 10, &suffix[1..]),
        Some('m') => (1 << 20, &suffix[1..]),
        Some('g') => (1 << 30, &suffix[1..]),
        Some('t') => (1 << 40, &suffix[1..]),
        _ => (1, suffix.as_str()),
    };
    let rest_ok = match rest {
        "" | "b" => true,
        "ib" => unit > 1,
        _ => false,
    };
    if !rest_ok {
        return Err(error());
    }
    match number.checked_mul(unit) {
        Some(0) | None => Err(error()),
        Some(size) => Ok(size),
    }
    // ANCHOR_END: parse_size
}
