//! What a run of `platform` does, checked: the only thing the library sees of the command line.

use crate::cli::{Cli, CliCommand};
use crate::error::Error;

/// A validated run of `platform`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The subcommand.
    pub command: Command,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply the migrations to the records at this URL and describe them.
    Migrate {
        /// The database's URL.
        db: String,
    },
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            CliCommand::Migrate { db } => {
                if db.trim().is_empty() {
                    return Err(Error::BadOption("--db: the URL is empty".into()));
                }
                Command::Migrate { db }
            }
        };
        Ok(Config { command })
    }
}
