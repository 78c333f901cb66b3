//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{Field, Timestamp};

/// Analyse nginx access logs (the `combined` format): top-N, word counts, time ranges, follow.
///
/// Reads files of any size in one pass on every core, with memory bounded by the number of distinct
/// keys. Malformed lines are counted and skipped. With no FILE, or when FILE is -, reads standard input.
/// Ctrl-C or SIGTERM stops the run without printing partial results (follow ends this way); a second
/// Ctrl-C ends the process at once.
///
/// Exit status: 0 on success, 1 when an input could not be read or the output could not be written,
/// 2 on a usage error, 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "logstat", version, max_term_width = 100)]
pub struct Cli {
    /// What to compute.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// The most frequent values of one field.
    Top {
        /// The field to group lines by: ip, url (target with query), path (target up to ?), status,
        /// method, ua or referer.
        #[arg(long = "by", value_name = "FIELD")]
        field: Field,
        /// How many, and in what form.
        #[command(flatten)]
        listing: Listing,
        /// What to read, and how.
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// The most frequent words in request paths, or (--text) in any text file.
    Words {
        /// Count the words of plain text (maximal runs of letters and digits, lowercased) instead
        /// of the paths of log lines.
        #[arg(long)]
        text: bool,
        /// How many, and in what form.
        #[command(flatten)]
        listing: Listing,
        /// What to read, and how.
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Totals: lines, bytes sent, distinct clients, time span, status classes.
    Summary {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// What to read, and how.
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// The lines of a time-sorted log with FROM <= time < TO, found by binary search.
    ///
    /// Reads a few blocks of the file, not the whole of it. Times are nginx's format
    /// ("01/Mar/2026:08:00:00 +0800") or ISO 8601 ("2026-03-01T08:00:00+08:00", "...Z").
    Range {
        /// The first instant included.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        from: Timestamp,
        /// The first instant excluded.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        to: Timestamp,
        /// The log, sorted by time.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print lines as they are appended, like tail -F: across rename and copytruncate rotation.
    Follow {
        /// Print the lines already in the file first.
        #[arg(long)]
        from_start: bool,
        /// How often to look for new lines, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
        interval: u64,
        /// The log to follow; it may not exist yet.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// The options of a command that lists the top entries.
#[derive(Debug, Args)]
pub struct Listing {
    /// How many entries to list.
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    pub n: usize,
    /// Print {"field", "total", "malformed", "top": [{"key", "count"}]} instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The options of a command that scans its inputs.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Threads that count (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Never draw a progress bar (one is drawn on a terminal for inputs over 64 MiB).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Log files to read; - is standard input (the default).
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_arg(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
