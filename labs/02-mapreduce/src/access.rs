//! The two fields of an nginx `combined` line the shipped log jobs need: the request target and the
//! status.
//!
//! ```text
//! ADDR - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "REQUEST" STATUS BYTES "REFERER" "UA"
//! ```
//!
//! Quoted fields may hold `\"` escapes. A line that does not have this shape is malformed and gives
//! `None`: the jobs skip it.

// TODO(stage 1): a few small private helpers over byte slices keep parse_access a straight line of
// strip_prefix calls: split a quoted field at its closing quote (skipping `\x` escapes), take a run
// of digits, check the [time] field's shape and calendar. std::net::IpAddr checks the address.

/// The fields of one valid line that the log jobs count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessFields<'a> {
    /// The request target when the request is `METHOD TARGET PROTOCOL` (all three non-empty).
    pub url: Option<&'a [u8]>,
    /// The status code.
    pub status: u16,
}

/// Parses one line (without or with its `\n`, `\r\n`), or `None` when it is malformed.
///
/// # Examples
///
/// ```
/// let line = br#"203.0.113.7 - - [01/Mar/2026:08:00:00 +0800] "GET /a?b=1 HTTP/1.1" 200 512 "-" "curl/8""#;
/// let fields = mapreduce::parse_access(line).unwrap();
/// assert_eq!(fields.url, Some(&b"/a?b=1"[..]));
/// assert_eq!(fields.status, 200);
/// ```
pub fn parse_access(line: &[u8]) -> Option<AccessFields<'_>> {
    todo!(
        "stage 1: check ADDR - USER and the [time], then the quoted request, a 3-digit status, bytes, referer and user agent"
    )
}
