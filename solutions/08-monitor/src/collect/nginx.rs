//! nginx's `stub_status` page, fetched over HTTP: connections by state, and requests served.
//!
//! With `location = /nginx_status { stub_status; allow 127.0.0.1; deny all; }` in its
//! configuration, nginx answers a GET with four lines:
//!
//! ```text
//! Active connections: 291
//! server accepts handled requests
//!  16630948 16630948 31070465
//! Reading: 6 Writing: 179 Waiting: 106
//! ```
//!
//! The request is plain HTTP/1.0 on a `std` socket, with one deadline for connecting, sending and
//! reading: nginx answers an HTTP/1.0 request with a body that ends when the connection closes, so
//! no chunked encoding, and the page is local, so no TLS.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{CollectError, Collector, ParseError};
use crate::{Millis, Sample};

/// The most of an answer read: a `stub_status` page is about 100 bytes.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// What `stub_status` says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StubStatus {
    /// Open client connections, idle ones included.
    pub active: u64,
    /// Connections accepted since nginx started.
    pub accepts: u64,
    /// Connections handled (fewer than accepted only when a limit was hit).
    pub handled: u64,
    /// Requests served.
    pub requests: u64,
    /// Connections reading a request.
    pub reading: u64,
    /// Connections writing a response.
    pub writing: u64,
    /// Idle keep-alive connections.
    pub waiting: u64,
}

/// Parses a `stub_status` page.
///
/// # Errors
///
/// [`ParseError`] naming the first of its three parts that is missing or not numbers.
pub fn parse_stub_status(text: &str) -> Result<StubStatus, ParseError> {
    let mut status = StubStatus::default();
    let (mut active, mut totals, mut states) = (false, false, false);
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let line = line.trim();
        let error = |reason: &str| ParseError::new(index + 1, reason);
        if let Some(value) = line.strip_prefix("Active connections:") {
            status.active = value.trim().parse().map_err(|_| error("bad active connections"))?;
            active = true;
        } else if line == "server accepts handled requests" {
            let (index, numbers) = lines.next().ok_or_else(|| error("no totals after the header"))?;
            let numbers: Vec<u64> = numbers.split_ascii_whitespace().map_while(|n| n.parse().ok()).collect();
            let [accepts, handled, requests, ..] = numbers[..] else {
                return Err(ParseError::new(index + 1, "expected accepts, handled and requests"));
            };
            (status.accepts, status.handled, status.requests) = (accepts, handled, requests);
            totals = true;
        } else if line.starts_with("Reading:") {
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            let [_, reading, _, writing, _, waiting] = words[..] else {
                return Err(error("expected Reading: N Writing: N Waiting: N"));
            };
            let number = |word: &str| word.parse::<u64>().map_err(|_| error("bad connection count"));
            (status.reading, status.writing, status.waiting) =
                (number(reading)?, number(writing)?, number(waiting)?);
            states = true;
        }
    }
    match (active, totals, states) {
        (true, true, true) => Ok(status),
        (false, _, _) => Err(ParseError::new(0, "no Active connections line")),
        (_, false, _) => Err(ParseError::new(0, "no accepts/handled/requests totals")),
        (_, _, false) => Err(ParseError::new(0, "no Reading/Writing/Waiting line")),
    }
}

/// `nginx.connections.active`, `.reading`, `.writing`, `.waiting` (gauges), and
/// `nginx.connections.accepted`, `nginx.connections.handled`, `nginx.requests` (counters since nginx
/// started: the store computes their rates).
pub fn stub_status_samples(status: &StubStatus) -> Vec<Sample> {
    vec![
        Sample::gauge("nginx.connections.active", status.active as f64),
        Sample::gauge("nginx.connections.reading", status.reading as f64),
        Sample::gauge("nginx.connections.writing", status.writing as f64),
        Sample::gauge("nginx.connections.waiting", status.waiting as f64),
        Sample::counter("nginx.connections.accepted", status.accepts as f64),
        Sample::counter("nginx.connections.handled", status.handled as f64),
        Sample::counter("nginx.requests", status.requests as f64),
    ]
}

