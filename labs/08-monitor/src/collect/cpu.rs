//! CPU time from `/proc/stat`: how busy each core and the whole machine were between two readings.
//!
//! The kernel counts, per core, the time (in ticks of `USER_HZ`, normally 1/100 s) spent in each
//! mode since boot: `cpuN user nice system idle iowait irq softirq steal guest guest_nice`, and the
//! sum over every core on the line `cpu`. A percentage is a mode's share of the ticks that passed
//! between two readings, the same arithmetic as node_exporter's
//! `rate(node_cpu_seconds_total{mode=…})` divided by the rate of all modes.
//!
//! Three things make it less simple than it looks:
//!
//! - `guest` and `guest_nice` (time running a virtual machine's CPU) are already counted in `user`
//!   and `nice`, so the total leaves them out, or they would count twice.
//! - A counter can go backwards: `iowait` does on some kernels, a 32-bit counter wraps, and a core
//!   taken offline and back may start again from 0. Such a core gives nothing for that interval.
//! - Cores come and go (hotplug, `chcpu`): a core needs a reading on both sides to give a value.

use std::collections::BTreeMap;

use super::ParseError;
use crate::Sample;

/// The ticks one core (or all of them) spent in each mode since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Running user code (guest time included).
    pub user: u64,
    /// Running niced user code (guest_nice included).
    pub nice: u64,
    /// Running the kernel.
    pub system: u64,
    /// Idle.
    pub idle: u64,
    /// Idle while some I/O was outstanding.
    pub iowait: u64,
    /// Serving hardware interrupts.
    pub irq: u64,
    /// Serving software interrupts.
    pub softirq: u64,
    /// Wanting to run while the hypervisor ran something else.
    pub steal: u64,
    /// Running a guest's virtual CPU (also in `user`).
    pub guest: u64,
    /// Running a niced guest (also in `nice`).
    pub guest_nice: u64,
}

impl CpuTimes {
    /// Every tick that passed: the eight modes, without guest time, which user and nice hold.
    pub fn total(&self) -> u64 {
        todo!("stage 1: user + nice + system + idle + iowait + irq + softirq + steal (not guest), saturating")
    }

    /// The ticks from `earlier` to `self`, or `None` if any counter went backwards.
    fn since(&self, earlier: &CpuTimes) -> Option<CpuTimes> {
        todo!("stage 1: each field's checked_sub; None if any went backwards")
    }
}

/// One reading of `/proc/stat`'s CPU lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuStat {
    /// The `cpu` line: every core together.
    pub total: CpuTimes,
    /// The `cpuN` lines, by N: the cores online at the time.
    pub cores: BTreeMap<u32, CpuTimes>,
}

/// Parses the CPU lines of `/proc/stat`; the other lines (`intr`, `ctxt`, …) are skipped.
///
/// Older kernels print fewer columns (no steal, no guest): the missing ones are 0.
///
/// # Errors
///
/// [`ParseError`] when the `cpu` line is missing, or a CPU line has fewer than four numbers or one
/// that is not a number.
pub fn parse_cpu_stat(text: &str) -> Result<CpuStat, ParseError> {
    todo!(
        "stage 1: the cpu and cpuN lines (parse_times); an error naming the line; the cpu line must be there"
    )
}

/// The columns after a `cpu` label: at least four (user nice system idle), at most ten.
fn parse_times<'a>(fields: impl Iterator<Item = &'a str>) -> Option<CpuTimes> {
    todo!("stage 1: 4 to 10 numbers, the missing ones 0")
}

/// The percentages between two readings: `cpu.busy`, `cpu.user`, `cpu.nice`, `cpu.system`,
/// `cpu.idle`, `cpu.iowait`, `cpu.irq`, `cpu.softirq`, `cpu.steal`, `cpu.guest`, untagged for the
/// machine and tagged `cpu=N` for each core that is in both readings.
///
/// For each mode, `100 × Δmode / Δtotal` ([`CpuTimes::total`]); `cpu.busy` is `100 − cpu.idle`, so
/// iowait counts as busy, as in node_exporter users' `1 - rate(...{mode="idle"})`. A core (or the
/// machine) with a counter that went backwards, or no ticks at all, gives nothing.
pub fn cpu_samples(prev: &CpuStat, cur: &CpuStat) -> Vec<Sample> {
    todo!("stage 1: percentages of the machine, then of each core in both readings (matched by number)")
}

/// One row's percentages, tagged with its core if it has one.
fn percentages(prev: &CpuTimes, cur: &CpuTimes, core: Option<u32>) -> Vec<Sample> {
    todo!(
        "stage 1: the delta (none if backwards or 0 ticks); 100 × mode / total; busy = 100 − idle; tag cpu=N for a core"
    )
}
