//! [`run`]: one `mapreduce` command from a [`Config`] to its output, printed or written as part
//! files, and how it ended ([`Outcome`]).

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::TOP_URLS;
use crate::{Config, Error, JobSpec, Result, Stats, run_job, top_n};

// TODO(stage 4): check `stop` before the job and again after it. Output::merged gives the pairs
// sorted by key, top_n the top-urls report; a failed write to `out` is Error::Write (main treats
// a closed pipe as success), a part file's is Error::file(&path).

/// How a run ended, when it could write its results.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// What the job counted and where its time went.
    pub stats: Stats,
    /// Whether the run was stopped (Ctrl-C, SIGTERM) before it wrote its output.
    pub interrupted: bool,
}

impl Outcome {
    /// The process exit code: 130 when interrupted, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted { 130 } else { 0 }
    }
}

/// Runs the job of `config` over its inputs, then writes the output: `key<TAB>value` lines sorted
/// by key to `out` (for `top-urls`, the [`TOP_URLS`] most requested URLs, most first), or, with
/// [`Config::out`], one file `part-NNNNN` per reducer into that directory, created if need be.
///
/// `stop` is checked before the job and before the output: raised (Ctrl-C, or a test), `run`
/// writes nothing and returns with [`Outcome::interrupted`] set. A job under way runs to its end
/// first: the engine has no way to abandon its tasks.
///
/// # Errors
///
/// What [`run_job`] returns; [`Error::File`] when the output directory or a part file cannot be
/// created or written; [`Error::Write`] when `out` fails.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "the cat and the hat\n").unwrap();
/// let config = mapreduce::Config::new(mapreduce::JobSpec::WordCount, vec![path]);
/// let mut out = Vec::new();
/// let outcome = mapreduce::run(&config, &AtomicBool::new(false), &mut out).unwrap();
/// assert_eq!(outcome.exit_code(), 0);
/// assert_eq!(String::from_utf8(out).unwrap(), "and\t1\ncat\t1\nhat\t1\nthe\t2\n");
/// ```
pub fn run(config: &Config, stop: &AtomicBool, out: &mut dyn Write) -> Result<Outcome> {
    todo!(
        "stage 4: unless stop is raised, run config.job with run_job, then print the merged pairs (the top 10 for top-urls) or write the part files"
    )
}

/// Writes reducer `r`'s pairs to `dir/part-0000r`, as Hadoop names them.
fn write_parts(dir: &Path, partitions: &[Vec<(String, String)>]) -> Result<()> {
    todo!("stage 4: create dir, then write each reducer's pairs to dir/part-NNNNN")
}

/// The one-line report of `--stats`.
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "map {:.3}s (spill {:.3}s, {} spills, {} bytes) reduce {:.3}s; {} tasks, {} attempts, {} records, \
             {} pairs emitted, {} shuffled, {} runs merged, {} failures, {} reruns, {} backups",
            self.map_time.as_secs_f64(),
            self.spill_time.as_secs_f64(),
            self.spills,
            self.spill_bytes,
            self.reduce_time.as_secs_f64(),
            self.map_tasks,
            self.map_attempts,
            self.records,
            self.emitted,
            self.shuffled,
            self.runs_merged,
            self.worker_failures,
            self.reruns,
            self.backups,
        )
    }
}
