//! Reading HTTP/1.x request heads off a connection, pipelined requests included.

use std::io::{self, Read};

/// The most bytes a request head may take; more is a bad request.
const MAX_HEAD: usize = 64 * 1024;

/// A parsed request head.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
    /// Whether the client wants the connection kept open after the answer.
    pub(super) keep_alive: bool,
    /// Whether it came as HTTP/1.0, which needs `Connection: keep-alive` said back to it.
    pub(super) http10: bool,
}

impl Request {
    /// A stand-in for a request that could not be parsed, to build the `400` answer with.
    pub(super) fn unparsed() -> Request {
        Request {
            method: String::new(),
            target: String::new(),
            headers: Vec::new(),
            keep_alive: false,
            http10: false,
        }
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(super) fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// What reading the next request gave.
#[derive(Debug)]
pub(super) enum Next {
    Request(Request),
    /// The peer closed (or the connection failed) between requests: nothing to answer.
    Closed,
    /// The bytes are not an HTTP/1.x request: answer `400` and close.
    Bad(String),
}

/// Reads requests one after another from one connection. Bytes read past the end of one request
/// (a pipelined next request) stay in the buffer for the next call.
#[derive(Debug, Default)]
pub(super) struct RequestReader {
    buf: Vec<u8>,
}

impl RequestReader {
    /// Reads the next request head, and consumes (discards) its body if it declares one.
    pub(super) fn next(&mut self, mut stream: impl Read) -> Next {
        loop {
            // Leading blank lines before a request line are allowed (RFC 9112 §2.2).
            let blank = self.buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
            self.buf.drain(..blank);
            if let Some((head_len, body_start)) = head_end(&self.buf) {
                let parsed = parse_head(&self.buf[..head_len]);
                self.buf.drain(..body_start);
                return match parsed {
                    Ok((request, body_len)) => match self.skip_body(&mut stream, body_len) {
                        Ok(()) => Next::Request(request),
                        Err(_) => Next::Closed,
                    },
                    Err(why) => Next::Bad(why),
                };
            }
            if self.buf.len() > MAX_HEAD {
                return Next::Bad(format!("request head longer than {MAX_HEAD} bytes"));
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return Next::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn skip_body(&mut self, stream: &mut impl Read, len: u64) -> io::Result<()> {
        let buffered = self.buf.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        self.buf.drain(..buffered);
        let rest = len - buffered as u64;
        let skipped = io::copy(&mut stream.take(rest), &mut io::sink())?;
        if skipped < rest {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// Where the head ends: the length of the head text, and where the body starts.
fn head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + off;
        // A blank line: "\n\n" or "\n\r\n".
        if buf.get(nl + 1) == Some(&b'\n') {
            return Some((nl, nl + 2));
        }
        if buf.get(nl + 1) == Some(&b'\r') && buf.get(nl + 2) == Some(&b'\n') {
            return Some((nl, nl + 3));
        }
        i = nl + 1;
    }
    None
}

/// Parses a head (without its blank line) into a request and the length of its body.
fn parse_head(head: &[u8]) -> Result<(Request, u64), String> {
    let text = std::str::from_utf8(head).map_err(|_| "request head is not UTF-8".to_owned())?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(format!("bad request line {line:?}"));
    };
    let is_token = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
    };
    if !is_token(method) {
        return Err(format!("bad method {method:?}"));
    }
    if !(target.starts_with('/') || target.starts_with("http://") || target == "*")
        || !target.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(format!("bad request target {target:?}"));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(format!("unsupported version {version:?}")),
    };
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line {line:?}"));
        };
        if !is_token(name) {
            return Err(format!("bad header name {name:?}"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut request =
        Request { method: method.to_owned(), target: target.to_owned(), headers, keep_alive: false, http10 };
    if request.header("transfer-encoding").is_some() {
        return Err("request bodies with Transfer-Encoding are not supported".to_owned());
    }
    let body_len = match request.header("content-length") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| format!("bad Content-Length {v:?}"))?,
    };
    let tokens = request.header("connection").unwrap_or_default().to_ascii_lowercase();
    let has = |t: &str| tokens.split(',').any(|x| x.trim() == t);
    request.keep_alive = if http10 { has("keep-alive") && !has("close") } else { !has("close") };
    Ok((request, body_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<Next> {
        let mut reader = RequestReader::default();
        let mut input = bytes;
        let mut out = Vec::new();
        loop {
            match reader.next(&mut input) {
                Next::Closed => return out,
                other => out.push(other),
            }
        }
    }

    #[test]
    fn reads_pipelined_requests_and_skips_bodies() {
        let got = read_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /c?q HTTP/1.0\n\n");
        let targets: Vec<_> = got
            .iter()
            .map(|n| match n {
                Next::Request(r) => (r.method.clone(), r.target.clone(), r.keep_alive),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            targets,
            [
                ("GET".into(), "/a".into(), true),
                ("POST".into(), "/b".into(), true),
                ("GET".into(), "/c?q".into(), false)
            ]
        );
    }

    #[test]
    fn connection_header_decides_keep_alive() {
        let got = read_all(
            b"GET / HTTP/1.1\r\nconnection: Close\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        );
        let alive: Vec<bool> = got.iter().map(|n| matches!(n, Next::Request(r) if r.keep_alive)).collect();
        assert_eq!(alive, [false, true]);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            &b"HELLO\r\n\r\n"[..],
            b"GET / HTTP/2\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET nopath HTTP/1.1\r\n\r\n",
        ] {
            assert!(matches!(read_all(bad).first(), Some(Next::Bad(_))), "{}", String::from_utf8_lossy(bad));
        }
    }
}
