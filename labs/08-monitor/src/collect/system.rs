//! The collectors of one machine: each reads its source under a `/proc` root (normally `/proc`; the
//! tests pass a directory of fixtures) and hands the text to its parser and sampler.
//!
//! | collector | reads | gives |
//! |---|---|---|
//! | `cpu` | `stat` | [`cpu_samples`], from the second call |
//! | `memory` | `meminfo` | [`memory_samples`] |
//! | `load` | `loadavg` | [`load_samples`] |
//! | `disk` | `diskstats` | [`disk_samples`], from the second call |
//! | `filesystem` | `mounts`, then `statvfs` of each mount point | [`filesystem_samples`] |
//! | `net` | `net/dev` | [`net_samples`], from the second call |
//! | `accounts` | the utmp file | [`session_samples`] |
//! | `procs` | `<pid>/stat` for every numeric entry | [`proc_samples`] |

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::accounts::{parse_utmp, session_samples};
use super::cpu::{CpuStat, cpu_samples, parse_cpu_stat};
use super::disk::{DiskStats, disk_samples, parse_diskstats};
use super::filesystem::{filesystem_samples, monitored_mounts, statvfs};
use super::load::{load_samples, parse_loadavg};
use super::memory::{memory_samples, parse_meminfo};
use super::net::{NetStats, net_samples, parse_net_dev};
use super::procs::{parse_pid_stat, proc_samples};
use super::{CollectError, Collector, ParseError, seconds_between};
use crate::{Millis, Sample};

/// The collectors of one machine: cpu, memory, load, disk io, filesystems, net, accounts, procs,
/// reading `/proc` under `proc_root` (normally "/proc"; tests pass a fixture directory) and utmp at
/// `utmp`.
pub fn system_collectors(proc_root: &Path, utmp: &Path, interval: Duration) -> Vec<Box<dyn Collector>> {
    todo!("stage 1: the eight collectors over files under proc_root")
}

/// Reads a whole file as text.
fn read_text(path: &Path) -> Result<String, CollectError> {
    todo!("stage 1: read_to_string, an error naming the file")
}

/// A collector of one file that needs one reading.
struct Reader {
    name: &'static str,
    path: PathBuf,
    interval: Duration,
    /// The file's text to samples.
    sample: fn(&str) -> Result<Vec<Sample>, ParseError>,
}

impl Reader {
    /// A collector named `name` reading `path`.
    fn new(
        name: &'static str,
        path: PathBuf,
        interval: Duration,
        sample: fn(&str) -> Result<Vec<Sample>, ParseError>,
    ) -> Reader {
        todo!("stage 1: the fields")
    }
}

impl Collector for Reader {
    fn name(&self) -> &str {
        todo!("stage 1: the name")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!("stage 1: read the file, the samples of its text; a parse error names the file")
    }
}

/// A collector of one file whose samples come from two readings: it keeps the last one.
struct Differ<R> {
    name: &'static str,
    path: PathBuf,
    interval: Duration,
    parse: fn(&str) -> Result<R, ParseError>,
    /// Two readings and the seconds between them to samples.
    sample: fn(&R, &R, f64) -> Vec<Sample>,
    /// The last reading and when it was taken.
    last: Option<(Millis, R)>,
}

impl<R> Differ<R> {
    /// A collector named `name` reading `path`.
    fn new(
        name: &'static str,
        path: PathBuf,
        interval: Duration,
        parse: fn(&str) -> Result<R, ParseError>,
        sample: fn(&R, &R, f64) -> Vec<Sample>,
    ) -> Differ<R> {
        todo!("stage 1: the fields, no reading yet")
    }
}

impl<R: Send> Collector for Differ<R> {
    fn name(&self) -> &str {
        todo!("stage 1: the name")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!(
            "stage 1: read and parse; samples from the last reading to this one over the seconds between; keep this one"
        )
    }
}

/// `statvfs` of every monitored mount.
struct FilesystemCollector {
    mounts: PathBuf,
    interval: Duration,
}

impl Collector for FilesystemCollector {
    fn name(&self) -> &str {
        todo!("stage 1: \"filesystem\"")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!("stage 1: monitored_mounts, then statvfs of each; a mount that fails is skipped")
    }
}

/// Login sessions from utmp.
struct AccountsCollector {
    utmp: PathBuf,
    interval: Duration,
}

impl Collector for AccountsCollector {
    fn name(&self) -> &str {
        todo!("stage 1: \"accounts\"")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!("stage 1: read utmp (missing: no sessions), parse_utmp, session_samples")
    }
}

/// Processes and threads from every `<pid>/stat`.
struct ProcsCollector {
    proc_root: PathBuf,
    interval: Duration,
}

impl Collector for ProcsCollector {
    fn name(&self) -> &str {
        todo!("stage 1: \"procs\"")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!("stage 1: every all-digit entry's stat; one that vanished or does not parse is skipped")
    }
}
