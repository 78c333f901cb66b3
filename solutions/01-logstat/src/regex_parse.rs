//! The regex parser: the `combined` format as one regular expression over bytes.
//!
//! It is the readable definition of a valid line, and the baseline `benches/parse.rs` measures the
//! hand parser against. Both parsers accept the same lines and build the same records.

use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::parse::{ParseError, is_ip_address};
use crate::{LogRecord, Timestamp};

/// The `combined` format; `(?-u)` makes every class match bytes, not UTF-8 characters.
static COMBINED: LazyLock<Regex> = LazyLock::new(|| {
    let quoted = r#""((?:[^"\\\n]|\\[^\n])*)""#;
    let pattern = format!(
        r#"(?-u)^([^ ]+) - ([^ ]+) \[([^\]]*)\] {quoted} ([0-9]{{3}}) ([0-9]+) {quoted} {quoted}\r?$"#
    );
    // The pattern is a constant: a failure here is a bug caught by every test.
    Regex::new(&pattern).expect("the combined-format regex compiles")
});

/// Parses one line of the nginx `combined` format with a regular expression.
///
/// Accepts exactly the lines [`crate::parse_line`] accepts, with the same result.
///
/// # Errors
///
/// [`ParseError`] when the line is not valid; mostly [`ParseError::Shape`], since a regex that does not
/// match cannot say where it failed.
pub fn parse_line_regex(line: &[u8]) -> Result<LogRecord<'_>, ParseError> {
    // ANCHOR: parse_line_regex
    let caps = COMBINED.captures(line).ok_or(ParseError::Shape)?;
    let field = |i| caps.get(i).map_or(&b""[..], |m| m.as_bytes());
    let addr = field(1);
    if !is_ip_address(addr) {
        return Err(ParseError::Address);
    }
    let time = Timestamp::parse_nginx(field(3)).ok_or(ParseError::Time)?;
    let status = std::str::from_utf8(field(5)).map_err(|_| ParseError::Status)?;
    let status = status.parse().map_err(|_| ParseError::Status)?;
    let bytes = field(6).iter().fold(0u64, |n, &d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')));
    Ok(LogRecord {
        addr,
        user: field(2),
        time,
        request: field(4),
        status,
        bytes,
        referer: field(7),
        user_agent: field(8),
    })
    // ANCHOR_END: parse_line_regex
}
