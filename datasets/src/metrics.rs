//! A seeded generator of node metrics: what a monitoring agent reads on a fleet of servers every
//! step, series by series, for time-series stores to ingest and compress.
//!
//! Each host has [`SERIES_PER_HOST`] series shaped like a real server's: CPU percentages noisy
//! around a level with one decimal, and the CPU columns that are nearly always 0 (nice, irq,
//! steal, guest); memory and file-system bytes that drift a few pages now and then; load averages
//! with two decimals; disk and network rates of an active device, and devices nothing uses;
//! process counts; request counters that only grow; and sizes that never change. Most hosts idle
//! at a few percent of CPU, some work. Every host reads all its series at the same instant, a
//! multiple of the step (what an agent on an aligned schedule does), or with a few milliseconds of
//! jitter.
//!
//! The values are rounded as a collector prints them, so what a compressor makes of them depends
//! on the mix: about a fifth of the series change every step by noisy decimals (under Gorilla's
//! XOR, 6 to 7 bytes a point), a fifth drift or grow now and then, and the rest never change.

use crate::dice::Dice;

/// How many series each host has.
pub const SERIES_PER_HOST: usize = 161;

/// The shape of a generated fleet. Equal specs give identical readings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// Seed of every random draw.
    pub seed: u64,
    /// Hosts, named `node-000`, `node-001`, ...
    pub hosts: usize,
    /// The first reading's time, in milliseconds since the epoch.
    pub start: i64,
    /// Milliseconds between readings.
    pub step: i64,
    /// At most this many milliseconds added to each host's reading time, drawn every step (0:
    /// exactly aligned).
    pub jitter: i64,
}

impl Default for NodeSpec {
    /// Seed 0, 10 hosts, from 2023-11-14T22:13:20Z (a multiple of 10 s), every 10 s, aligned.
    fn default() -> Self {
        NodeSpec { seed: 0, hosts: 10, start: 1_700_000_000_000, step: 10_000, jitter: 0 }
    }
}

/// One series: what names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// The host.
    pub host: String,
    /// The metric, dotted: `cpu.busy`.
    pub metric: String,
    /// The tags, sorted by name.
    pub tags: Vec<(String, String)>,
    /// Whether it is a counter (a total that only grows) rather than a gauge.
    pub counter: bool,
}

/// One value of one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// The series' index in [`Nodes::series`].
    pub series: usize,
    /// When, in milliseconds since the epoch.
    pub timestamp: i64,
    /// The value.
    pub value: f64,
}

/// How one series' value moves from step to step.
#[derive(Clone, Debug)]
enum Model {
    /// Never changes.
    Constant(f64),
    /// Nearly always 0; with probability `chance` a small value with one decimal.
    MostlyZero { chance: f64, max: f64 },
    /// Noisy around `level` by up to `spread`, rounded to `decimals`, within 0 and `max`.
    Noisy { level: f64, spread: f64, decimals: i32, max: f64 },
    /// A random walk by up to `step` a reading with probability `chance`, rounded to
    /// `decimals`, within 0 and `max`.
    Walk { value: f64, chance: f64, step: f64, decimals: i32, max: f64 },
    /// A multiple of `unit` that moves by up to `most` units with probability `chance`.
    Drift { units: i64, chance: f64, most: i64, unit: f64 },
    /// A total that grows by about `rate` a reading.
    Counter { total: f64, rate: f64 },
    /// A total that grows by exactly `by` a reading: an uptime.
    Steady { total: f64, by: f64 },
}

/// The fleet: its series and their state, read one step at a time.
#[derive(Clone, Debug)]
pub struct Nodes {
    /// The spec.
    spec: NodeSpec,
    /// Every series, host after host.
    series: Vec<Series>,
    /// Each series' model and state.
    models: Vec<Model>,
    /// Each series' host index.
    host_of: Vec<usize>,
    /// The draws of the readings.
    dice: Dice,
    /// Steps read so far.
    ticks: u64,
}

