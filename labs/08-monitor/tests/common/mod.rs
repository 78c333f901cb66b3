//! Support shared by the stage tests: a loopback port held but not listening (a relay or a shard
//! that is down, and comes up later on the same address), points grouped by series, the varint of
//! the wire format, to build hostile payloads by hand, and a fake HTTP endpoint that records what
//! it is sent and answers as scripted.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::mem::size_of;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use monitor::{Millis, Point, SeriesKey};

/// A loopback port bound but not listening: connections to it are refused (the server there is
/// down) until [`ReservedPort::listen`], and no other test can take it meanwhile.
pub struct ReservedPort {
    fd: OwnedFd,
    /// Its address.
    pub addr: SocketAddr,
}

impl ReservedPort {
    /// A port of 127.0.0.1 the kernel picks.
    pub fn new() -> ReservedPort {
        // SAFETY: socket, bind and getsockname on a descriptor owned here, with a sockaddr_in
        // that lives across each call and its true size.
        unsafe {
            let raw = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(raw >= 0, "socket: {}", io::Error::last_os_error());
            let fd = OwnedFd::from_raw_fd(raw);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let sockaddr = (&raw mut addr).cast::<libc::sockaddr>();
            assert_eq!(libc::bind(raw, sockaddr, len), 0, "bind: {}", io::Error::last_os_error());
            assert_eq!(libc::getsockname(raw, sockaddr, &mut len), 0, "getsockname");
            let port = u16::from_be(addr.sin_port);
            ReservedPort { fd, addr: SocketAddr::from(([127, 0, 0, 1], port)) }
        }
    }

    /// The server comes up on this port.
    pub fn listen(self) -> TcpListener {
        // SAFETY: listen on a bound socket this value owns.
        let status = unsafe { libc::listen(self.fd.as_raw_fd(), 128) };
        assert_eq!(status, 0, "listen: {}", io::Error::last_os_error());
        TcpListener::from(self.fd)
    }
}

/// Each series' points in the order given, as (time, the value's bits): what "in order per
/// series, none lost, none twice" compares.
pub fn by_series(points: &[Point]) -> BTreeMap<SeriesKey, Vec<(Millis, u64)>> {
    let mut series = BTreeMap::<SeriesKey, Vec<(Millis, u64)>>::new();
    for point in points {
        series.entry(point.series()).or_default().push((point.timestamp, point.value.to_bits()));
    }
    series
}

/// Appends `value` as a LEB128 varint, to build hostile payloads by hand.
pub fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// One request the endpoint received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request line, as `POST /api/v1/write HTTP/1.1`.
    pub line: String,
    /// The headers, their names in lower case.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
}

/// An HTTP endpoint on loopback answering each request with the next scripted status (204 once
/// the script is done; 0 holds the request unanswered for a minute, as a server that hangs).
pub struct FakeEndpoint {
    /// Its address.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeEndpoint {
    pub fn start(script: &[u16]) -> FakeEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
        {
            let requests = requests.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let (requests, script) = (requests.clone(), script.clone());
                    thread::spawn(move || serve_http(stream, &requests, &script));
                }
            });
        }
        FakeEndpoint { addr, requests }
    }

    /// Its URL, with the path remote write posts to.
    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    /// The requests it has received, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_http(stream: TcpStream, requests: &Mutex<Vec<Request>>, script: &Mutex<VecDeque<u16>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        let length: usize = headers.get("content-length").map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let status = script.lock().unwrap().pop_front().unwrap_or(204);
        requests.lock().unwrap().push(Request { line: line.trim_end().to_owned(), headers, body });
        if status == 0 {
            thread::sleep(Duration::from_secs(60));
            return;
        }
        let answer = match status {
            204 => "HTTP/1.1 204 No Content\r\n\r\n".to_owned(),
            code => format!("HTTP/1.1 {code} Oops\r\nContent-Length: 11\r\n\r\nnot today\r\n"),
        };
        if reader.get_mut().write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
