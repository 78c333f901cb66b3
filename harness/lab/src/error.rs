//! The errors `cargo lab` reports about its input, and how `main` turns any error into an exit code.
//!
//! Commands return `anyhow::Result`; the typed [`Error`] sits at the bottom of the chain when the
//! problem is a bad input (a lab that does not exist, a manifest that does not parse), which is what
//! decides between exit code 2 (usage) and 1.

use std::path::PathBuf;
use std::process::ExitCode;

/// A bad input, named precisely enough to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `Cargo.toml` with a `[workspace]` table above the current directory.
    #[error("no Cargo workspace here: no Cargo.toml with [workspace] in {} or any parent", start.display())]
    NoWorkspace {
        /// Where the search started.
        start: PathBuf,
    },

    /// A `<lab>` argument that matches no lab.
    #[error("no lab named {query:?}; the labs are: {known}")]
    UnknownLab {
        /// What was asked for.
        query: String,
        /// The labs that exist, for the message.
        known: String,
    },

    /// A `--stage` that the lab does not have.
    #[error("lab {lab} has no stage {stage:?}; its stages are: {known}")]
    UnknownStage {
        /// The lab's package name.
        lab: String,
        /// What was asked for.
        stage: String,
        /// The lab's stage ids, for the message.
        known: String,
    },

    /// A `lab.toml` that cannot be read, parsed or validated.
    #[error("bad lab manifest {}: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// A directory argument that does not exist.
    #[error("{what} {} does not exist or is not a directory", path.display())]
    MissingDir {
        /// What the directory was supposed to be ("submission", "class folder").
        what: &'static str,
        /// The path as given.
        path: PathBuf,
    },

    /// A lab whose `reference` package is nowhere under `solutions/`.
    #[error("lab {lab}: its reference package {reference:?} is not in any solutions/*/Cargo.toml")]
    MissingReference {
        /// The lab's package name.
        lab: String,
        /// The reference package name from lab.toml.
        reference: String,
    },
}

impl Error {
    /// The process exit code for this error: 2 for a usage error, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::UnknownLab { .. } | Error::UnknownStage { .. } | Error::MissingDir { .. } => 2,
            Error::NoWorkspace { .. } | Error::Manifest { .. } | Error::MissingReference { .. } => 1,
        }
    }
}

/// Prints `err` to stderr and returns the exit code for it.
///
/// A closed stdout (`cargo lab | head`) is a success, as for any Unix filter.
pub fn report(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return ExitCode::SUCCESS;
        }
    }
    eprintln!("cargo-lab: {err:#}");
    let code = err.chain().find_map(|cause| cause.downcast_ref::<Error>()).map_or(1, Error::exit_code);
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_lab_is_a_usage_error() {
        let err = Error::UnknownLab { query: "nope".into(), known: "logstat".into() };
        assert_eq!(err.exit_code(), 2);
        assert_eq!(err.to_string(), "no lab named \"nope\"; the labs are: logstat");
    }

    #[test]
    fn bad_manifest_is_a_general_failure_naming_the_file() {
        let err = Error::Manifest { path: "labs/x/lab.toml".into(), message: "missing field `name`".into() };
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("labs/x/lab.toml"));
    }

    #[test]
    fn exit_code_is_found_under_context() {
        let err =
            anyhow::Error::new(Error::MissingDir { what: "submission", path: "x".into() }).context("grading");
        assert_eq!(report(&err), ExitCode::from(2));
    }
}
