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
    let file = |name: &str| proc_root.join(name);
    vec![
        Box::new(Differ::new(
            "cpu",
            file("stat"),
            interval,
            parse_cpu_stat,
            |prev: &CpuStat, cur: &CpuStat, _| cpu_samples(prev, cur),
        )),
        Box::new(Reader::new("memory", file("meminfo"), interval, |text| {
            Ok(memory_samples(&parse_meminfo(text)?))
        })),
        Box::new(Reader::new("load", file("loadavg"), interval, |text| {
            Ok(load_samples(&parse_loadavg(text)?))
        })),
        Box::new(Differ::new(
            "disk",
            file("diskstats"),
            interval,
            parse_diskstats,
            |prev: &DiskStats, cur, secs| disk_samples(prev, cur, secs),
        )),
        Box::new(FilesystemCollector { mounts: file("mounts"), interval }),
        Box::new(Differ::new(
            "net",
            file("net/dev"),
            interval,
            parse_net_dev,
            |prev: &NetStats, cur, secs| net_samples(prev, cur, secs),
        )),
        Box::new(AccountsCollector { utmp: utmp.to_path_buf(), interval }),
        Box::new(ProcsCollector { proc_root: proc_root.to_path_buf(), interval }),
    ]
}

/// Reads a whole file as text.
fn read_text(path: &Path) -> Result<String, CollectError> {
    std::fs::read_to_string(path).map_err(|source| CollectError::File { path: path.to_path_buf(), source })
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
        Reader { name, path, interval, sample }
    }
}

impl Collector for Reader {
    fn name(&self) -> &str {
        self.name
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let text = read_text(&self.path)?;
        (self.sample)(&text).map_err(|source| CollectError::Parse { path: self.path.clone(), source })
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
        Differ { name, path, interval, parse, sample, last: None }
    }
}

impl<R: Send> Collector for Differ<R> {
    fn name(&self) -> &str {
        self.name
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, now: Millis) -> Result<Vec<Sample>, CollectError> {
        let text = read_text(&self.path)?;
        let reading =
            (self.parse)(&text).map_err(|source| CollectError::Parse { path: self.path.clone(), source })?;
        let samples = match &self.last {
            Some((then, prev)) => match seconds_between(*then, now) {
                Some(seconds) => (self.sample)(prev, &reading, seconds),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        self.last = Some((now, reading));
        Ok(samples)
    }
}

/// `statvfs` of every monitored mount.
struct FilesystemCollector {
    mounts: PathBuf,
    interval: Duration,
}

impl Collector for FilesystemCollector {
    fn name(&self) -> &str {
        "filesystem"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let text = read_text(&self.mounts)?;
        let mounts = monitored_mounts(&text)
            .map_err(|source| CollectError::Parse { path: self.mounts.clone(), source })?;
        let mut samples = Vec::new();
        for mount in mounts {
            match statvfs(Path::new(&mount.mount_point)) {
                Ok(stats) => samples.extend(filesystem_samples(&mount, &stats)),
                // One unreadable mount (gone since the table was read, not ours to see) must not
                // hide the others.
                Err(err) => tracing::debug!(mount = %mount.mount_point, cause = %err, "statvfs failed"),
            }
        }
        Ok(samples)
    }
}

/// Login sessions from utmp.
struct AccountsCollector {
    utmp: PathBuf,
    interval: Duration,
}

impl Collector for AccountsCollector {
    fn name(&self) -> &str {
        "accounts"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let bytes = match std::fs::read(&self.utmp) {
            Ok(bytes) => bytes,
            // No utmp (a container, a minimal system): nobody is logged in.
            Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(CollectError::File { path: self.utmp.clone(), source }),
        };
        Ok(session_samples(&parse_utmp(&bytes)))
    }
}

/// Processes and threads from every `<pid>/stat`.
struct ProcsCollector {
    proc_root: PathBuf,
    interval: Duration,
}

impl Collector for ProcsCollector {
    fn name(&self) -> &str {
        "procs"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let dir_error = |source| CollectError::File { path: self.proc_root.clone(), source };
        let mut stats = Vec::new();
        for entry in std::fs::read_dir(&self.proc_root).map_err(dir_error)? {
            let entry = entry.map_err(dir_error)?;
            let name = entry.file_name();
            if !name.to_str().is_some_and(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
            {
                continue;
            }
            // A process may exit between the listing and the read: it is simply not counted.
            let Ok(text) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            if let Ok(stat) = parse_pid_stat(&text) {
                stats.push(stat);
            }
        }
        Ok(proc_samples(&stats))
    }
}
