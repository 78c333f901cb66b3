//! The two fields of an nginx `combined` line the shipped log jobs need: the request target and the
//! status.
//!
//! ```text
//! ADDR - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "REQUEST" STATUS BYTES "REFERER" "UA"
//! ```
//!
//! Quoted fields may hold `\"` escapes. A line that does not have this shape is malformed and gives
//! `None`: the jobs skip it.

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
// ANCHOR: parse_access
pub fn parse_access(line: &[u8]) -> Option<AccessFields<'_>> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // ADDR - USER [TIME] : the time is the first bracketed field, 26 bytes long.
    let open = line.iter().position(|&b| b == b'[')?;
    let close = open + 1 + line[open + 1..].iter().position(|&b| b == b']')?;
    if !valid_prefix(&line[..open]) || !valid_time(&line[open + 1..close]) {
        return None;
    }
    let rest = line[close + 1..].strip_prefix(b" \"")?;
    let (request, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    // The status is exactly three digits.
    if rest.get(3) != Some(&b' ') {
        return None;
    }
    let (status, rest) = digit_run(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    // The size is any number of digits: it is not read, so no width can overflow.
    let (_bytes, rest) = digit_run(rest)?;
    let rest = rest.strip_prefix(b" \"")?;
    let (_referer, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(b" \"")?;
    let (_agent, rest) = quoted(rest)?;
    // At most three digits (the byte after the third is a space): a u16 holds them.
    let status = status.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0'));
    if !rest.is_empty() || !(100..=999).contains(&status) {
        return None;
    }
    Some(AccessFields { url: target(request), status })
}
// ANCHOR_END: parse_access

/// `ADDR - USER ` with a valid IPv4 or IPv6 address and a non-empty user.
fn valid_prefix(prefix: &[u8]) -> bool {
    let Some(prefix) = prefix.strip_suffix(b" ") else { return false };
    let mut fields = prefix.split(|&b| b == b' ');
    let (Some(addr), Some(b"-"), Some(user), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    !user.is_empty() && std::str::from_utf8(addr).is_ok_and(|addr| addr.parse::<std::net::IpAddr>().is_ok())
}

/// `dd/Mon/yyyy:HH:MM:SS +zzzz`, a real calendar day and clock time, a zone within ±23:59.
fn valid_time(time: &[u8]) -> bool {
    const MONTHS: [&[u8]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = time.get(range)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
    };
    if time.len() != 26 || &time[2..3] != b"/" || &time[6..7] != b"/" || time[11] != b':' || time[14] != b':'
    {
        return false;
    }
    if time[17] != b':' || time[20] != b' ' || !matches!(time[21], b'+' | b'-') {
        return false;
    }
    let Some(month) = MONTHS.iter().position(|&m| m == &time[3..6]) else { return false };
    let fields = (
        digits(0..2),
        digits(7..11),
        digits(12..14),
        digits(15..17),
        digits(18..20),
        digits(22..24),
        digits(24..26),
    );
    let (Some(day), Some(year), Some(hour), Some(minute), Some(second), Some(zh), Some(zm)) = fields else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month];
    (1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60 && zh < 24 && zm < 60
}

/// Splits `text` (just after an opening quote) at its closing quote, skipping `\x` escapes.
fn quoted(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some((&text[..i], &text[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// Splits a leading run of one or more ASCII digits from `text`.
fn digit_run(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    (len > 0).then(|| text.split_at(len))
}

/// The target of `METHOD TARGET PROTOCOL`: between the first and the last space, all three non-empty.
fn target(request: &[u8]) -> Option<&[u8]> {
    let first = request.iter().position(|&b| b == b' ')?;
    let last = request.iter().rposition(|&b| b == b' ')?;
    (first > 0 && last > first + 1 && last + 1 < request.len()).then(|| &request[first + 1..last])
}
