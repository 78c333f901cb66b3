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
    todo!(
        "stage 1: major minor name and at least 11 counters per line; an error naming a short or non-numeric line"
    )
}

/// Whether node_exporter skips the device by default: a RAM, loop or floppy device, or a partition
/// of an IDE, SCSI/SATA, virtio, Xen or NVMe disk (`sda1`, `vdb2`, `nvme0n1p1`; not `sda` itself).
pub fn is_skipped_device(name: &str) -> bool {
    todo!("stage 1: ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$ without a regex")
}

/// `disk.io.read_bytes`, `disk.io.write_bytes` (bytes/s), `disk.io.reads`, `disk.io.writes`
/// (requests/s), `disk.io.util` (% of the time some I/O was in progress) and `disk.io.await` (mean
/// ms per request, when there were any), tagged `device=NAME`, over the `seconds` between two
/// readings, for each device in both that [`is_skipped_device`] keeps.
///
/// Bytes are sectors × [`SECTOR_BYTES`]. A counter that went backwards gives no value for that
/// interval; the device's other counters still do.
pub fn disk_samples(prev: &DiskStats, cur: &DiskStats, seconds: f64) -> Vec<Sample> {
    todo!(
        "stage 1: for devices in both readings that are not skipped: per_second of each counter, sectors × 512, util and await"
    )
}

/// The mean milliseconds per request completed between two readings, if any was.
fn await_ms(before: &DiskCounters, now: &DiskCounters) -> Option<f64> {
    todo!(
        "stage 1: (Δread_ms + Δwrite_ms) / (Δreads + Δwrites), None if no request or a counter went backwards"
    )
}
