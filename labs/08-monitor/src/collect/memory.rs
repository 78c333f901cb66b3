//! Memory from `/proc/meminfo`: how much the machine has, and how much it can still give.
//!
//! The number that matters is `MemAvailable` (Linux 3.14 and later): the kernel's estimate of how
//! much memory new work can get without swapping, free memory plus the page cache and reclaimable
//! slab it could drop. `MemFree` alone looks alarmingly low on any machine that has been up a while,
//! because the kernel keeps free memory busy as cache. node_exporter exposes the same field as
//! `node_memory_MemAvailable_bytes`, and "used" here is `total − available`, as in its users'
//! `1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes`.

use super::ParseError;
use crate::Sample;

/// What `/proc/meminfo` says, in bytes (the file says kB, meaning KiB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemInfo {
    /// `MemTotal`: usable RAM.
    pub total: u64,
    /// `MemFree`: RAM nobody uses, not even the cache.
    pub free: u64,
    /// `MemAvailable`, absent before Linux 3.14.
    pub available: Option<u64>,
    /// `Buffers`: block-device cache.
    pub buffers: u64,
    /// `Cached`: the page cache.
    pub cached: u64,
    /// `SwapTotal`.
    pub swap_total: u64,
    /// `SwapFree`.
    pub swap_free: u64,
}

impl MemInfo {
    /// `MemAvailable`, or on kernels without it the old estimate `free + buffers + cached`.
    pub fn available(&self) -> u64 {
        todo!("stage 1: MemAvailable, or free + buffers + cached")
    }
}

/// Parses `/proc/meminfo`: `Name:   value kB` lines. Fields other than [`MemInfo`]'s are skipped.
///
/// # Errors
///
/// [`ParseError`] when `MemTotal` is missing, or one of [`MemInfo`]'s fields is not a number.
pub fn parse_meminfo(text: &str) -> Result<MemInfo, ParseError> {
    todo!("stage 1: Name: value kB lines (parse_kib) for MemInfo's fields; MemTotal must be there")
}

/// `   123 kB` as bytes; a value without a unit is taken as it is.
fn parse_kib(value: &str) -> Option<u64> {
    todo!("stage 1: a number and kB (× 1024), or a number alone")
}

/// `mem.total`, `mem.available`, `mem.free`, `mem.buffers`, `mem.cached`, `mem.used` (bytes),
/// `mem.used.percent` and `mem.available.percent` (when the total is not 0), and
/// `mem.swap.total`, `mem.swap.free`, `mem.swap.used` (bytes) with `mem.swap.used.percent` when
/// there is swap.
///
/// `mem.used` is `total − available` ([`MemInfo::available`]), and `mem.used.percent` is
/// `100 × used / total`.
pub fn memory_samples(info: &MemInfo) -> Vec<Sample> {
    todo!(
        "stage 1: the mem.* samples in bytes; used = total − available; percentages only when their total is not 0"
    )
}
