//! The errors `logstat` reports, each naming the input and the problem.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can stop `logstat` or one of its inputs.
///
/// Malformed log lines are not errors: they are counted and reported (see [`crate::ParseError`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be opened or read. The run carries on with the other inputs and exits 1.
    #[error("{}: {source}", display_path(path))]
    File {
        /// The file, or `-` for standard input.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The results could not be written (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
    /// A time on the command line is in neither accepted format. A usage error: exit 2.
    #[error(
        "invalid time {value:?}: expected dd/Mon/yyyy:HH:MM:SS +zzzz (nginx) or YYYY-MM-DDTHH:MM:SS+hh:mm"
    )]
    BadTime {
        /// The text as given.
        value: String,
    },
    /// A command that needs a file (range, follow) was given standard input or no file. A usage
    /// error: exit 2.
    #[error("{command} needs a file to read: standard input cannot be {why}")]
    NeedsFile {
        /// The subcommand.
        command: &'static str,
        /// What it does with the file that a pipe cannot offer.
        why: &'static str,
    },
    /// Options that cannot go together (a range that ends before it starts). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// The process exit code for this error: 2 for a usage error, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadTime { .. } | Error::NeedsFile { .. } | Error::BadOption(_) => 2,
            Error::File { .. } | Error::Write(_) => 1,
        }
    }

    /// Whether this is a write to a pipe whose reader has gone (`logstat … | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}

fn display_path(path: &Path) -> String {
    if path.as_os_str() == "-" { "standard input".to_owned() } else { path.display().to_string() }
}
