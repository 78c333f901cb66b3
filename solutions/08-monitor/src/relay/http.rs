//! [`HttpClient`]: the least of HTTP/1.1 that remote write needs: POSTs to one `http://` URL over
//! a kept-alive connection, and the status of each answer.
//!
//! No TLS: a remote-write endpoint is reached inside its own network, or through a local proxy that
//! adds TLS. The answer's body is read whole (by its `Content-Length`, its chunks, or to the end of
//! the connection) so the connection can be used again, and its start is kept for the log.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The longest status line or header line read.
const MAX_LINE: usize = 8 << 10;
/// The most header lines read.
const MAX_HEADERS: usize = 100;
/// How much of an answer's body is kept (the rest is read and thrown away).
const KEPT_BODY: usize = 1024;

/// Where the POSTs go: an `http://host[:port][/path]` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpEndpoint {
    /// The URL as given.
    pub url: String,
    /// `host:port`, to connect to (the port defaults to 80).
    pub authority: String,
    /// The `Host` header: the URL's host and port as written.
    pub host: String,
    /// The path and query, `/` when there is none.
    pub path: String,
}

impl HttpEndpoint {
    /// Splits `url`.
    ///
    /// # Errors
    ///
    /// A message naming what is wrong: not `http://`, no host, a bad port.
    pub fn parse(url: &str) -> Result<HttpEndpoint, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url:?}: only http:// URLs are supported (use a local proxy for TLS)"))?;
        let (host, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        if host.is_empty() || host.contains('@') {
            return Err(format!("{url:?}: no host, or user information (not supported)"));
        }
        // An IPv6 literal is bracketed: its colons are not the port's.
        let port = match host.rfind(']') {
            Some(close) => host[close + 1..].strip_prefix(':'),
            None => host.rsplit_once(':').map(|(_, port)| port),
        };
        if let Some(port) = port {
            port.parse::<u16>().map_err(|_| format!("{url:?}: bad port {port:?}"))?;
        }
        let authority = if port.is_some() { host.to_owned() } else { format!("{host}:80") };
        Ok(HttpEndpoint { url: url.to_owned(), authority, host: host.to_owned(), path })
    }
}

/// An answer: its status and the start of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The first bytes of the body, for the log.
    pub body: Vec<u8>,
}

/// POSTs to one endpoint, keeping the connection open between requests.
#[derive(Debug)]
pub struct HttpClient {
    /// Where to.
    endpoint: HttpEndpoint,
    /// How long a connection may take to open.
    connect_timeout: Duration,
    /// How long a read or a write may wait.
    io_timeout: Duration,
    /// The open connection, if any.
    stream: Option<BufReader<TcpStream>>,
}

impl HttpClient {
    /// A client of `endpoint`; it connects at the first request.
    pub fn new(endpoint: HttpEndpoint, connect_timeout: Duration, io_timeout: Duration) -> HttpClient {
        HttpClient { endpoint, connect_timeout, io_timeout, stream: None }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &HttpEndpoint {
        &self.endpoint
    }

    /// POSTs `body` with `headers` (besides `Host`, `Content-Length` and `User-Agent`) and reads the
    /// answer. A kept-alive connection that turns out to have been closed by the server meanwhile is
    /// replaced once, at once.
    ///
    /// # Errors
    ///
    /// When the endpoint cannot be reached, a read or write fails or times out, or the answer is
    /// not HTTP/1.x.
    pub fn post(&mut self, headers: &[(&str, &str)], body: &[u8]) -> io::Result<HttpResponse> {
        let reused = self.stream.is_some();
        match self.exchange(headers, body) {
            Err(err) if reused && is_closed(&err) => {
                self.stream = None;
                self.exchange(headers, body)
            }
            result => result,
        }
    }

    /// One request and its answer; the connection is dropped on any error.
    fn exchange(&mut self, headers: &[(&str, &str)], body: &[u8]) -> io::Result<HttpResponse> {
        let result = self.try_exchange(headers, body);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn try_exchange(&mut self, headers: &[(&str, &str)], body: &[u8]) -> io::Result<HttpResponse> {
        if self.stream.is_none() {
            self.stream = Some(BufReader::new(self.connect()?));
        }
        let Some(reader) = self.stream.as_mut() else { unreachable!("connected above") };
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: monitor-relay\r\nContent-Length: {}\r\n",
            self.endpoint.path,
            self.endpoint.host,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        reader.get_mut().write_all(&bytes)?;

        let status_line = read_line(reader)?;
        let status = parse_status(&status_line)?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for _ in 0..MAX_HEADERS {
            let line = read_line(reader)?;
            if line.is_empty() {
                let body = read_body(reader, status, length, chunked, &mut close)?;
                if close {
                    self.stream = None;
                }
                return Ok(HttpResponse { status, body });
            }
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|_| bad("bad Content-Length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        Err(bad("too many header lines"))
    }

    /// A new connection to the endpoint, trying each of its addresses.
    fn connect(&self) -> io::Result<TcpStream> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        for addr in self.endpoint.authority.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(self.io_timeout))?;
                    stream.set_write_timeout(Some(self.io_timeout))?;
                    return Ok(stream);
                }
                Err(err) => last = err,
            }
        }
        Err(last)
    }
}

