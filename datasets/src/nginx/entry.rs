//! [`LogLine`] and [`Entry`]: one generated line and the ground truth a correct parser must find in it.

/// One generated line: its exact bytes and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The line's bytes, without the `\n` (a CRLF line keeps its `\r`).
    pub text: Vec<u8>,
    /// What a correct parser reads from `text`; `None` when the line is malformed.
    pub entry: Option<Entry>,
}

/// The fields of a valid line, each exactly as a correct parser reports it.
///
/// Byte fields are as written, escapes included: a user agent logged as `a\"b` is the four bytes
/// `a`, `\`, `"`, `b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The client address as written (`203.0.113.7`, `::1`, `2001:db8::1`…).
    pub addr: Vec<u8>,
    /// The remote user as written; nginx writes `-` when there is none.
    pub user: Vec<u8>,
    /// The instant of the line in unix seconds (UTC): written local time minus the offset.
    pub time: i64,
    /// The written zone in minutes east of UTC (`+0800` is 480).
    pub offset_minutes: i32,
    /// The request line between the quotes, as written (may be `-`, empty, or junk).
    pub request: Vec<u8>,
    /// Bytes before the request's first space, when the request has the form `METHOD TARGET PROTOCOL`.
    pub method: Option<Vec<u8>>,
    /// The request target as written, when the request has that form.
    pub url: Option<Vec<u8>>,
    /// The target up to (not including) its first `?`, when the request has that form.
    pub path: Option<Vec<u8>>,
    /// The status code.
    pub status: u16,
    /// The response size in bytes.
    pub bytes: u64,
    /// The referer between the quotes, as written (`-` when none).
    pub referer: Vec<u8>,
    /// The user agent between the quotes, as written.
    pub user_agent: Vec<u8>,
}

/// Splits a request into `(method, target, protocol)` when it has the form `METHOD TARGET PROTOCOL`:
/// method before the first space, protocol after the last, target between, all three non-empty.
pub(crate) fn split_request(request: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let first = request.iter().position(|&b| b == b' ')?;
    let last = request.iter().rposition(|&b| b == b' ')?;
    if last <= first + 1 || first == 0 || last + 1 == request.len() {
        return None;
    }
    Some((&request[..first], &request[first + 1..last], &request[last + 1..]))
}

/// The path of a target: everything before its first `?`.
pub(crate) fn path_of(target: &[u8]) -> &[u8] {
    match target.iter().position(|&b| b == b'?') {
        Some(q) => &target[..q],
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_three_part_form() {
        assert_eq!(split_request(b"GET /a?b HTTP/1.1"), Some((&b"GET"[..], &b"/a?b"[..], &b"HTTP/1.1"[..])));
        assert_eq!(split_request(b"GET /a b HTTP/1.1"), Some((&b"GET"[..], &b"/a b"[..], &b"HTTP/1.1"[..])));
    }

    #[test]
    fn rejects_other_shapes() {
        for r in [&b"-"[..], b"", b"GET /", b"GET  HTTP/1.1", b" / HTTP/1.1", b"GET / ", b"\\x16\\x03"] {
            assert_eq!(split_request(r), None, "{:?}", String::from_utf8_lossy(r));
        }
    }

    #[test]
    fn path_stops_at_first_question_mark() {
        assert_eq!(path_of(b"/a?b?c"), b"/a");
        assert_eq!(path_of(b"/a"), b"/a");
        assert_eq!(path_of(b"?x"), b"");
    }
}