impl Nodes {
    /// The fleet of `spec`, before its first reading.
    ///
    /// # Examples
    ///
    /// ```
    /// use datasets::metrics::{NodeSpec, Nodes, SERIES_PER_HOST};
    /// let mut nodes = Nodes::new(NodeSpec { hosts: 2, ..NodeSpec::default() });
    /// assert_eq!(nodes.series().len(), 2 * SERIES_PER_HOST);
    /// let mut readings = Vec::new();
    /// nodes.next_tick(&mut readings);
    /// assert_eq!(readings.len(), 2 * SERIES_PER_HOST);
    /// assert!(readings.iter().all(|reading| reading.timestamp == 1_700_000_000_000));
    /// ```
    pub fn new(spec: NodeSpec) -> Nodes {
        let mut dice = Dice::new(spec.seed, 31);
        let (mut series, mut models, mut host_of) = (Vec::new(), Vec::new(), Vec::new());
        for host in 0..spec.hosts {
            let name = format!("node-{host:03}");
            for (metric, tags, model) in host_series(&mut dice) {
                let counter = matches!(model, Model::Counter { .. } | Model::Steady { .. });
                let tags = tags.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
                series.push(Series { host: name.clone(), metric: metric.to_owned(), tags, counter });
                models.push(model);
                host_of.push(host);
            }
        }
        let dice = Dice::new(spec.seed, 32);
        Nodes { spec, series, models, host_of, dice, ticks: 0 }
    }

    /// Every series, host after host.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// Steps read so far.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Appends the next step's reading of every series to `out`, in series order.
    pub fn next_tick(&mut self, out: &mut Vec<Reading>) {
        let aligned = self.spec.start + self.ticks as i64 * self.spec.step;
        let jitter = self.spec.jitter.max(0) as u64;
        let times: Vec<i64> = (0..self.spec.hosts)
            .map(|_| if jitter == 0 { aligned } else { aligned + self.dice.between(0, jitter) as i64 })
            .collect();
        for (index, model) in self.models.iter_mut().enumerate() {
            let value = advance(model, &mut self.dice);
            out.push(Reading { series: index, timestamp: times[self.host_of[index]], value });
        }
        self.ticks += 1;
    }
}

/// Moves a model one reading on and returns its value.
fn advance(model: &mut Model, dice: &mut Dice) -> f64 {
    match model {
        Model::Constant(value) => *value,
        Model::MostlyZero { chance, max } => {
            if dice.chance(*chance) {
                round(dice.unit() * *max, 1).max(0.1)
            } else {
                0.0
            }
        }
        Model::Noisy { level, spread, decimals, max } => {
            // Three uniforms: a bell-shaped noise without a library.
            let noise = dice.unit() + dice.unit() + dice.unit() - 1.5;
            round((*level + noise * *spread).clamp(0.0, *max), *decimals)
        }
        Model::Walk { value, chance, step, decimals, max } => {
            if dice.chance(*chance) {
                *value = round((*value + (dice.unit() - 0.5) * 2.0 * *step).clamp(0.0, *max), *decimals);
            }
            *value
        }
        Model::Drift { units, chance, most, unit } => {
            if dice.chance(*chance) {
                let by = dice.between(1, *most as u64) as i64;
                *units = (*units + if dice.chance(0.5) { by } else { -by }).max(0);
            }
            *units as f64 * *unit
        }
        Model::Counter { total, rate } => {
            *total += (*rate * (0.5 + dice.unit())).round();
            *total
        }
        Model::Steady { total, by } => {
            *total += *by;
            *total
        }
    }
}

/// `value` rounded to `decimals` places, as a collector prints it.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A series of a host: metric, tags and model.
type SeriesSpec = (&'static str, Vec<(&'static str, String)>, Model);

