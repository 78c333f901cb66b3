//! The errors `logstat` reports, each naming the input and the problem.

use std::io;
use std::path::PathBuf;

/// Everything that can stop `logstat` or one of its inputs.
///
/// Malformed log lines are not errors: they are counted and reported (see [`crate::ParseError`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be opened or read. The run carries on with the other inputs and exits 1.
    #[error("cannot read {}: {source}", display_path(path))]
    Read {
        /// The file, or `-` for standard input.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The results could not be written (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
    /// A time on the command line is in neither accepted format.
    #[error(
        "invalid time {value:?}: expected dd/Mon/yyyy:HH:MM:SS +zzzz (nginx) or YYYY-MM-DDTHH:MM:SS+hh:mm"
    )]
    BadTime {
        /// The text as given.
        value: String,
    },
    /// A command that needs a file (range, follow) was given standard input or no file.
    #[error("{command} needs a file to read: standard input cannot be {why}")]
    NeedsFile {
        /// The subcommand.
        command: &'static str,
        /// What it does with the file that a pipe cannot offer.
        why: &'static str,
    },
}

impl Error {
    /// Whether this is a write to a pipe whose reader has gone (`logstat … | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}

fn display_path(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" { "standard input".to_owned() } else { path.display().to_string() }
}
