//! The hand-written parser: one pass over the line's bytes, with `memchr` to find delimiters.
//!
//! It accepts exactly what [`crate::parse_line_regex`] accepts and builds the same [`LogRecord`],
//! several times faster (see `benches/parse.rs`): no regex engine, no captures, no allocation.

use std::net::IpAddr;

use std::cell::Cell;

use crate::timestamp::NGINX_TIME_LEN;
use crate::{LogRecord, Timestamp};

/// Why a line is not a valid `combined` line: the first part that is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The line does not have the format's shape at all (the regex parser's only answer).
    #[error("line does not have the combined format's shape")]
    Shape,
    /// The address is not a valid IPv4 or IPv6 address.
    #[error("invalid client address")]
    Address,
    /// The ` - USER ` part is missing or wrong.
    #[error("invalid remote user")]
    User,
    /// `[dd/Mon/yyyy:HH:MM:SS +zzzz]` is missing or not a real time.
    #[error("invalid time")]
    Time,
    /// A quoted field is missing a quote or ends inside an escape.
    #[error("invalid quoted field")]
    Quoted,
    /// The status is not three digits.
    #[error("invalid status")]
    Status,
    /// The byte count is not a run of digits.
    #[error("invalid byte count")]
    Bytes,
    /// Something follows the user agent's closing quote.
    #[error("unexpected data after the user agent")]
    Trailing,
}

/// Parses one line (without its `\n`; a trailing `\r` is ignored) of the nginx `combined` format.
///
/// # Errors
///
/// [`ParseError`] naming the first part of the line that is wrong. Never panics, whatever the bytes.
///
/// # Examples
///
/// ```
/// let line = br#"203.0.113.9 - - [01/Mar/2026:08:00:00 +0800] "GET /a?b=1 HTTP/1.1" 200 512 "-" "curl/8.5.0""#;
/// let record = logstat::parse_line(line).unwrap();
/// assert_eq!(record.addr, b"203.0.113.9");
/// assert_eq!(record.path(), Some(&b"/a"[..]));
/// assert_eq!(record.status, 200);
/// ```
pub fn parse_line(line: &[u8]) -> Result<LogRecord<'_>, ParseError> {
    // ANCHOR: parse_line
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut cursor = Cursor { rest: line };

    let addr = cursor.until(b' ').ok_or(ParseError::Address)?;
    if !is_ip_address(addr) {
        return Err(ParseError::Address);
    }
    cursor.expect(b"- ").ok_or(ParseError::User)?;
    let user = cursor.until(b' ').ok_or(ParseError::User)?;
    if user.is_empty() {
        return Err(ParseError::User);
    }
    cursor.expect(b"[").ok_or(ParseError::Time)?;
    let time = cursor.take(NGINX_TIME_LEN).ok_or(ParseError::Time)?;
    let time = parse_time_cached(time).ok_or(ParseError::Time)?;
    cursor.expect(b"] ").ok_or(ParseError::Time)?;
    let request = cursor.quoted().ok_or(ParseError::Quoted)?;
    cursor.expect(b" ").ok_or(ParseError::Quoted)?;
    let status = cursor.until(b' ').ok_or(ParseError::Status)?;
    let status = match *status {
        [a, b, c] if status.iter().all(u8::is_ascii_digit) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(ParseError::Status),
    };
    let bytes = cursor.until(b' ').ok_or(ParseError::Bytes)?;
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Bytes);
    }
    let bytes = bytes.iter().fold(0u64, |n, &d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')));
    let referer = cursor.quoted().ok_or(ParseError::Quoted)?;
    cursor.expect(b" ").ok_or(ParseError::Quoted)?;
    let user_agent = cursor.quoted().ok_or(ParseError::Quoted)?;
    if !cursor.rest.is_empty() {
        return Err(ParseError::Trailing);
    }
    Ok(LogRecord { addr, user, time, request, status, bytes, referer, user_agent })
    // ANCHOR_END: parse_line
}

