//! The command line: clap's view of the arguments, turned into a [`logstat::Config`].

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use logstat::{Command, Config, Field, Input, Timestamp};

/// Analyse nginx access logs (the `combined` format): top-N, word counts, time ranges, follow.
///
/// Reads files of any size in one pass on every core, with memory bounded by the number of distinct
/// keys. Malformed lines are counted and skipped. With no FILE, or when FILE is -, reads standard input.
///
/// Exit status: 0 on success, 1 when an input could not be read, 2 on a usage error.
#[derive(Debug, Parser)]
#[command(name = "logstat", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// The most frequent values of one field.
    Top {
        /// The field to group lines by: ip, url (target with query), path (target up to ?), status,
        /// method, ua or referer.
        #[arg(long = "by", value_name = "FIELD")]
        field: Field,
        #[command(flatten)]
        listing: Listing,
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// The most frequent words in request paths, or (--text) in any text file.
    Words {
        /// Count the words of plain text (maximal runs of letters and digits, lowercased) instead
        /// of the paths of log lines.
        #[arg(long)]
        text: bool,
        #[command(flatten)]
        listing: Listing,
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Totals: lines, bytes sent, distinct clients, time span, status classes.
    Summary {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
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
        file: std::path::PathBuf,
    },
    /// Print lines as they are appended, like tail -F: across rename and copytruncate rotation.
    Follow {
        /// Print the lines already in the file first.
        #[arg(long)]
        from_start: bool,
        /// How often to look for new lines, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 250)]
        interval: u64,
        /// The log to follow; it may not exist yet.
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
struct Listing {
    /// How many entries to list.
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    n: usize,
    /// Print {"field", "total", "malformed", "top": [{"key", "count"}]} instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Threads that count (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Never draw a progress bar (one is drawn on a terminal for inputs over 64 MiB).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Log files to read; - is standard input (the default).
    #[arg(value_name = "FILE")]
    files: Vec<String>,
}

/// Inputs larger than this get a progress bar on a terminal: smaller ones finish before it helps.
const PROGRESS_THRESHOLD: u64 = 64 << 20;

fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_arg(text).map_err(|err| err.to_string())
}

impl From<Cli> for Config {
    fn from(cli: Cli) -> Config {
        let file = |path| vec![Input::Path(path)];
        let (command, scan, json) = match cli.command {
            CliCommand::Top { field, listing, scan } => {
                (Command::Top { field, n: listing.n }, scan, listing.json)
            }
            CliCommand::Words { text, listing, scan } => {
                (Command::Words { n: listing.n, text }, scan, listing.json)
            }
            CliCommand::Summary { json, scan } => (Command::Summary, scan, json),
            CliCommand::Range { from, to, file: path } => {
                return Config::new(Command::Range { from, to }, file(path));
            }
            CliCommand::Follow { from_start, interval, file: path } => {
                let interval = Duration::from_millis(interval.max(1));
                return Config::new(Command::Follow { from_start, interval }, file(path));
            }
        };
        let inputs: Vec<Input> = scan.files.iter().map(|arg| Input::from_arg(arg)).collect();
        let mut config = Config::new(command, inputs);
        config.json = json;
        if let Some(threads) = scan.threads {
            config.threads = usize::from(threads);
        }
        config.progress = !scan.quiet && std::io::stderr().is_terminal() && is_large(&config.inputs);
        config
    }
}

/// Whether the inputs are worth a progress bar: standard input always is (its size is unknown).
fn is_large(inputs: &[Input]) -> bool {
    inputs.is_empty()
        || inputs.iter().any(|input| match input {
            Input::Stdin => true,
            Input::Path(path) => std::fs::metadata(path).is_ok_and(|meta| meta.len() > PROGRESS_THRESHOLD),
        })
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
