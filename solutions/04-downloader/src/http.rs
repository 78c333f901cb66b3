//! A small blocking HTTP/1.1 client over one `TcpStream`: given code, identical in the lab and the
//! reference. Lab 03 builds a client like this one step by step; here it is a tool, small enough to
//! read in one sitting.
//!
//! A [`Connection`] sends one request at a time and reads the answer's head with `httparse`; the
//! body is then read with [`Connection::read_body`], which returns bytes as they arrive, whatever the
//! framing (`Content-Length`, `Transfer-Encoding: chunked`, or until the server closes). When the
//! body has been read to its end and the server allows it, the same connection carries the next
//! request (keep-alive). Every read has a timeout, so a peer that stops sending is noticed: the read
//! fails with [`HttpError::Stalled`] instead of blocking forever.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::Url;

/// The longest response head accepted, and the longest line of chunked framing.
const MAX_HEAD: u64 = 64 * 1024;
/// The most headers a response may have.
const MAX_HEADERS: usize = 64;

/// Why a request failed at the HTTP level. Every variant but [`HttpError::Malformed`] is the kind of
/// failure a retry on a new connection can fix.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No connection could be made (refused, unreachable, timed out).
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// No byte arrived for the read timeout: the peer stalled.
    #[error("no data for {0:?}: the connection stalled")]
    Stalled(Duration),
    /// The server closed the connection early.
    #[error("the server closed the connection {0}")]
    Closed(&'static str),
    /// A read or write failed (a reset connection, usually).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The answer is not HTTP/1.1 as this client understands it.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// The head of an answer: status and headers. The body is read from the [`Connection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code: 200, 206, 404…
    pub status: u16,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first header with this name (case-insensitive), its value trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// The `Content-Length`, when present and a number.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }
}

/// How the rest of the current body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// No body left (or none at all, as for `HEAD`).
    Done,
    /// This many bytes left.
    Length(u64),
    /// `Transfer-Encoding: chunked`: the next thing is a chunk-size line.
    ChunkSize,
    /// Inside a chunk, this many bytes left before its CRLF.
    ChunkData(u64),
    /// Until the server closes the connection.
    UntilClose,
}

/// One kept-alive HTTP/1.1 connection to one server.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<TcpStream>,
    host: String,
    body: Framing,
    keep_alive: bool,
    read_timeout: Duration,
}

impl Connection {
    /// Connects to `url`'s host and port. Every later read fails with [`HttpError::Stalled`] when no
    /// byte arrives for `read_timeout`.
    ///
    /// # Errors
    ///
    /// [`HttpError::Connect`] when the name does not resolve or no address accepts in `connect_timeout`.
    pub fn open(
        url: &Url,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<Connection, HttpError> {
        let addr = url.authority();
        let connect_error = |source| HttpError::Connect { addr: addr.clone(), source };
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the name resolves to no address");
        for candidate in addr.to_socket_addrs().map_err(connect_error)? {
            match TcpStream::connect_timeout(&candidate, connect_timeout) {
                Ok(stream) => {
                    // Requests are written in one call; Nagle's delay would only slow the next one.
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(read_timeout))?;
                    stream.set_write_timeout(Some(read_timeout))?;
                    return Ok(Connection {
                        reader: BufReader::with_capacity(64 * 1024, stream),
                        host: addr.clone(),
                        body: Framing::Done,
                        keep_alive: true,
                        read_timeout,
                    });
                }
                Err(err) => last = err,
            }
        }
        Err(connect_error(last))
    }

    /// Whether the previous answer was read to its end and the server keeps the connection open:
    /// only then can it carry another request.
    pub fn is_reusable(&self) -> bool {
        // A Content-Length body read to its last byte is finished even before a read returns 0.
        self.keep_alive && matches!(self.body, Framing::Done | Framing::Length(0))
    }

