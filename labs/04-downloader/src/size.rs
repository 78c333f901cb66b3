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
    todo!("stage 2: digits, then an optional K, M, G or T and an optional iB or B")
}
