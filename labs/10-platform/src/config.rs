//! What a run of `platform` does, checked: the only thing the library sees of the command line.

use crate::cli::{Cli, CliCommand};
use crate::demo::DemoConfig;
use crate::error::Error;
use crate::serve::ServeConfig;

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
    /// Run the server.
    Serve(ServeConfig),
    /// Run the demo.
    Demo(DemoConfig),
}

/// The most simulated hosts the demo starts: each is two connections in one process.
pub const MAX_DEMO_HOSTS: usize = 5_000;

impl TryFrom<Cli> for Config {
    type Error = Error;

    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            CliCommand::Migrate { db } => Command::Migrate { db: database(db)? },
            CliCommand::Serve { db, listen, control, relay, dir, auto_accept } => {
                Command::Serve(ServeConfig { db: database(db)?, listen, control, relay, dir, auto_accept })
            }
            CliCommand::Demo { hosts, http, dir } => {
                if hosts == 0 || hosts > MAX_DEMO_HOSTS {
                    return Err(Error::BadOption(format!(
                        "--hosts: {hosts} is not from 1 to {MAX_DEMO_HOSTS}"
                    )));
                }
                Command::Demo(DemoConfig { hosts, http, dir })
            }
        };
        Ok(Config { command })
    }
}

/// A database URL that is not empty.
fn database(db: String) -> Result<String, Error> {
    if db.trim().is_empty() { Err(Error::BadOption("--db: the URL is empty".into())) } else { Ok(db) }
}
