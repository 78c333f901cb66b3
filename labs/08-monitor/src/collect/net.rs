//! Network traffic from `/proc/net/dev`: bytes, packets, errors and drops per interface, as rates
//! between two readings.
//!
//! After two header lines, one line per interface: `  eth0: ` then eight receive counters (bytes
//! packets errs drop fifo frame compressed multicast) and eight transmit counters (bytes packets
//! errs drop fifo colls carrier compressed). Every interface is reported, `lo` included, as
//! node_exporter does by default (`node_network_receive_bytes_total{device=…}`).
//!
//! Some drivers keep 32-bit counters that wrap after 4 GiB, and a driver reset or a re-created
//! interface starts again from 0: a counter that went backwards gives no value for that interval.

use std::collections::BTreeMap;

use super::{ParseError, per_second};
use crate::Sample;

/// One interface's counters since it came up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetCounters {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Packets dropped on the way out.
    pub tx_dropped: u64,
}

/// One reading of `/proc/net/dev`: every interface, by name.
pub type NetStats = BTreeMap<String, NetCounters>;

/// Parses `/proc/net/dev`. The header lines (the ones with a `|`) are skipped.
///
/// # Errors
///
/// [`ParseError`] for a line without `name:`, with fewer than sixteen counters, or with one that is
/// not a number.
pub fn parse_net_dev(text: &str) -> Result<NetStats, ParseError> {
    todo!("stage 1: skip the header lines (with |); name: then 16 counters")
}

/// `net.if.in.bytes`, `net.if.out.bytes` (bytes/s), `net.if.in.packets`, `net.if.out.packets`,
/// `net.if.in.errors`, `net.if.out.errors`, `net.if.in.dropped` and `net.if.out.dropped` (per
/// second), tagged `iface=NAME`, over the `seconds` between two readings, for each interface in
/// both.
///
/// A counter that went backwards gives no value for that interval; the interface's other counters
/// still do.
pub fn net_samples(prev: &NetStats, cur: &NetStats, seconds: f64) -> Vec<Sample> {
    todo!("stage 1: for interfaces in both readings, per_second of each of the eight counters, tagged iface")
}
