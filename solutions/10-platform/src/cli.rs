//! The `platform` command's arguments, as clap parses them. Never passed past `main`: they become
//! a [`crate::Config`] first.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// One system for monitoring and control: hosts, commands and their results, users and roles,
/// behind one API and dashboard, with its records in SQL.
///
/// The records live in SQLite by default (a file, nothing to install) or in MariaDB, chosen by
/// `--db`. Exit codes: 0 success (and after SIGTERM), 1 an error (a database that cannot be
/// reached, a migration that fails, an address in use), 2 a usage error, 130 interrupted.
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
    /// Runs the platform's server: the API and the dashboard, the control master its agents dial,
    /// and lab 08's monitoring pipeline (a relay their monitoring agents send points to, a store,
    /// a judge and the alarm). On first start it makes the roles admin, operator and viewer and an admin account,
    /// and prints that account's password once.
    Serve {
        /// The database (as for migrate).
        #[arg(long, value_name = "URL", default_value = "sqlite://platform.db")]
        db: String,
        /// Where the API and the dashboard listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the control master listens for agents.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4506")]
        control: SocketAddr,
        /// Where the monitoring relay listens for lab 08's agents.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2003")]
        relay: SocketAddr,
        /// Where the master's and the operator's keys, the agents' key store, the master's
        /// journal and the monitoring pipeline's data live.
        #[arg(long, value_name = "DIR", default_value = "platform-data")]
        dir: PathBuf,
        /// Accept agents never seen before at once (for a lab; enrol them in production).
        #[arg(long)]
        auto_accept: bool,
    },
    /// Runs the whole platform on this machine with simulated hosts, until Ctrl-C: the server, a
    /// fleet whose agents dial its control master, and an admin account whose password is printed
    /// once.
    Demo {
        /// How many simulated hosts.
        #[arg(long, value_name = "N", default_value_t = 20)]
        hosts: usize,
        /// Where the API and the dashboard listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        http: SocketAddr,
        /// Keep the records and keys in this directory (a temporary one, removed at the end, by
        /// default).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
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
