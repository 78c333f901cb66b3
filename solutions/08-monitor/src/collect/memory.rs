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
        self.available.unwrap_or_else(|| self.free.saturating_add(self.buffers).saturating_add(self.cached))
    }
}

/// Parses `/proc/meminfo`: `Name:   value kB` lines. Fields other than [`MemInfo`]'s are skipped.
///
/// # Errors
///
/// [`ParseError`] when `MemTotal` is missing, or one of [`MemInfo`]'s fields is not a number.
pub fn parse_meminfo(text: &str) -> Result<MemInfo, ParseError> {
    let mut info = MemInfo::default();
    let mut has_total = false;
    for (index, line) in text.lines().enumerate() {
        let Some((name, rest)) = line.split_once(':') else { continue };
        let field = match name.trim() {
            "MemTotal" => {
                has_total = true;
                &mut info.total
            }
            "MemFree" => &mut info.free,
            "MemAvailable" => info.available.insert(0),
            "Buffers" => &mut info.buffers,
            "Cached" => &mut info.cached,
            "SwapTotal" => &mut info.swap_total,
            "SwapFree" => &mut info.swap_free,
            _ => continue,
        };
        *field =
            parse_kib(rest).ok_or_else(|| ParseError::new(index + 1, format!("bad value for {name}")))?;
    }
    if !has_total {
        return Err(ParseError::new(0, "no MemTotal"));
    }
    Ok(info)
}

/// `   123 kB` as bytes; a value without a unit is taken as it is.
fn parse_kib(value: &str) -> Option<u64> {
    let mut words = value.split_ascii_whitespace();
    let number: u64 = words.next()?.parse().ok()?;
    match (words.next(), words.next()) {
        (Some("kB"), None) => number.checked_mul(1024),
        (None, None) => Some(number),
        _ => None,
    }
}

/// `mem.total`, `mem.available`, `mem.free`, `mem.buffers`, `mem.cached`, `mem.used` (bytes),
/// `mem.used.percent` and `mem.available.percent` (when the total is not 0), and
/// `mem.swap.total`, `mem.swap.free`, `mem.swap.used` (bytes) with `mem.swap.used.percent` when
/// there is swap.
///
/// `mem.used` is `total − available` ([`MemInfo::available`]), and `mem.used.percent` is
/// `100 × used / total`.
pub fn memory_samples(info: &MemInfo) -> Vec<Sample> {
    let available = info.available();
    let used = info.total.saturating_sub(available);
    let mut samples = vec![
        Sample::gauge("mem.total", info.total as f64),
        Sample::gauge("mem.available", available as f64),
        Sample::gauge("mem.free", info.free as f64),
        Sample::gauge("mem.buffers", info.buffers as f64),
        Sample::gauge("mem.cached", info.cached as f64),
        Sample::gauge("mem.used", used as f64),
    ];
    if info.total > 0 {
        let total = info.total as f64;
        samples.push(Sample::gauge("mem.used.percent", 100.0 * used as f64 / total));
        samples
            .push(Sample::gauge("mem.available.percent", 100.0 * available.min(info.total) as f64 / total));
    }
    let swap_used = info.swap_total.saturating_sub(info.swap_free);
    samples.push(Sample::gauge("mem.swap.total", info.swap_total as f64));
    samples.push(Sample::gauge("mem.swap.free", info.swap_free as f64));
    samples.push(Sample::gauge("mem.swap.used", swap_used as f64));
    if info.swap_total > 0 {
        samples
            .push(Sample::gauge("mem.swap.used.percent", 100.0 * swap_used as f64 / info.swap_total as f64));
    }
    samples
}
