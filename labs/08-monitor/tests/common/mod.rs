//! Support shared by the stage tests: a loopback port held but not listening (a relay or a shard
//! that is down, and comes up later on the same address), points grouped by series, and the
//! varint of the wire format, to build hostile payloads by hand.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

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
