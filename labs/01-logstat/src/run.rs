//! [`run`]: one `logstat` command from a [`Config`] to its output.

use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;

use crate::{Config, Error};

// TODO(stage 2): top and summary: scan with the tally for the command (crate::tally), then write
// its report (crate::report) as JSON or a table. TODO(stage 3): words, the same way.
// TODO(stage 4): range. TODO(stage 5): follow, polling until `stop` is raised.

/// How a run ended, when it could write its results.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs that could not be read: reported, skipped, and reflected in the exit code.
    pub errors: Vec<Error>,
    /// Malformed lines skipped.
    pub malformed: u64,
    /// Whether the run was stopped (Ctrl-C) before it finished.
    pub interrupted: bool,
}

impl Outcome {
    /// The process exit code: 130 when interrupted, 1 when an input could not be read, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if !self.errors.is_empty() {
            1
        } else {
            0
        }
    }
}

/// Runs one command: reads the inputs of `config` (or `stdin`), writes the results to `out`.
///
/// `stop` is checked between blocks and between polls: raising it (on Ctrl-C, or from a test) makes
/// `run` return soon with [`Outcome::interrupted`] set. `follow` runs until then.
///
/// # Errors
///
/// [`Error::Write`] when the results cannot be written, and [`Error::NeedsFile`] when `range` or
/// `follow` is not given exactly one file. Inputs that cannot be read are not errors of the run:
/// they are listed in [`Outcome::errors`].
///
/// # Examples
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use logstat::{Command, Config, Field};
/// let log = b"203.0.113.9 - - [01/Mar/2026:08:00:00 +0800] \"GET /a HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n";
/// let config = Config::new(Command::Top { field: Field::Status, n: 10 }, vec![]);
/// let mut out = Vec::new();
/// let outcome = logstat::run(&config, &mut &log[..], &mut out, &AtomicBool::new(false)).unwrap();
/// assert_eq!(outcome.exit_code(), 0);
/// assert_eq!(String::from_utf8(out).unwrap(), "count  status\n    1  200\n");
/// ```
pub fn run(
    config: &Config,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    stop: &AtomicBool,
) -> Result<Outcome, Error> {
    todo!(
        "stage 2: dispatch on config.command: scan with a tally and write its report; range and follow later"
    )
}
