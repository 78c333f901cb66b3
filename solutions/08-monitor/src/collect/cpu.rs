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
        [self.user, self.nice, self.system, self.idle, self.iowait, self.irq, self.softirq, self.steal]
            .iter()
            .fold(0u64, |sum, &ticks| sum.saturating_add(ticks))
    }

    /// The ticks from `earlier` to `self`, or `None` if any counter went backwards.
    fn since(&self, earlier: &CpuTimes) -> Option<CpuTimes> {
        Some(CpuTimes {
            user: self.user.checked_sub(earlier.user)?,
            nice: self.nice.checked_sub(earlier.nice)?,
            system: self.system.checked_sub(earlier.system)?,
            idle: self.idle.checked_sub(earlier.idle)?,
            iowait: self.iowait.checked_sub(earlier.iowait)?,
            irq: self.irq.checked_sub(earlier.irq)?,
            softirq: self.softirq.checked_sub(earlier.softirq)?,
            steal: self.steal.checked_sub(earlier.steal)?,
            guest: self.guest.checked_sub(earlier.guest)?,
            guest_nice: self.guest_nice.checked_sub(earlier.guest_nice)?,
        })
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
    let mut total = None;
    let mut cores = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(label) = fields.next().and_then(|label| label.strip_prefix("cpu")) else {
            continue;
        };
        let core = if label.is_empty() {
            None
        } else {
            let core = label.parse::<u32>().map_err(|_| ParseError::new(index + 1, "bad CPU number"))?;
            Some(core)
        };
        let times = parse_times(fields).ok_or_else(|| ParseError::new(index + 1, "bad CPU times"))?;
        match core {
            None => total = Some(times),
            Some(core) => {
                cores.insert(core, times);
            }
        }
    }
    let total = total.ok_or_else(|| ParseError::new(0, "no cpu line"))?;
    Ok(CpuStat { total, cores })
}

/// The columns after a `cpu` label: at least four (user nice system idle), at most ten.
fn parse_times<'a>(fields: impl Iterator<Item = &'a str>) -> Option<CpuTimes> {
    let mut values = [0u64; 10];
    let mut count = 0;
    for field in fields {
        if count == values.len() {
            // A future kernel's eleventh column: not ours to read.
            break;
        }
        values[count] = field.parse().ok()?;
        count += 1;
    }
    if count < 4 {
        return None;
    }
    let [user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice] = values;
    Some(CpuTimes { user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice })
}

/// The percentages between two readings: `cpu.busy`, `cpu.user`, `cpu.nice`, `cpu.system`,
/// `cpu.idle`, `cpu.iowait`, `cpu.irq`, `cpu.softirq`, `cpu.steal`, `cpu.guest`, untagged for the
/// machine and tagged `cpu=N` for each core that is in both readings.
///
/// For each mode, `100 × Δmode / Δtotal` ([`CpuTimes::total`]); `cpu.busy` is `100 − cpu.idle`, so
/// iowait counts as busy, as in node_exporter users' `1 - rate(...{mode="idle"})`. A core (or the
/// machine) with a counter that went backwards, or no ticks at all, gives nothing.
pub fn cpu_samples(prev: &CpuStat, cur: &CpuStat) -> Vec<Sample> {
    let mut samples = percentages(&prev.total, &cur.total, None);
    for (core, times) in &cur.cores {
        if let Some(before) = prev.cores.get(core) {
            samples.extend(percentages(before, times, Some(*core)));
        }
    }
    samples
}

/// One row's percentages, tagged with its core if it has one.
fn percentages(prev: &CpuTimes, cur: &CpuTimes, core: Option<u32>) -> Vec<Sample> {
    let Some(delta) = cur.since(prev) else { return Vec::new() };
    let total = delta.total();
    if total == 0 {
        return Vec::new();
    }
    let share = |ticks: u64| 100.0 * ticks as f64 / total as f64;
    let idle = share(delta.idle);
    let values = [
        ("cpu.busy", 100.0 - idle),
        ("cpu.user", share(delta.user)),
        ("cpu.nice", share(delta.nice)),
        ("cpu.system", share(delta.system)),
        ("cpu.idle", idle),
        ("cpu.iowait", share(delta.iowait)),
        ("cpu.irq", share(delta.irq)),
        ("cpu.softirq", share(delta.softirq)),
        ("cpu.steal", share(delta.steal)),
        // Guest time is part of user, not of the total: a share of it, not an addition.
        ("cpu.guest", share(delta.guest.min(delta.user))),
    ];
    values
        .into_iter()
        .map(|(metric, value)| {
            let sample = Sample::gauge(metric, value);
            match core {
                Some(core) => sample.tag("cpu", core.to_string()),
                None => sample,
            }
        })
        .collect()
}