    /// Sends `method target` with `headers` (besides `Host`) and reads the answer's head.
    ///
    /// # Errors
    ///
    /// Any [`HttpError`]; [`HttpError::Malformed`] also when the previous body was not read to its
    /// end (the connection is out of step: open a new one).
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, HttpError> {
        if !self.is_reusable() {
            return Err(HttpError::Malformed("the connection cannot carry another request".into()));
        }
        let mut request =
            format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: downloader/0.1\r\n", self.host);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.reader.get_mut().write_all(request.as_bytes()).map_err(|err| self.classify(err))?;

        let head = self.read_head()?;
        let mut parsed_headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut parsed_headers);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(HttpError::Malformed("incomplete head".into())),
            Err(err) => return Err(HttpError::Malformed(err.to_string())),
        }
        let response = Response {
            status: parsed.code.unwrap_or_default(),
            headers: parsed
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                .collect(),
        };
        let closes = response.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        self.keep_alive = parsed.version == Some(1) && !closes;
        let chunked =
            response.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        self.body = if method == "HEAD" || matches!(response.status, 100..=199 | 204 | 304) {
            Framing::Done
        } else if chunked {
            Framing::ChunkSize
        } else if let Some(length) = response.header("content-length") {
            Framing::Length(
                length.parse().map_err(|_| HttpError::Malformed(format!("Content-Length {length:?}")))?,
            )
        } else {
            Framing::UntilClose
        };
        if self.body == Framing::UntilClose {
            self.keep_alive = false;
        }
        Ok(response)
    }

    /// Reads the next bytes of the current body into `buf`, returning how many, as soon as any have
    /// arrived; `Ok(0)` at the end of the body.
    ///
    /// # Errors
    ///
    /// [`HttpError::Stalled`] after the read timeout, [`HttpError::Closed`] when the connection ends
    /// before the body does, [`HttpError::Io`] on a reset, [`HttpError::Malformed`] on bad chunking.
    pub fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        loop {
            match self.body {
                Framing::Done | Framing::Length(0) => {
                    self.body = Framing::Done;
                    return Ok(0);
                }
                Framing::Length(left) => {
                    let n = self.read_some(buf, left)?;
                    if n == 0 {
                        return Err(HttpError::Closed("in the middle of the body"));
                    }
                    self.body = Framing::Length(left - n as u64);
                    return Ok(n);
                }
                Framing::UntilClose => {
                    let n = self.read_some(buf, u64::MAX)?;
                    if n == 0 {
                        self.body = Framing::Done;
                    }
                    return Ok(n);
                }
                Framing::ChunkData(0) => {
                    let line = self.read_line()?;
                    if !line.trim_ascii().is_empty() {
                        return Err(HttpError::Malformed("no CRLF after a chunk".into()));
                    }
                    self.body = Framing::ChunkSize;
                }
                Framing::ChunkData(left) => {
                    let n = self.read_some(buf, left)?;
                    if n == 0 {
                        return Err(HttpError::Closed("in the middle of a chunk"));
                    }
                    self.body = Framing::ChunkData(left - n as u64);
                    return Ok(n);
                }
                Framing::ChunkSize => {
                    let line = self.read_line()?;
                    let size = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
                    let size = std::str::from_utf8(size)
                        .ok()
                        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                        .ok_or_else(|| {
                            HttpError::Malformed(format!("chunk size {:?}", String::from_utf8_lossy(&line)))
                        })?;
                    if size > 0 {
                        self.body = Framing::ChunkData(size);
                        continue;
                    }
                    // The last chunk: skip any trailers up to the empty line.
                    while !self.read_line()?.trim_ascii().is_empty() {}
                    self.body = Framing::Done;
                }
            }
        }
    }

    /// Reads and drops the rest of the body if it is at most `limit` bytes, so the connection can be
    /// reused; a longer body is abandoned and the connection is marked as not reusable.
    ///
    /// # Errors
    ///
    /// As [`Connection::read_body`].
    pub fn skip_body(&mut self, limit: u64) -> Result<(), HttpError> {
        let mut skipped = 0;
        let mut buf = [0; 8192];
        while skipped <= limit {
            match self.read_body(&mut buf)? {
                0 => return Ok(()),
                n => skipped += n as u64,
            }
        }
        self.keep_alive = false;
        Ok(())
    }

    fn read_some(&mut self, buf: &mut [u8], left: u64) -> Result<usize, HttpError> {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.reader.read(&mut buf[..want]).map_err(|err| self.classify(err))
    }

    /// One line of at most [`MAX_HEAD`] bytes, with its line ending.
    fn read_line(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut line = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_HEAD)
            .read_until(b'\n', &mut line)
            .map_err(|err| self.classify(err))?;
        if n == 0 {
            return Err(HttpError::Closed("before the end of the response head"));
        }
        if !line.ends_with(b"\n") {
            return Err(HttpError::Malformed("a line too long or cut short".into()));
        }
        Ok(line)
    }

    fn read_head(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut head = Vec::new();
        loop {
            let line = self.read_line()?;
            let end = line == b"\r\n" || line == b"\n";
            head.extend_from_slice(&line);
            if end && head.len() > line.len() {
                return Ok(head);
            }
            if head.len() as u64 > MAX_HEAD {
                return Err(HttpError::Malformed("response head too long".into()));
            }
        }
    }

    /// A read timeout shows up as `WouldBlock` (Unix) or `TimedOut` (Windows): both mean a stall.
    fn classify(&self, err: io::Error) -> HttpError {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::Stalled(self.read_timeout),
            _ => HttpError::Io(err),
        }
    }
}
