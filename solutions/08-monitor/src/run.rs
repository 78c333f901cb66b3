//! Running the `monitor` command: the subcommand [`Config`] names, until it is done or until a
//! [`Shutdown`] is asked for.

use std::io::Write;

use crate::agent::run_agent;
use crate::config::{Command, Config};
use crate::error::Error;
use crate::shutdown::Shutdown;

/// How a run that could write its results ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or stopped by SIGTERM.
    Done,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Outcome {
    /// The exit status: 0, or 130 when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Interrupted => 130,
        }
    }
}

/// Runs `config` until it is done (`monitor agent --once`) or `shutdown` is asked for, writing
/// results (points, when the agent has no relay) to `out` and diagnostics to standard error.
///
/// # Errors
///
/// When a part cannot start ([`Error::File`] for a spool directory that cannot be made,
/// [`Error::Sys`]) or `out` cannot be written ([`Error::Write`]).
pub fn run(config: &Config, shutdown: &Shutdown, out: &mut dyn Write) -> Result<Outcome, Error> {
    match &config.command {
        Command::Agent(agent) => run_agent(agent, shutdown, out)?,
    }
    out.flush().map_err(Error::Write)?;
    Ok(if shutdown.is_interrupted() { Outcome::Interrupted } else { Outcome::Done })
}
