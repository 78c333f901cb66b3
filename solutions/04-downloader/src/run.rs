//! [`run`]: the `downloader` command, from a [`Config`] to the file saved and a line saying so, and
//! the exit code of how it ended ([`Outcome::exit_code`]).

use std::io::Write;
use std::sync::atomic::AtomicBool;

use crate::{Config, Error, Outcome, download};

impl Outcome {
    /// The process exit code: 0, since a download that returns is complete. An interrupted one is
    /// [`Error::Interrupted`] (exit 130): its destination is not there, and its message says how to
    /// continue.
    pub fn exit_code(&self) -> u8 {
        0
    }
}

/// Downloads as `config` says ([`download()`]), then, with [`Config::report`], writes
/// `saved PATH (SIZE bytes)` to `out`. Raising `stop` (Ctrl-C, SIGTERM, or a test) stops the
/// workers and saves the state.
///
/// # Errors
///
/// What [`download()`] returns, [`Error::Interrupted`] included; [`Error::Write`] when `out` fails.
pub fn run(config: &Config, stop: &AtomicBool, out: &mut dyn Write) -> Result<Outcome, Error> {
    let outcome = download(config, stop)?;
    if config.report {
        let reused = if outcome.reused > 0 { format!(", {} reused", outcome.reused) } else { String::new() };
        writeln!(out, "saved {} ({} bytes{reused})", outcome.path.display(), outcome.size)
            .and_then(|()| out.flush())
            .map_err(Error::Write)?;
    }
    Ok(outcome)
}
