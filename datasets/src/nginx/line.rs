//! Rendering one line of nginx's `combined` format and remembering where each field landed.
//!
//! ```text
//! ADDR - USER [TIME] "REQUEST" STATUS BYTES "REFERER" "UA"
//! ```
//!
//! The generator knows every field before it writes the line, so the ground truth ([`Entry`]) is cut
//! from the rendered bytes at the recorded [`Spans`], never parsed back out of them.

use super::clock::STAMP_LEN;
use super::entry::{Entry, path_of, split_request};

/// The fields of one line, borrowed from the generator's populations and scratch buffers.
pub(crate) struct Parts<'a> {
    pub addr: &'a [u8],
    pub user: &'a [u8],
    pub stamp: &'a [u8; STAMP_LEN],
    pub request: Request<'a>,
    pub status: u16,
    pub bytes: u64,
    pub referer: &'a [u8],
    pub agent: &'a [u8],
    pub crlf: bool,
}

/// The request between the quotes.
pub(crate) enum Request<'a> {
    /// `METHOD TARGET PROTOCOL`, joined with single spaces.
    Parts { method: &'a [u8], target: &'a [u8], protocol: &'a [u8] },
    /// Written as is: `-`, empty, TLS junk, a two-word request…
    Raw(&'a [u8]),
}

/// A half-open byte range within a rendered line.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// Where each field of a rendered line is, relative to the line's first byte.
///
/// Quoted fields' spans cover the content only: the quotes sit at `start - 1` and `end`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Spans {
    pub addr: Span,
    pub user: Span,
    /// The 26 bytes between `[` and `]`.
    pub time: Span,
    pub request: Span,
    pub status: Span,
    pub bytes: Span,
    pub referer: Span,
    pub agent: Span,
    /// Every single space that separates two fields, plus the one inside the time before the zone.
    pub separators: [usize; 9],
    /// Length of the line, `\r` included.
    pub len: usize,
}

/// Appends the rendered line (no newline) to `out` and returns where its fields are.
pub(crate) fn render(parts: &Parts<'_>, out: &mut Vec<u8>) -> Spans {
    let base = out.len();
    let mut spans = Spans::default();
    let push_field = |out: &mut Vec<u8>, bytes: &[u8]| {
        let start = out.len() - base;
        out.extend_from_slice(bytes);
        Span { start, end: out.len() - base }
    };
    let here = |out: &Vec<u8>| out.len() - base;

    spans.addr = push_field(out, parts.addr);
    spans.separators[0] = here(out);
    out.extend_from_slice(b" -");
    spans.separators[1] = here(out);
    out.push(b' ');
    spans.user = push_field(out, parts.user);
    spans.separators[2] = here(out);
    out.extend_from_slice(b" [");
    spans.time = push_field(out, parts.stamp);
    spans.separators[3] = spans.time.start + 20;
    out.push(b']');
    spans.separators[4] = here(out);
    out.extend_from_slice(b" \"");
    let start = here(out);
    match parts.request {
        Request::Parts { method, target, protocol } => {
            out.extend_from_slice(method);
            out.push(b' ');
            out.extend_from_slice(target);
            out.push(b' ');
            out.extend_from_slice(protocol);
        }
        Request::Raw(raw) => out.extend_from_slice(raw),
    }
    spans.request = Span { start, end: here(out) };
    out.push(b'"');
    spans.separators[5] = here(out);
    out.push(b' ');
    spans.status = push_field(out, &three_digits(parts.status));
    spans.separators[6] = here(out);
    out.push(b' ');
    let mut digits = [0u8; 20];
    spans.bytes = push_field(out, decimal(parts.bytes, &mut digits));
    spans.separators[7] = here(out);
    out.extend_from_slice(b" \"");
    spans.referer = push_field(out, parts.referer);
    out.push(b'"');
    spans.separators[8] = here(out);
    out.extend_from_slice(b" \"");
    spans.agent = push_field(out, parts.agent);
    out.push(b'"');
    if parts.crlf {
        out.push(b'\r');
    }
    spans.len = here(out);
    spans
}

/// The ground truth of a valid rendered line.
pub(crate) fn entry(
    line: &[u8],
    spans: &Spans,
    time: i64,
    offset_minutes: i32,
    status: u16,
    bytes: u64,
) -> Entry {
    let cut = |s: Span| line[s.start..s.end].to_vec();
    let request = &line[spans.request.start..spans.request.end];
    let split = split_request(request);
    Entry {
        addr: cut(spans.addr),
        user: cut(spans.user),
        time,
        offset_minutes,
        request: request.to_vec(),
        method: split.map(|(m, _, _)| m.to_vec()),
        url: split.map(|(_, t, _)| t.to_vec()),
        path: split.map(|(_, t, _)| path_of(t).to_vec()),
        status,
        bytes,
        referer: cut(spans.referer),
        user_agent: cut(spans.agent),
    }
}

/// Whether `content` can sit between quotes as is: no raw `"` or newline, and every `\` escapes a byte.
#[cfg(test)]
pub(crate) fn is_quotable(content: &[u8]) -> bool {
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'"' | b'\n' => return false,
            b'\\' if i + 1 == content.len() || content[i + 1] == b'\n' => return false,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    true
}

fn three_digits(status: u16) -> [u8; 3] {
    debug_assert!(status < 1000);
    [b'0' + (status / 100) as u8, b'0' + (status / 10 % 10) as u8, b'0' + (status % 10) as u8]
}

fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_combined_format_and_spans() {
        let stamp = *b"01/Mar/2026:08:00:00 +0800";
        let parts = Parts {
            addr: b"203.0.113.7",
            user: b"-",
            stamp: &stamp,
            request: Request::Parts { method: b"GET", target: b"/a?b=1", protocol: b"HTTP/1.1" },
            status: 200,
            bytes: 0,
            referer: b"-",
            agent: b"curl/8.5.0",
            crlf: true,
        };
        let mut out = b"prefix".to_vec();
        let spans = render(&parts, &mut out);
        let line = &out[6..];
        assert_eq!(
            line,
            &b"203.0.113.7 - - [01/Mar/2026:08:00:00 +0800] \"GET /a?b=1 HTTP/1.1\" 200 0 \"-\" \"curl/8.5.0\"\r"[..]
        );
        assert_eq!(spans.len, line.len());
        for sep in spans.separators {
            assert_eq!(line[sep], b' ');
        }
        let e = entry(line, &spans, 1, 480, 200, 0);
        assert_eq!(e.path.as_deref(), Some(&b"/a"[..]));
        assert_eq!(e.user_agent, b"curl/8.5.0");
    }

    #[test]
    fn decimal_writes_zero_and_max() {
        let mut buf = [0; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(u64::MAX, &mut buf), b"18446744073709551615");
    }
}
