//! What one run of `logstat` is asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, CliCommand};
use crate::{Error, Field, Timestamp};

/// The default size of one read: large enough that system calls are rare, small enough that a few
/// blocks in flight per worker cost little memory.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Inputs larger than this get a progress bar on a terminal: smaller ones finish before it helps.
const PROGRESS_THRESHOLD: u64 = 64 << 20;

/// One run of `logstat`.
#[derive(Clone, Debug)]
pub struct Config {
    /// What to compute.
    pub command: Command,
    /// The inputs, read in order; empty means standard input.
    pub inputs: Vec<Input>,
    /// JSON instead of a table.
    pub json: bool,
    /// How many threads count lines (at least 1). The reading thread comes on top.
    pub threads: usize,
    /// How many bytes one read takes. Lines that cross a block boundary must still be counted once:
    /// the tests set this very small to check exactly that.
    pub block_size: usize,
    /// Draw a progress bar on standard error ([`Config::try_from`] sets this only when it is a
    /// terminal).
    pub progress: bool,
}

impl Config {
    /// A configuration with the defaults: a table, every core, 1 MiB blocks, no progress bar.
    pub fn new(command: Command, inputs: Vec<Input>) -> Config {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config { command, inputs, json: false, threads, block_size: DEFAULT_BLOCK_SIZE, progress: false }
    }
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot: `range` and `follow` are given a file, not standard input (`-`), and
    /// `range`'s `--from` is not later than its `--to`. Decides on the progress bar: only when
    /// standard error is a terminal and an input is large (or standard input, whose size is unknown).
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let file = |path: PathBuf, command, why| {
            if path.as_os_str() == "-" {
                Err(Error::NeedsFile { command, why })
            } else {
                Ok(vec![Input::Path(path)])
            }
        };
        let (command, scan, json) = match cli.command {
            CliCommand::Top { field, listing, scan } => {
                (Command::Top { field, n: listing.n }, scan, listing.json)
            }
            CliCommand::Words { text, listing, scan } => {
                (Command::Words { n: listing.n, text }, scan, listing.json)
            }
            CliCommand::Summary { json, scan } => (Command::Summary, scan, json),
            CliCommand::Range { from, to, file: path } => {
                if from > to {
                    return Err(Error::BadOption(format!("--from {from} is later than --to {to}")));
                }
                return Ok(Config::new(Command::Range { from, to }, file(path, "range", "searched")?));
            }
            CliCommand::Follow { from_start, interval, file: path } => {
                let command = Command::Follow { from_start, interval: Duration::from_millis(interval) };
                return Ok(Config::new(command, file(path, "follow", "followed across rotation")?));
            }
        };
        let inputs: Vec<Input> = scan.files.iter().map(|arg| Input::from_arg(arg)).collect();
        let mut config = Config::new(command, inputs);
        config.json = json;
        if let Some(threads) = scan.threads {
            config.threads = usize::from(threads);
        }
        config.progress = !scan.quiet && std::io::stderr().is_terminal() && is_large(&config.inputs);
        Ok(config)
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

/// What to compute.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// The `n` most frequent values of `field` over the valid lines.
    Top {
        /// The field to group by.
        field: Field,
        /// How many to list.
        n: usize,
    },
    /// The `n` most frequent words: in request paths, or (`text`) in any text.
    Words {
        /// How many to list.
        n: usize,
        /// Count the words of plain text instead of log lines.
        text: bool,
    },
    /// Totals: valid and malformed lines, bytes sent, distinct clients, first and last time, status
    /// classes.
    Summary,
    /// The valid lines of a sorted log with `from <= time < to`, found by binary search.
    Range {
        /// The first instant included.
        from: Timestamp,
        /// The first instant excluded.
        to: Timestamp,
    },
    /// New lines of a log as they are written, across rotation, until asked to stop.
    Follow {
        /// Print the lines already in the file first.
        from_start: bool,
        /// How long to wait between polls when nothing is new.
        interval: Duration,
    },
}

/// One input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-` on the command line).
    Stdin,
    /// A file.
    Path(PathBuf),
}

impl Input {
    /// `-` is standard input; anything else is a path.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }

    /// The name used in messages: the path, or `-`.
    pub fn name(&self) -> PathBuf {
        match self {
            Input::Stdin => PathBuf::from("-"),
            Input::Path(path) => path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(args: &[&str]) -> Result<Config, Error> {
        let cli = Cli::try_parse_from(std::iter::once("logstat").chain(args.iter().copied()))
            .unwrap_or_else(|err| panic!("logstat {args:?} parses: {err}"));
        Config::try_from(cli)
    }

    #[test]
    fn a_command_line_becomes_its_config() {
        let config =
            config(&["top", "--by", "status", "-n", "3", "--json", "--threads", "2", "a.log", "-"]).unwrap();
        assert_eq!(config.command, Command::Top { field: Field::Status, n: 3 });
        assert_eq!(config.inputs, [Input::Path(PathBuf::from("a.log")), Input::Stdin]);
        assert!(config.json);
        assert_eq!(config.threads, 2);
    }

    #[test]
    fn range_and_follow_refuse_standard_input_as_a_usage_error() {
        for args in [
            &["range", "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "-"][..],
            &["follow", "-"],
        ] {
            let err = config(args).unwrap_err();
            assert!(matches!(err, Error::NeedsFile { .. }), "logstat {args:?}: {err}");
            assert_eq!(err.exit_code(), 2, "the exit code of logstat {args:?}");
        }
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_a_usage_error() {
        let err =
            config(&["range", "--from", "2026-03-02T00:00:00Z", "--to", "2026-03-01T00:00:00Z", "a.log"])
                .unwrap_err();
        assert!(matches!(err, Error::BadOption(_)), "got {err}");
        assert_eq!(err.exit_code(), 2, "the exit code of a backwards range");
        assert!(
            config(&["range", "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-01T00:00:00Z", "a.log"])
                .is_ok()
        );
    }

    #[test]
    fn a_follow_interval_of_0_is_a_usage_error() {
        let err = Cli::try_parse_from(["logstat", "follow", "--interval", "0", "a.log"]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
    }
}
