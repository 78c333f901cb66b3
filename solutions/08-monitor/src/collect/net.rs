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
    let mut stats = NetStats::new();
    for (index, line) in text.lines().enumerate() {
        if line.contains('|') || line.trim().is_empty() {
            continue;
        }
        let error = |reason: &str| ParseError::new(index + 1, reason);
        // Old kernels printed `eth0:123` with no space after the colon.
        let (name, counters) = line.split_once(':').ok_or_else(|| error("no interface name"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(error("empty interface name"));
        }
        let mut values = [0u64; 16];
        let mut count = 0;
        for field in counters.split_ascii_whitespace().take(values.len()) {
            values[count] = field.parse().map_err(|_| error("bad counter"))?;
            count += 1;
        }
        if count < values.len() {
            return Err(error("expected 16 counters"));
        }
        let counters = NetCounters {
            rx_bytes: values[0],
            rx_packets: values[1],
            rx_errors: values[2],
            rx_dropped: values[3],
            tx_bytes: values[8],
            tx_packets: values[9],
            tx_errors: values[10],
            tx_dropped: values[11],
        };
        stats.insert(name.to_owned(), counters);
    }
    Ok(stats)
}

/// `net.if.in.bytes`, `net.if.out.bytes` (bytes/s), `net.if.in.packets`, `net.if.out.packets`,
/// `net.if.in.errors`, `net.if.out.errors`, `net.if.in.dropped` and `net.if.out.dropped` (per
/// second), tagged `iface=NAME`, over the `seconds` between two readings, for each interface in
/// both.
///
/// A counter that went backwards gives no value for that interval; the interface's other counters
/// still do.
pub fn net_samples(prev: &NetStats, cur: &NetStats, seconds: f64) -> Vec<Sample> {
    let mut samples = Vec::new();
    for (iface, now) in cur {
        let Some(before) = prev.get(iface) else { continue };
        let rates = [
            ("net.if.in.bytes", before.rx_bytes, now.rx_bytes),
            ("net.if.out.bytes", before.tx_bytes, now.tx_bytes),
            ("net.if.in.packets", before.rx_packets, now.rx_packets),
            ("net.if.out.packets", before.tx_packets, now.tx_packets),
            ("net.if.in.errors", before.rx_errors, now.rx_errors),
            ("net.if.out.errors", before.tx_errors, now.tx_errors),
            ("net.if.in.dropped", before.rx_dropped, now.rx_dropped),
            ("net.if.out.dropped", before.tx_dropped, now.tx_dropped),
        ];
        for (metric, before, now) in rates {
            if let Some(rate) = per_second(before, now, seconds) {
                samples.push(Sample::gauge(metric, rate).tag("iface", iface.as_str()));
            }
        }
    }
    samples
}