/// [`Timestamp::parse_nginx`], remembering the last answer: a busy server writes hundreds of lines
/// with the same second, and comparing 26 bytes is cheaper than converting them again.
fn parse_time_cached(text: &[u8]) -> Option<Timestamp> {
    thread_local! {
        static LAST: Cell<([u8; NGINX_TIME_LEN], Option<Timestamp>)> = const { Cell::new(([0; NGINX_TIME_LEN], None)) };
    }
    LAST.with(|last| {
        let (bytes, parsed) = last.get();
        if parsed.is_some() && bytes == text {
            return parsed;
        }
        let parsed = Timestamp::parse_nginx(text)?;
        // `text` came from take(NGINX_TIME_LEN), so it has exactly that many bytes.
        last.set((text.try_into().ok()?, Some(parsed)));
        Some(parsed)
    })
}

/// Whether `text` is an address `std::net::IpAddr` accepts.
pub(crate) fn is_ip_address(text: &[u8]) -> bool {
    if let Some(dotted) = is_ipv4_address(text) {
        return dotted;
    }
    // The longest textual IPv6 address is 45 bytes; refusing longer input early keeps this cheap.
    text.len() <= 45 && std::str::from_utf8(text).is_ok_and(|text| text.parse::<IpAddr>().is_ok())
}

/// The common case without UTF-8 checks or a general parser: `Some(valid)` for text made only of
/// digits and dots (valid as `Ipv4Addr` parses it: four decimal octets up to 255, no leading zeros),
/// `None` for anything else.
fn is_ipv4_address(text: &[u8]) -> Option<bool> {
    let (mut valid, mut octets, mut digits, mut value) = (true, 0, 0, 0u32);
    for &byte in text {
        match byte {
            b'0'..=b'9' => {
                // A leading zero ("01") is refused, as std refuses it.
                valid &= !(digits == 1 && value == 0);
                value = value * 10 + u32::from(byte - b'0');
                digits += 1;
                valid &= digits <= 3 && value <= 255;
            }
            b'.' => {
                valid &= digits > 0;
                octets += 1;
                (digits, value) = (0, 0);
            }
            _ => return None,
        }
    }
    Some(valid && digits > 0 && octets == 3)
}

/// The unparsed rest of a line.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// The bytes up to `delimiter`, consuming the delimiter too. `None` if there is none.
    fn until(&mut self, delimiter: u8) -> Option<&'a [u8]> {
        // The fields before the request are short (an address, a user, a status, a size): a plain
        // loop finds their end sooner than memchr can set up its vector search.
        let end = self.rest.iter().position(|&byte| byte == delimiter)?;
        let field = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Some(field)
    }

    /// Consumes `prefix`, or returns `None` if the rest does not start with it.
    fn expect(&mut self, prefix: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(prefix)?;
        Some(())
    }

    /// The next `len` bytes.
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(taken)
    }

    /// A `"…"` field whose content may hold backslash escapes; returns the content as written.
    fn quoted(&mut self) -> Option<&'a [u8]> {
        let body = self.rest.strip_prefix(b"\"")?;
        let mut at = 0;
        loop {
            at += memchr::memchr2(b'"', b'\\', &body[at..])?;
            if body[at] == b'"' {
                self.rest = &body[at + 1..];
                return Some(&body[..at]);
            }
            // A backslash escapes the next byte, whatever it is, but a line never holds a newline.
            match body.get(at + 1) {
                Some(b'\n') | None => return None,
                Some(_) => at += 2,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ipv4_shortcut_agrees_with_the_standard_parser() {
        let cases = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1234.1.1.1",
            "",
            ".",
            "00.0.0.0",
        ];
        for case in cases {
            let by_std = case.parse::<std::net::Ipv4Addr>().is_ok();
            assert_eq!(is_ip_address(case.as_bytes()), by_std, "{case:?}");
        }
    }
}
