//! The `Range: bytes=…` header: parsing it, and resolving it against a body's length.

use std::ops::Range;

/// One syntactically valid byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ByteRange {
    /// `bytes=first-last`, both inclusive.
    FromTo(u64, u64),
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

/// What to send for a request, given its `Range` header and the body's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resolved {
    /// No usable range (absent, invalid, or several ranges): the whole body with `200`.
    Whole,
    /// These bytes with `206`.
    Part(Range<usize>),
    /// A `416`: the range starts past the end.
    Unsatisfiable,
}

/// Parses a header value holding exactly one byte range; `None` for anything else (other units,
/// several ranges, bad numbers, `last < first`), which RFC 9110 says a server ignores.
pub(super) fn parse(value: &str) -> Option<ByteRange> {
    let value = value.trim();
    let (unit, spec) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => None,
        (true, false) => Some(ByteRange::Suffix(number(last)?)),
        (false, true) => Some(ByteRange::From(number(first)?)),
        (false, false) => {
            let (a, b) = (number(first)?, number(last)?);
            (a <= b).then_some(ByteRange::FromTo(a, b))
        }
    }
}

/// Resolves a `Range` header value against a body of `total` bytes.
pub(super) fn resolve(value: &str, total: usize) -> Resolved {
    let total64 = total as u64;
    let Some(range) = parse(value) else { return Resolved::Whole };
    let (start, end) = match range {
        ByteRange::FromTo(a, b) => (a, b.saturating_add(1).min(total64)),
        ByteRange::From(a) => (a, total64),
        ByteRange::Suffix(n) => (total64.saturating_sub(n), if n == 0 { 0 } else { total64 }),
    };
    if start >= end {
        return Resolved::Unsatisfiable;
    }
    // Both bounds are at most `total`, which is a usize.
    Resolved::Part(start as usize..end as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(parse("bytes=0-99"), Some(ByteRange::FromTo(0, 99)));
        assert_eq!(parse(" Bytes = 5 - "), Some(ByteRange::From(5)));
        assert_eq!(parse("bytes=-7"), Some(ByteRange::Suffix(7)));
    }

    #[test]
    fn rejects_what_a_server_must_ignore() {
        for bad in ["bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=-", "bytes=a-b", "bytes=+1-2", "0-1"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn resolves_against_the_length() {
        assert_eq!(resolve("bytes=2-4", 10), Resolved::Part(2..5));
        assert_eq!(resolve("bytes=2-400", 10), Resolved::Part(2..10));
        assert_eq!(resolve("bytes=7-", 10), Resolved::Part(7..10));
        assert_eq!(resolve("bytes=-3", 10), Resolved::Part(7..10));
        assert_eq!(resolve("bytes=-30", 10), Resolved::Part(0..10));
        assert_eq!(resolve("bytes=10-", 10), Resolved::Unsatisfiable);
        assert_eq!(resolve("bytes=-0", 10), Resolved::Unsatisfiable);
        assert_eq!(resolve("bytes=0-", 0), Resolved::Unsatisfiable);
        assert_eq!(resolve("bytes=0-1,3-4", 10), Resolved::Whole);
    }
}
