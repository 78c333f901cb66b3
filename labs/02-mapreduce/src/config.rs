//! What one run of `mapreduce` is asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::path::PathBuf;

use crate::cli::{Cli, JobName, ModeName};
use crate::{Error, JobConfig, JobSpec, Mode, ProcessOptions, WorkerCommand};

/// How many URLs `top-urls` prints (all of them go to `--out`).
pub const TOP_URLS: usize = 10;

/// One run of `mapreduce`.
#[derive(Clone, Debug)]
pub struct Config {
    /// The job.
    pub job: JobSpec,
    /// The input files, at least one.
    pub inputs: Vec<PathBuf>,
    /// How the engine runs it: workers, reducers, memory, splits, threads or processes.
    pub engine: JobConfig,
    /// Write one `part-NNNNN` file per reducer into this directory instead of printing.
    pub out: Option<PathBuf>,
    /// Report where the time went ([`crate::Stats`]) on standard error.
    pub stats: bool,
}

impl Config {
    /// A run of `job` over `inputs` with the engine's defaults ([`JobConfig::default`]), printing
    /// its output, without statistics.
    pub fn new(job: JobSpec, inputs: Vec<PathBuf>) -> Config {
        Config { job, inputs, engine: JobConfig::default(), out: None, stats: false }
    }
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks the counts and the split size (each at least 1; a memory of 0 spills every run) and, for `--mode processes`, finds this program to
    /// start as a worker.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        for (name, value) in [("--workers", cli.workers), ("--reducers", cli.reducers)] {
            if value == 0 {
                return Err(Error::BadOption(format!("{name} must be at least 1")));
            }
        }
        if cli.split == 0 {
            return Err(Error::BadOption("--split must be at least 1".to_owned()));
        }
        let job = match cli.job {
            JobName::Wordcount => JobSpec::WordCount,
            JobName::TopUrls => JobSpec::TopUrls,
            JobName::Status => JobSpec::Status,
            JobName::Index => JobSpec::Index,
        };
        let mode = match cli.mode {
            ModeName::Threads => Mode::Threads,
            ModeName::Processes => {
                // The workers are this same program, run as `mapreduce worker`.
                let exe = std::env::current_exe().map_err(Error::sys("current_exe"))?;
                Mode::Processes(ProcessOptions::new(WorkerCommand::new(exe).arg("worker")))
            }
        };
        let engine = JobConfig {
            workers: cli.workers,
            reducers: cli.reducers,
            memory: cli.memory << 20,
            split_size: cli.split << 20,
            mode,
            spill_dir: None,
        };
        Ok(Config { job, inputs: cli.files, engine, out: cli.out, stats: cli.stats })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_zero_is_a_usage_error() {
        let cli = Cli::parse_from(["mapreduce", "wordcount", "--workers", "0", "a.txt"]);
        let err = Config::try_from(cli).unwrap_err();
        assert_eq!(err.exit_code(), 2, "the exit code of {err}");
    }

    #[test]
    fn sizes_are_mebibytes() {
        let cli = Cli::parse_from(["mapreduce", "status", "--memory", "2", "--split", "3", "a.log"]);
        let config = Config::try_from(cli).unwrap();
        assert_eq!((config.engine.memory, config.engine.split_size), (2 << 20, 3 << 20));
        assert_eq!(config.job, JobSpec::Status);
    }
}
