//! The response head: the status line and the header fields, parsed from bytes as they arrive, and
//! what they say about the body that follows ([`BodyKind`], RFC 9112 section 6.3).

use crate::error::HttpError;

// TODO(stage 1): parse works on bytes that may stop anywhere: look for the end of the head (an
// empty line, `\r\n` or a bare `\n`) before parsing anything, and return Ok(None) until it has
// arrived, checking MAX_HEAD_BYTES either way. A header line that starts with a space or tab
// continues the previous one.

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
        todo!("stage 1: find the empty line that ends the head, then parse the status line and each header")
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
        todo!("stage 1: RFC 9112 section 6.3, in its order: no body, chunked, Content-Length, until close")
    }

    /// Whether the connection may carry another request after this response: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        todo!("stage 1: the Connection header and the version")
    }

    /// Whether the status is a redirect this client follows (301, 302, 303, 307, 308).
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}
