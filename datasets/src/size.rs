//! [`ByteSize`]: the sizes the `gen` binary accepts, like `100M` or `1G`.

use std::fmt;
use std::str::FromStr;

/// A size in bytes, written as digits with an optional binary suffix: `K` (1024), `M` (1024²) or
/// `G` (1024³), in either case, optionally followed by `B` or `iB` (`512`, `64k`, `100M`, `1GiB`).
///
/// # Examples
///
/// ```
/// use datasets::size::ByteSize;
///
/// let size: ByteSize = "100M".parse().unwrap();
/// assert_eq!(size.bytes(), 100 * 1024 * 1024);
/// assert_eq!(size.to_string(), "100M");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(u64);

/// Why a size could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SizeError {
    /// The text does not start with digits or has an unknown suffix.
    #[error("invalid size {0:?}: expected digits with an optional K, M or G suffix, like 100M")]
    Invalid(String),
    /// The size does not fit in 64 bits.
    #[error("size {0:?} is too large")]
    TooLarge(String),
}

const UNITS: [(char, u64); 3] = [('G', 1 << 30), ('M', 1 << 20), ('K', 1 << 10)];

impl ByteSize {
    /// A size of `bytes` bytes.
    pub const fn new(bytes: u64) -> Self {
        Self(bytes)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(text: &str) -> Result<Self, SizeError> {
        let invalid = || SizeError::Invalid(text.to_owned());
        let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, suffix) = text.split_at(digits_end);
        if digits.is_empty() {
            return Err(invalid());
        }
        let suffix = suffix.to_ascii_uppercase();
        let unit = suffix.strip_suffix("IB").or_else(|| suffix.strip_suffix('B')).unwrap_or(&suffix);
        let multiplier = match unit {
            "" => 1,
            _ => UNITS
                .iter()
                .find(|(c, _)| unit.len() == 1 && unit.starts_with(*c))
                .map(|&(_, m)| m)
                .ok_or_else(invalid)?,
        };
        if unit.is_empty() && suffix.ends_with("IB") {
            return Err(invalid());
        }
        let too_large = || SizeError::TooLarge(text.to_owned());
        let n: u64 = digits.parse().map_err(|_| too_large())?;
        n.checked_mul(multiplier).map(Self).ok_or_else(too_large)
    }
}

impl fmt::Display for ByteSize {
    /// The shortest exact form: `1G`, `1536K`, `1000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (suffix, unit) in UNITS {
            if self.0 >= unit && self.0 % unit == 0 {
                return write!(f, "{}{suffix}", self.0 / unit);
            }
        }
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes() {
        let cases = [
            ("512", 512),
            ("64k", 65_536),
            ("100M", 104_857_600),
            ("1G", 1 << 30),
            ("2GiB", 2 << 30),
            ("3kb", 3072),
        ];
        for (text, bytes) in cases {
            assert_eq!(text.parse::<ByteSize>().unwrap().bytes(), bytes, "{text}");
        }
    }

    #[test]
    fn rejects_nonsense() {
        for text in ["", "M", "1X", "1.5G", "-1", "1 G", "1iB", "1MM"] {
            assert!(text.parse::<ByteSize>().is_err(), "{text}");
        }
        assert!(matches!("99999999999G".parse::<ByteSize>(), Err(SizeError::TooLarge(_))));
    }

    #[test]
    fn displays_shortest_exact_form() {
        assert_eq!(ByteSize::new(1 << 30).to_string(), "1G");
        assert_eq!(ByteSize::new(1536 * 1024).to_string(), "1536K");
        assert_eq!(ByteSize::new(1000).to_string(), "1000");
        assert_eq!(ByteSize::new(0).to_string(), "0");
    }
}