/// GETs an `http://host[:port]/path` URL and returns the body of a 200 answer, all within
/// `timeout`. Resolving a host name is the system's business and not bounded by it: give nginx's
/// address as an IP, as its `allow 127.0.0.1` wants anyway.
///
/// # Errors
///
/// [`CollectError::Http`] for a URL that is not `http://`, a name that does not resolve, a refused
/// connection, no complete answer within `timeout` or within [`MAX_RESPONSE`] bytes, or a status
/// other than 200.
pub fn http_get(url: &str, timeout: Duration) -> Result<String, CollectError> {
    let fail = |reason: String| CollectError::Http { url: url.to_owned(), reason };
    let rest = url.strip_prefix("http://").ok_or_else(|| fail("only http:// URLs are supported".into()))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |slash| (&rest[..slash], &rest[slash..]));
    let has_port = authority.rsplit_once(':').is_some_and(|(_, port)| !port.ends_with(']'));
    let address = if has_port { authority.to_owned() } else { format!("{authority}:80") };
    let deadline = Instant::now() + timeout;
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| fail(format!("no answer within {timeout:?}")))
    };

    let addrs =
        address.to_socket_addrs().map_err(|err| fail(format!("cannot resolve {authority}: {err}")))?;
    let mut last_error = None;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining()?) {
            Ok(connected) => {
                stream = Some(connected);
                break;
            }
            Err(err) => last_error = Some(err),
        }
    }
    let mut stream = stream.ok_or_else(|| match last_error {
        Some(err) => fail(format!("cannot connect: {err}")),
        None => fail(format!("{authority} has no address")),
    })?;

    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: monitor-agent\r\nAccept: */*\r\n\r\n"
    );
    stream.set_write_timeout(Some(remaining()?)).map_err(|err| fail(err.to_string()))?;
    stream.write_all(request.as_bytes()).map_err(|err| fail(format!("cannot send the request: {err}")))?;
    let mut response = Vec::new();
    let mut block = [0u8; 4096];
    loop {
        stream.set_read_timeout(Some(remaining()?)).map_err(|err| fail(err.to_string()))?;
        match stream.read(&mut block) {
            Ok(0) => break,
            Ok(read) => response.extend_from_slice(&block[..read]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err)
                if matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                return Err(fail(format!("no answer within {timeout:?}")));
            }
            Err(err) => return Err(fail(format!("cannot read the answer: {err}"))),
        }
        if response.len() > MAX_RESPONSE {
            return Err(fail(format!("answer longer than {MAX_RESPONSE} bytes")));
        }
    }
    body_of(&response).map_err(fail)
}

/// The body of a complete HTTP/1.x answer whose status is 200.
fn body_of(response: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("the answer ended inside its headers")?;
    let status_line = head.lines().next().unwrap_or_default();
    let mut words = status_line.split_ascii_whitespace();
    match (words.next(), words.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(body.to_owned()),
        (Some(version), Some(_)) if version.starts_with("HTTP/1.") => {
            Err(format!("answered {status_line:?}"))
        }
        _ => Err(format!("not an HTTP answer: {status_line:?}")),
    }
}

/// Reads nginx's `stub_status` page at each tick.
#[derive(Debug)]
pub struct NginxStatusCollector {
    url: String,
    interval: Duration,
    timeout: Duration,
}

impl NginxStatusCollector {
    /// A collector fetching `url` (`http://127.0.0.1/nginx_status`) every `interval`, giving up
    /// after `timeout`.
    pub fn new(url: impl Into<String>, interval: Duration, timeout: Duration) -> NginxStatusCollector {
        NginxStatusCollector { url: url.into(), interval, timeout }
    }
}

impl Collector for NginxStatusCollector {
    fn name(&self) -> &str {
        "nginx"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let body = http_get(&self.url, self.timeout)?;
        let status = parse_stub_status(&body)
            .map_err(|source| CollectError::Response { url: self.url.clone(), source })?;
        Ok(stub_status_samples(&status))
    }
}
