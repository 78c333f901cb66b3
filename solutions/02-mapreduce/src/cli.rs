//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Runs a map/reduce job over files: word count, top URLs, status counts or an inverted index.
///
/// The output is `key<TAB>value` lines sorted by key, the same for any number of workers. With
/// `--out DIR`, each reducer writes `DIR/part-NNNNN` instead. `top-urls` prints the 10 most
/// requested URLs (all counts go to `--out`). Ctrl-C or SIGTERM stops the job without writing its
/// output; a second Ctrl-C ends the process at once.
///
/// Exit status: 0 on success, 1 when an input, a worker or the output fails, 2 on a usage error,
/// 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "mapreduce", version, max_term_width = 100)]
pub struct Cli {
    /// The job to run.
    #[arg(value_enum)]
    pub job: JobName,
    /// Map workers (threads or processes).
    #[arg(long, short = 'w', default_value_t = 1, value_name = "N")]
    pub workers: usize,
    /// Where map tasks run.
    #[arg(long, value_enum, default_value_t = ModeName::Threads)]
    pub mode: ModeName,
    /// Reducers, and output files with --out.
    #[arg(long, short = 'r', default_value_t = 4, value_name = "R")]
    pub reducers: usize,
    /// Memory budget of the shuffle in MiB: beyond it, partitions spill sorted runs to disk.
    #[arg(long, default_value_t = 256, value_name = "MB")]
    pub memory: usize,
    /// Size of an input split in MiB.
    #[arg(long, default_value_t = 16, value_name = "MB")]
    pub split: u64,
    /// Write `part-NNNNN` files into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print where the time went to stderr.
    #[arg(long)]
    pub stats: bool,
    /// The inputs.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// The shipped jobs.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum JobName {
    /// Words in text files: word → count.
    Wordcount,
    /// URLs in nginx logs: URL → requests.
    TopUrls,
    /// Statuses in nginx logs: status → requests.
    Status,
    /// Words in text files: word → the files it is in.
    Index,
}

/// The `--mode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeName {
    /// A pool of threads.
    Threads,
    /// Worker processes of this same program.
    Processes,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
