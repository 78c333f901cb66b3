//! Disk I/O from `/proc/diskstats`: bytes, requests and busy time per disk, as rates between two
//! readings.
//!
//! Each line is `major minor name` and at least eleven counters since boot (fourteen more fields
//! since Linux 4.18 and 5.5, for discards and flushes): reads completed, reads merged, sectors read,
//! ms reading, writes completed, writes merged, sectors written, ms writing, I/Os in progress, ms
//! doing I/O, weighted ms. A sector here is always 512 bytes, whatever the disk's own sector size.
//!
//! Partitions would count their disk's I/O twice, and loop and RAM devices are not disks: the
//! devices skipped are node_exporter's default, `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`
//! ([`is_skipped_device`]), so the two report the same devices.

use std::collections::BTreeMap;

use super::{ParseError, per_second};
use crate::Sample;

/// The bytes in one of `/proc/diskstats`'s sectors.
pub const SECTOR_BYTES: u64 = 512;

/// One device's counters since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskCounters {
    /// Reads completed.
    pub reads: u64,
    /// Sectors read.
    pub read_sectors: u64,
    /// Milliseconds spent reading.
    pub read_ms: u64,
    /// Writes completed.
    pub writes: u64,
    /// Sectors written.
    pub write_sectors: u64,
    /// Milliseconds spent writing.
    pub write_ms: u64,
    /// Milliseconds during which some I/O was in progress.
    pub io_ms: u64,
}

/// One reading of `/proc/diskstats`: every device, by name.
pub type DiskStats = BTreeMap<String, DiskCounters>;

/// Parses `/proc/diskstats`, every device included.
///
/// # Errors
///
/// [`ParseError`] for a line with fewer than fourteen fields, or a counter that is not a number.
pub fn parse_diskstats(text: &str) -> Result<DiskStats, ParseError> {
    let mut stats = DiskStats::new();
    for (index, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() < 14 {
            return Err(ParseError::new(index + 1, "expected at least 14 fields"));
        }
        let number = |at: usize| {
            fields[at].parse::<u64>().map_err(|_| ParseError::new(index + 1, format!("bad field {}", at + 1)))
        };
        let counters = DiskCounters {
            reads: number(3)?,
            read_sectors: number(5)?,
            read_ms: number(6)?,
            writes: number(7)?,
            write_sectors: number(9)?,
            write_ms: number(10)?,
            io_ms: number(12)?,
        };
        stats.insert(fields[2].to_owned(), counters);
    }
    Ok(stats)
}

/// Whether node_exporter skips the device by default: a RAM, loop or floppy device, or a partition
/// of an IDE, SCSI/SATA, virtio, Xen or NVMe disk (`sda1`, `vdb2`, `nvme0n1p1`; not `sda` itself).
pub fn is_skipped_device(name: &str) -> bool {
    let digits = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
    for prefix in ["ram", "zram", "loop", "fd"] {
        if name.strip_prefix(prefix).is_some_and(digits) {
            return true;
        }
    }
    for prefix in ["hd", "sd", "vd", "xvd"] {
        let Some(rest) = name.strip_prefix(prefix) else { continue };
        let mut chars = rest.chars();
        if chars.next().is_some_and(|letter| letter.is_ascii_lowercase()) && digits(chars.as_str()) {
            return true;
        }
    }
    // nvme<controller>n<namespace>p<partition>
    let Some(rest) = name.strip_prefix("nvme") else { return false };
    let Some((controller, rest)) = rest.split_once('n') else { return false };
    let Some((namespace, partition)) = rest.split_once('p') else { return false };
    digits(controller) && digits(namespace) && digits(partition)
}

/// `disk.io.read_bytes`, `disk.io.write_bytes` (bytes/s), `disk.io.reads`, `disk.io.writes`
/// (requests/s), `disk.io.util` (% of the time some I/O was in progress) and `disk.io.await` (mean
/// ms per request, when there were any), tagged `device=NAME`, over the `seconds` between two
/// readings, for each device in both that [`is_skipped_device`] keeps.
///
/// Bytes are sectors × [`SECTOR_BYTES`]. A counter that went backwards gives no value for that
/// interval; the device's other counters still do.
pub fn disk_samples(prev: &DiskStats, cur: &DiskStats, seconds: f64) -> Vec<Sample> {
    let mut samples = Vec::new();
    for (device, now) in cur {
        let Some(before) = prev.get(device) else { continue };
        if is_skipped_device(device) {
            continue;
        }
        let bytes = |sectors: Option<f64>| sectors.map(|rate| rate * SECTOR_BYTES as f64);
        let rates = [
            ("disk.io.read_bytes", bytes(per_second(before.read_sectors, now.read_sectors, seconds))),
            ("disk.io.write_bytes", bytes(per_second(before.write_sectors, now.write_sectors, seconds))),
            ("disk.io.reads", per_second(before.reads, now.reads, seconds)),
            ("disk.io.writes", per_second(before.writes, now.writes, seconds)),
            ("disk.io.util", per_second(before.io_ms, now.io_ms, seconds).map(|ms| ms / 10.0)),
            ("disk.io.await", await_ms(before, now)),
        ];
        for (metric, value) in rates {
            if let Some(value) = value {
                samples.push(Sample::gauge(metric, value).tag("device", device.as_str()));
            }
        }
    }
    samples
}

/// The mean milliseconds per request completed between two readings, if any was.
fn await_ms(before: &DiskCounters, now: &DiskCounters) -> Option<f64> {
    let requests =
        (now.reads.checked_sub(before.reads)?).checked_add(now.writes.checked_sub(before.writes)?)?;
    let ms =
        (now.read_ms.checked_sub(before.read_ms)?).checked_add(now.write_ms.checked_sub(before.write_ms)?)?;
    (requests > 0).then(|| ms as f64 / requests as f64)
}
