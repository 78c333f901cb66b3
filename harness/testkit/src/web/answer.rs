//! Building an answer for a route and a request: status, headers, which bytes of the body, and the
//! serialised head.

use std::ops::Range;
use std::sync::Arc;

use super::range::{self, Resolved};
use super::request::Request;
use super::route::ServedRoute;

/// The `Last-Modified` of every route that does not set its own: fixed, so runs are reproducible.
pub(super) const LAST_MODIFIED: &str = "Mon, 02 Nov 2026 10:00:00 GMT";

/// Headers the server computes itself; a route cannot send them.
const FRAMING: [&str; 4] = ["content-length", "content-range", "transfer-encoding", "connection"];

/// An answer before framing is chosen.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    /// Every header except the framing ones.
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Arc<[u8]>,
    /// The bytes of `body` to send (the whole body, or one range).
    pub(super) part: Range<usize>,
}

impl Answer {
    /// `1xx`, `204` and `304` answers have neither a body nor a `Content-Length`.
    pub(super) fn is_bodiless(&self) -> bool {
        self.status < 200 || self.status == 204 || self.status == 304
    }

    /// The bytes to send.
    pub(super) fn part(&self) -> &[u8] {
        &self.body[self.part.clone()]
    }
}

/// How the body's end is marked.
#[derive(Debug, Clone, Copy)]
pub(super) enum Framing {
    Length(u64),
    Chunked,
    /// No length: the body ends when the connection closes.
    CloseDelimited,
    /// No body at all (and no `Content-Length`).
    Bodiless,
}

/// What the range-related faults change about an answer.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RangeFaults {
    /// Answer `Range` requests with the whole body.
    pub(super) ignore: bool,
    /// Answer with a part starting one byte later than asked.
    pub(super) lie: bool,
}

/// The answer `served` gives `request`.
pub(super) fn build(served: &ServedRoute, request: &Request, faults: RangeFaults) -> Answer {
    let route = &served.route;
    let body = Arc::clone(&route.body);
    let total = body.len();
    let mut status = route.status;
    let mut part = 0..total;
    let mut content_range = None;
    let etag = route.header_value("etag").unwrap_or_else(|| served.etag()).to_owned();
    let last_modified = route.header_value("last-modified").unwrap_or(LAST_MODIFIED).to_owned();
    let range = request.header("range").filter(|_| status == 200 && !faults.ignore);
    if let Some(value) = range.filter(|_| if_range_holds(request, &etag, &last_modified)) {
        match range::resolve(value, total) {
            Resolved::Whole => {}
            Resolved::Part(asked) => {
                status = 206;
                part = if faults.lie { one_byte_later(asked, total) } else { asked };
                content_range = Some(format!("bytes {}-{}/{total}", part.start, part.end - 1));
            }
            Resolved::Unsatisfiable => {
                let text = format!("416 {}\n", reason(416));
                let mut headers = defaults(served, "text/plain; charset=utf-8", None, false);
                headers.push(("Content-Range".to_owned(), format!("bytes */{total}")));
                let part = 0..text.len();
                return Answer { status: 416, headers, body: text.into_bytes().into(), part };
            }
        }
    }
    let validators = (200..300).contains(&status).then_some((etag, last_modified));
    let mut headers = defaults(served, "application/octet-stream", validators, !faults.ignore);
    headers.extend(content_range.map(|v| ("Content-Range".to_owned(), v)));
    let own = route.headers.iter().filter(|(n, _)| !FRAMING.contains(&n.to_ascii_lowercase().as_str()));
    headers.extend(own.cloned());
    Answer { status, headers, body, part }
}

/// The server's default headers that the route does not override (the route's own come after).
/// `Accept-Ranges: bytes` goes with the validators unless the route ignores ranges: servers without
/// range support do not send it.
fn defaults(
    served: &ServedRoute,
    content_type: &str,
    validators: Option<(String, String)>,
    ranges: bool,
) -> Vec<(String, String)> {
    let mut all = vec![("Server", "testkit".to_owned()), ("Content-Type", content_type.to_owned())];
    if let Some((etag, last_modified)) = validators {
        if ranges {
            all.push(("Accept-Ranges", "bytes".to_owned()));
        }
        all.push(("ETag", etag));
        all.push(("Last-Modified", last_modified));
    }
    all.into_iter()
        .filter(|(name, _)| served.route.header_value(name).is_none())
        .map(|(n, v)| (n.to_owned(), v))
        .collect()
}

/// `If-Range`: the range applies only if the validator the client holds is still current.
fn if_range_holds(request: &Request, etag: &str, last_modified: &str) -> bool {
    match request.header("if-range") {
        None => true,
        // A weak tag never matches (RFC 9110 §13.1.5).
        Some(tag) if tag.starts_with('"') || tag.starts_with("W/") => tag == etag,
        Some(date) => date == last_modified,
    }
}

/// The lie of [`Fault::WrongContentRange`](super::Fault::WrongContentRange): the range moved one
/// byte later (kept in the body; an honest answer when there is no later byte).
fn one_byte_later(asked: Range<usize>, total: usize) -> Range<usize> {
    if asked.end.min(total) > asked.start + 1 {
        asked.start + 1..asked.end
    } else if asked.start + 2 <= total {
        asked.start + 1..asked.start + 2
    } else {
        asked
    }
}

/// The serialised head of `answer` with this framing and `Connection` header.
pub(super) fn head(answer: &Answer, framing: Framing, connection: Option<&str>) -> Vec<u8> {
    use std::fmt::Write;
    let mut head = format!("HTTP/1.1 {} {}\r\n", answer.status, reason(answer.status));
    for (name, value) in &answer.headers {
        // Writing to a String cannot fail.
        let _ = write!(head, "{name}: {value}\r\n");
    }
    match framing {
        Framing::Length(n) => {
            let _ = write!(head, "Content-Length: {n}\r\n");
        }
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\nTrailer: X-Testkit-Trailer\r\n"),
        Framing::CloseDelimited | Framing::Bodiless => {}
    }
    if let Some(connection) = connection {
        let _ = write!(head, "Connection: {connection}\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The reason phrase of a status code.
pub(super) fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}