/// The body after the headers: `length` bytes, chunks, nothing (1xx, 204, 304), or everything up
/// to the end of the connection (which then sets `close`). Keeps its first [`KEPT_BODY`] bytes.
fn read_body(
    reader: &mut BufReader<TcpStream>,
    status: u16,
    length: Option<u64>,
    chunked: bool,
    close: &mut bool,
) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(kept);
    }
    if chunked {
        loop {
            let line = read_line(reader)?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                while !read_line(reader)?.is_empty() {}
                return Ok(kept);
            }
            keep_exactly(reader, size, &mut kept)?;
            if !read_line(reader)?.is_empty() {
                return Err(bad("chunk not followed by CRLF"));
            }
        }
    }
    match length {
        Some(length) => keep_exactly(reader, length, &mut kept)?,
        None => {
            *close = true;
            keep(reader.by_ref(), &mut kept)?;
        }
    }
    Ok(kept)
}

/// Reads `len` bytes of `reader` as [`keep`] does; a connection closed before them is an error.
fn keep_exactly(reader: &mut BufReader<TcpStream>, len: u64, kept: &mut Vec<u8>) -> io::Result<()> {
    if keep(reader.by_ref().take(len), kept)? < len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside the body"));
    }
    Ok(())
}

/// Reads `from` to its end, keeping the first [`KEPT_BODY`] bytes in `kept`; how many were read.
fn keep(mut from: impl Read, kept: &mut Vec<u8>) -> io::Result<u64> {
    let mut chunk = [0u8; 4096];
    let mut total = 0;
    loop {
        let read = from.read(&mut chunk)?;
        if read == 0 {
            return Ok(total);
        }
        total += read as u64;
        let room = KEPT_BODY.saturating_sub(kept.len()).min(read);
        kept.extend_from_slice(&chunk[..room]);
    }
}

/// One line without its CRLF.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut line = Vec::new();
    let read = reader.by_ref().take(MAX_LINE as u64).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before the answer"));
    }
    if line.last() != Some(&b'\n') {
        return Err(bad("line too long or cut short"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| bad("header not UTF-8"))
}

/// The code of `HTTP/1.1 204 No Content`.
fn parse_status(line: &str) -> io::Result<u16> {
    let mut words = line.split(' ');
    match (words.next(), words.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => {
            code.parse().map_err(|_| bad("bad status code"))
        }
        _ => Err(bad("not an HTTP/1.x answer")),
    }
}

/// An answer that is not HTTP.
fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Whether `err` says the server had closed the connection (rather than that it is slow).
fn is_closed(err: &io::Error) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(err.kind(), BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_splits_into_where_to_connect_the_host_header_and_the_path() {
        let endpoint = HttpEndpoint::parse("http://vm:8428/api/v1/write").unwrap();
        assert_eq!((endpoint.authority.as_str(), endpoint.host.as_str()), ("vm:8428", "vm:8428"));
        assert_eq!(endpoint.path, "/api/v1/write");
        let endpoint = HttpEndpoint::parse("http://example.com?db=x").unwrap();
        assert_eq!((endpoint.authority.as_str(), endpoint.path.as_str()), ("example.com:80", "/?db=x"));
        let endpoint = HttpEndpoint::parse("http://[::1]:9090").unwrap();
        assert_eq!((endpoint.authority.as_str(), endpoint.path.as_str()), ("[::1]:9090", "/"));
        assert_eq!(HttpEndpoint::parse("http://[::1]/w").unwrap().authority, "[::1]:80");
    }

    #[test]
    fn urls_it_cannot_post_to_are_refused() {
        for url in ["https://vm:8428/api/v1/write", "vm:8428", "http://", "http://vm:99999/", "http://u@vm/"]
        {
            assert!(HttpEndpoint::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn a_status_line_gives_its_code() {
        assert_eq!(parse_status("HTTP/1.1 204 No Content").unwrap(), 204);
        assert_eq!(parse_status("HTTP/1.0 503").unwrap(), 503);
        assert!(parse_status("SSH-2.0-OpenSSH").is_err());
    }
}
