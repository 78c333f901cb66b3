//! What one run of `logstat` is asked to do: a validated [`Config`], built by the CLI or by a test.

use std::path::PathBuf;
use std::time::Duration;

use crate::{Field, Timestamp};

/// The default size of one read: large enough that system calls are rare, small enough that a few
/// blocks in flight per worker cost little memory.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

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
    /// Draw a progress bar on standard error (the CLI sets this only when it is a terminal).
    pub progress: bool,
}

impl Config {
    /// A configuration with the defaults: a table, every core, 1 MiB blocks, no progress bar.
    pub fn new(command: Command, inputs: Vec<Input>) -> Config {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config { command, inputs, json: false, threads, block_size: DEFAULT_BLOCK_SIZE, progress: false }
    }
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
