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
    todo!(
        "stage 1: the Active connections line, the three numbers after the header line, and Reading: Writing: Waiting:"
    )
}

/// `nginx.connections.active`, `.reading`, `.writing`, `.waiting` (gauges), and
/// `nginx.connections.accepted`, `nginx.connections.handled`, `nginx.requests` (counters since nginx
/// started: the store computes their rates).
pub fn stub_status_samples(status: &StubStatus) -> Vec<Sample> {
    todo!("stage 1: four gauges and three counters")
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
    todo!(
        "stage 1: http://host[:port]/path; connect_timeout, an HTTP/1.0 GET, read to the end with a read timeout, all within one deadline; body_of"
    )
}

/// The body of a complete HTTP/1.x answer whose status is 200.
fn body_of(response: &[u8]) -> Result<String, String> {
    todo!("stage 1: split at the blank line; a status line HTTP/1.x 200")
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
        todo!("stage 1: keep the URL, interval and timeout")
    }
}

impl Collector for NginxStatusCollector {
    fn name(&self) -> &str {
        todo!("stage 1: \"nginx\"")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!("stage 1: http_get, parse_stub_status, stub_status_samples")
    }
}
