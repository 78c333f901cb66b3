//! What the `rpc` command was asked to do, validated.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A parsed command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The subcommand and its settings.
    pub command: Command,
}

/// One subcommand.
#[derive(Debug, Clone)]
pub enum Command {
    /// Serve the built-in methods and `exec`.
    Serve {
        /// Where to listen.
        listen: SocketAddr,
        /// The allow file.
        allow: Option<PathBuf>,
        /// The secret file.
        secret_file: Option<PathBuf>,
        /// Requests in flight per connection.
        max_in_flight: usize,
        /// The shutdown's grace period.
        grace: Duration,
    },
    /// Call a method.
    Call {
        /// The server.
        addr: SocketAddr,
        /// The method.
        method: String,
        /// Its arguments.
        args: Vec<String>,
        /// The call's timeout.
        timeout: Duration,
        /// The secret file.
        secret_file: Option<PathBuf>,
    },
    /// Run a program on the server.
    Exec {
        /// The server.
        addr: SocketAddr,
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Its timeout.
        timeout: Duration,
        /// The secret file.
        secret_file: Option<PathBuf>,
    },
}