/// One host's [`SERIES_PER_HOST`] series, with levels drawn for this host.
fn host_series(dice: &mut Dice) -> Vec<SeriesSpec> {
    let mut out: Vec<SeriesSpec> = Vec::new();
    // Most servers of a fleet idle at a few percent; some work.
    let busy = if dice.chance(0.7) { 0.5 + dice.unit() * 2.5 } else { 5.0 + dice.unit() * 50.0 };
    // cpu: the total and two cores, ten columns each.
    for core in ["total", "0", "1"] {
        let tags = || if core == "total" { Vec::new() } else { vec![("cpu", core.to_owned())] };
        let level = busy * (0.6 + dice.unit() * 0.8);
        let noisy =
            |level: f64| Model::Noisy { level, spread: (level / 4.0).max(0.3), decimals: 1, max: 100.0 };
        out.push(("cpu.busy", tags(), noisy(level)));
        out.push(("cpu.user", tags(), noisy(level * 0.7)));
        out.push(("cpu.system", tags(), noisy(level * 0.3)));
        out.push(("cpu.idle", tags(), noisy(100.0 - level)));
        out.push(("cpu.iowait", tags(), Model::MostlyZero { chance: 0.1, max: 2.0 }));
        out.push(("cpu.softirq", tags(), Model::MostlyZero { chance: 0.05, max: 0.5 }));
        for zero in ["cpu.nice", "cpu.irq", "cpu.steal", "cpu.guest"] {
            out.push((zero, tags(), Model::Constant(0.0)));
        }
    }
    // memory: 16 GiB, pages drifting.
    let pages = 4 << 20;
    let page = 4096.0;
    let used = (pages as f64 * (0.2 + dice.unit() * 0.5)) as i64;
    out.push(("mem.total", Vec::new(), Model::Constant(pages as f64 * page)));
    for (metric, share, chance) in [("mem.used", 1.0, 0.6), ("mem.free", 0.3, 0.6), ("mem.cached", 0.5, 0.2)]
    {
        let units = (used as f64 * share) as i64;
        out.push((metric, Vec::new(), Model::Drift { units, chance, most: 64, unit: page }));
    }
    out.push((
        "mem.available",
        Vec::new(),
        Model::Drift { units: pages - used, chance: 0.6, most: 64, unit: page },
    ));
    out.push(("mem.buffers", Vec::new(), Model::Drift { units: 20_000, chance: 0.05, most: 4, unit: page }));
    let percent = 100.0 * used as f64 / pages as f64;
    for (metric, value) in [("mem.used.percent", percent), ("mem.available.percent", 100.0 - percent)] {
        out.push((
            metric,
            Vec::new(),
            Model::Walk { value, chance: 0.6, step: 0.02, decimals: 2, max: 100.0 },
        ));
    }
    for metric in
        ["mem.swap.total", "mem.swap.free", "mem.swap.used", "mem.swap.used.percent", "mem.huge_pages"]
    {
        out.push((metric, Vec::new(), Model::Constant(0.0)));
    }
    // load averages: /proc/loadavg's two decimals, the longer ones moving less often.
    let load = round(busy / 25.0, 2);
    for (metric, chance, step) in
        [("load.1min", 0.9, 0.1), ("load.5min", 0.5, 0.03), ("load.15min", 0.25, 0.01)]
    {
        out.push((metric, Vec::new(), Model::Walk { value: load, chance, step, decimals: 2, max: 64.0 }));
    }
    // disks: an active one and an idle one.
    for (device, active) in [("sda", true), ("sdb", false)] {
        let tags = || vec![("device", device.to_owned())];
        let idle = || Model::Constant(0.0);
        let rate = |level: f64| Model::Noisy { level, spread: level, decimals: 1, max: 1e12 };
        let rare = |max: f64| Model::MostlyZero { chance: 0.1, max };
        out.push(("disk.io.read_bytes", tags(), if active { rare(400.0) } else { idle() }));
        out.push(("disk.io.write_bytes", tags(), if active { rate(40_960.0) } else { idle() }));
        out.push(("disk.io.reads", tags(), if active { rare(2.0) } else { idle() }));
        out.push(("disk.io.writes", tags(), if active { rate(8.0) } else { idle() }));
        out.push(("disk.io.util", tags(), if active { rate(1.5) } else { idle() }));
        out.push(("disk.io.await", tags(), if active { rare(3.0) } else { idle() }));
    }
    // network: a busy interface, loopback, and a bridge nothing uses.
    for iface in ["eth0", "lo", "docker0"] {
        let tags = || vec![("iface", iface.to_owned())];
        for metric in ["net.if.in.bytes", "net.if.out.bytes", "net.if.in.packets", "net.if.out.packets"] {
            let level = if metric.ends_with("bytes") { 50_000.0 } else { 100.0 };
            let model = match iface {
                "eth0" => Model::Noisy { level, spread: level / 2.0, decimals: 1, max: 1e12 },
                "lo" => Model::MostlyZero { chance: 0.3, max: level / 100.0 },
                _ => Model::Constant(0.0),
            };
            out.push((metric, tags(), model));
        }
        for zero in ["net.if.in.errors", "net.if.out.errors", "net.if.in.dropped", "net.if.out.dropped"] {
            out.push((zero, tags(), Model::Constant(0.0)));
        }
        let (speed, mtu) = if iface == "eth0" { (1.25e9, 1500.0) } else { (0.0, 65_536.0) };
        out.push(("net.if.speed", tags(), Model::Constant(speed)));
        out.push(("net.if.mtu", tags(), Model::Constant(mtu)));
        out.push(("net.if.up", tags(), Model::Constant(1.0)));
    }
    // file systems: two written to, the rest nearly still.
    let mounts = [("/", "ext4", 100.0, true), ("/boot", "ext4", 1.0, false), ("/var", "ext4", 500.0, true)];
    let quiet =
        [("/home", "ext4", 200.0, false), ("/run", "tmpfs", 1.6, false), ("/dev/shm", "tmpfs", 8.0, false)];
    for (mount, fstype, gib, busy) in mounts.into_iter().chain(quiet) {
        let tags = || vec![("fstype", fstype.to_owned()), ("mount", mount.to_owned())];
        let blocks = (gib * 262_144.0) as i64;
        let used = (blocks as f64 * (0.1 + dice.unit() * 0.6)) as i64;
        let chance = if busy { 0.2 } else { 0.01 };
        let drift = |units: i64, most: i64, unit: f64| Model::Drift { units, chance, most, unit };
        out.push(("df.bytes.total", tags(), Model::Constant(blocks as f64 * 4096.0)));
        out.push(("df.bytes.used", tags(), drift(used, 16, 4096.0)));
        out.push(("df.bytes.free", tags(), drift(blocks - used, 16, 4096.0)));
        out.push(("df.bytes.avail", tags(), drift(blocks - used - blocks / 20, 16, 4096.0)));
        let percent = round(100.0 * used as f64 / blocks as f64, 2);
        out.push((
            "df.bytes.used.percent",
            tags(),
            Model::Walk { value: percent, chance, step: 0.01, decimals: 2, max: 100.0 },
        ));
        out.push(("df.inodes.total", tags(), Model::Constant(blocks as f64 / 4.0)));
        out.push(("df.inodes.free", tags(), drift(blocks / 5, 3, 1.0)));
        out.push(("df.inodes.used", tags(), drift(blocks / 20, 3, 1.0)));
        out.push(("df.inodes.used.percent", tags(), Model::Constant(round(100.0 / 21.0, 2))));
        out.push(("df.readonly", tags(), Model::Constant(0.0)));
    }
    // the machine, processes, sessions, and a web server's counters.
    out.push(("system.cpus", Vec::new(), Model::Constant(2.0)));
    let booted = 1_690_000_000.0 + (dice.unit() * 5e6).round();
    out.push(("system.boot_time", Vec::new(), Model::Constant(booted)));
    out.push(("system.uptime", Vec::new(), Model::Steady { total: 1e7 - booted % 1e6, by: 10.0 }));
    out.push((
        "proc.count",
        Vec::new(),
        Model::Drift { units: 180 + dice.below(200) as i64, chance: 0.3, most: 3, unit: 1.0 },
    ));
    out.push((
        "proc.threads",
        Vec::new(),
        Model::Drift { units: 600 + dice.below(900) as i64, chance: 0.5, most: 8, unit: 1.0 },
    ));
    out.push(("users.sessions", Vec::new(), Model::Constant(1.0)));
    out.push(("users.accounts", Vec::new(), Model::Constant(31.0)));
    let requests = 10.0 + busy * busy;
    out.push((
        "nginx.requests",
        Vec::new(),
        Model::Counter { total: (1e6 * dice.unit()).round(), rate: requests },
    ));
    out.push((
        "nginx.connections.accepted",
        Vec::new(),
        Model::Counter { total: (1e5 * dice.unit()).round(), rate: requests / 10.0 },
    ));
    out.push((
        "nginx.connections.handled",
        Vec::new(),
        Model::Counter { total: (1e5 * dice.unit()).round(), rate: requests / 10.0 },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_stream_of_distinct_series() {
        let spec = NodeSpec { hosts: 3, jitter: 5, ..NodeSpec::default() };
        let (mut a, mut b) = (Nodes::new(spec.clone()), Nodes::new(spec));
        assert_eq!(a.series().len(), 3 * SERIES_PER_HOST);
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            a.next_tick(&mut ra);
            b.next_tick(&mut rb);
        }
        assert_eq!(ra, rb);
        assert!(ra.iter().all(|r| r.value.is_finite() && r.value >= 0.0));
        let last = &ra[ra.len() - 1];
        assert!((1_700_000_190_000..=1_700_000_190_005).contains(&last.timestamp));
        let names: std::collections::HashSet<_> =
            a.series().iter().map(|s| (&s.host, &s.metric, &s.tags)).collect();
        assert_eq!(names.len(), 3 * SERIES_PER_HOST, "every series is named apart");
    }
}
