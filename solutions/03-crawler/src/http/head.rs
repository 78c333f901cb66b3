//! The response head: the status line and the header fields, parsed from bytes as they arrive, and
//! what they say about the body that follows ([`BodyKind`], RFC 9112 section 6.3).

use crate::error::HttpError;
use crate::http::MAX_HEAD_BYTES;

/// A parsed status line and its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor version: `1` for `HTTP/1.1`, `0` for `HTTP/1.0`.
    pub minor_version: u8,
    /// The status code, `100` to `999`.
    pub status: u16,
    /// The reason phrase (`OK`), possibly empty.
    pub reason: String,
    /// The header fields in order, names as sent, values with surrounding whitespace trimmed.
    pub headers: Vec<(String, String)>,
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body at all (a `HEAD` answer, `1xx`, `204`, `304`).
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    Close,
}

impl ResponseHead {
    /// Parses a head from the start of `buf`: `Ok(None)` while it is incomplete (no empty line
    /// yet), `Ok(Some((head, n)))` once complete, where `n` is the length of the head, empty line
    /// included, so the body starts at `buf[n..]`. Lines may end in `\r\n` or a bare `\n`; a line
    /// starting with a space or tab continues the previous header (obsolete folding, joined with a
    /// space).
    ///
    /// # Errors
    ///
    /// A status line that is not `HTTP/1.x NNN reason`, a header line without a `:` or with a name
    /// that is not a token, or a head longer than [`crate::http::MAX_HEAD_BYTES`] (also while incomplete).
    pub fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
        // ANCHOR: parse_head
        let Some(end) = head_end(buf) else {
            if buf.len() > MAX_HEAD_BYTES {
                return Err(HttpError::HeadTooLarge { limit: MAX_HEAD_BYTES });
            }
            return Ok(None);
        };
        if end > MAX_HEAD_BYTES {
            return Err(HttpError::HeadTooLarge { limit: MAX_HEAD_BYTES });
        }
        let mut lines =
            buf[..end].split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let status_line = lines.next().unwrap_or_default();
        let (minor_version, status, reason) = parse_status_line(status_line)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines.filter(|line| !line.is_empty()) {
            if matches!(line[0], b' ' | b'\t') {
                let Some((_, value)) = headers.last_mut() else {
                    return Err(HttpError::BadHeader { line: lossy(line) });
                };
                value.push(' ');
                value.push_str(lossy(line).trim());
                continue;
            }
            let colon = line.iter().position(|&b| b == b':');
            let Some(colon) = colon.filter(|&c| c > 0 && line[..c].iter().all(|&b| is_token(b))) else {
                return Err(HttpError::BadHeader { line: lossy(line) });
            };
            let value = lossy(&line[colon + 1..]).trim_matches([' ', '\t']).to_owned();
            headers.push((lossy(&line[..colon]), value));
        }
        Ok(Some((ResponseHead { minor_version, status, reason, headers }, end)))
        // ANCHOR_END: parse_head
    }

    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The values of every header called `name` (any case), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// How the body is delimited, by the rules of RFC 9112 section 6.3: no body for a `HEAD`
    /// request or a `1xx`, `204` or `304` answer; chunked when the last transfer coding is
    /// `chunked` (whatever `Content-Length` says); to the end of the connection for any other
    /// transfer coding; `Content-Length` when present (several equal values are allowed); else to
    /// the end of the connection.
    ///
    /// # Errors
    ///
    /// A `Content-Length` that is not a number, or several that differ.
    pub fn body_kind(&self, head_request: bool) -> Result<BodyKind, HttpError> {
        // ANCHOR: body_kind
        if head_request || self.status < 200 || self.status == 204 || self.status == 304 {
            return Ok(BodyKind::Empty);
        }
        let codings: Vec<&str> =
            self.headers_named("transfer-encoding").flat_map(|v| v.split(',')).map(str::trim).collect();
        if let Some(last) = codings.iter().rev().find(|c| !c.is_empty()) {
            return Ok(if last.eq_ignore_ascii_case("chunked") {
                BodyKind::Chunked
            } else {
                BodyKind::Close
            });
        }
        let mut length = None;
        for value in self.headers_named("content-length").flat_map(|v| v.split(',')).map(str::trim) {
            let bad = || HttpError::BadContentLength { value: value.to_owned() };
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: u64 = value.parse().map_err(|_| bad())?;
            if length.is_some_and(|m| m != n) {
                return Err(bad());
            }
            length = Some(n);
        }
        Ok(length.map_or(BodyKind::Close, BodyKind::Length))
        // ANCHOR_END: body_kind
    }

    /// Whether the connection may carry another request after this response: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let has = |token: &str| {
            self.headers_named("connection")
                .flat_map(|v| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        if self.minor_version >= 1 { !has("close") } else { has("keep-alive") }
    }

    /// Whether the status is a redirect this client follows (301, 302, 303, 307, 308).
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}

/// The index just past the empty line that ends the head, if it has arrived.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(nl) = buf[from..].iter().position(|&b| b == b'\n') {
        let nl = from + nl;
        let next = &buf[nl + 1..];
        if next.first() == Some(&b'\n') {
            return Some(nl + 2);
        }
        if next.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        from = nl + 1;
    }
    None
}

/// `HTTP/1.x NNN reason`.
fn parse_status_line(line: &[u8]) -> Result<(u8, u16, String), HttpError> {
    let bad = || HttpError::BadStatusLine { line: lossy(line) };
    let rest = line.strip_prefix(b"HTTP/1.").ok_or_else(bad)?;
    let (&minor, rest) = rest.split_first().ok_or_else(bad)?;
    let rest = rest.strip_prefix(b" ").ok_or_else(bad)?;
    let (code, rest) = rest.split_at_checked(3).ok_or_else(bad)?;
    if !minor.is_ascii_digit() || !code.iter().all(u8::is_ascii_digit) || code[0] == b'0' {
        return Err(bad());
    }
    let reason = match rest {
        [] => "",
        [b' ', reason @ ..] => return Ok((minor - b'0', status_of(code), lossy(reason))),
        _ => return Err(bad()),
    };
    Ok((minor - b'0', status_of(code), reason.to_owned()))
}

fn status_of(code: &[u8]) -> u16 {
    code.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0'))
}

/// RFC 9110 `tchar`: the characters of a header name.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
