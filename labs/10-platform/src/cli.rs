//! The `platform` command's arguments, as clap parses them. Never passed past `main`: they become
//! a [`crate::Config`] first.

use clap::{Parser, Subcommand};

/// One system for monitoring and control: hosts, metrics and alerts, commands and their results,
/// users and roles, behind one API and dashboard, with its records in SQL.
///
/// The records live in SQLite by default (a file, nothing to install) or in MariaDB, chosen by
/// `--db`. Exit codes: 0 success (and after SIGTERM), 1 an error (a database that cannot be
/// reached, a migration that fails), 2 a usage error, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "platform", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Opens the records (making a SQLite file if missing), applies every migration they have not
    /// had, and prints the schema's version and how many records of each kind they hold.
    Migrate {
        /// The database: sqlite://PATH, sqlite::memory: or mysql://USER:PASSWORD@HOST:PORT/DB
        /// (MariaDB; mariadb:// is taken too).
        #[arg(long, value_name = "URL", default_value = "sqlite://platform.db")]
        db: String,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_arguments_are_consistent() {
        Cli::command().debug_assert();
    }
}
