//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Serve RPC methods and run allow-listed commands for authenticated callers, or call a server.
///
/// Built-in methods of `rpc serve`, for `rpc call` (each takes a list of strings):
///   echo ARGS...   answers its arguments unchanged
///   ping           answers pong
///   time           answers the server's Unix time in milliseconds
///   sleep MS       answers after MS milliseconds
///
/// `exec` runs a program on the server: only a program whose path is in the server's --allow file,
/// and only for a caller who signs the request with the server's secret (--secret-file on both
/// sides). Signed requests expire after a minute and cannot be replayed.
///
/// Ctrl-C or SIGTERM stops a server gracefully, and a call or exec at once; a second Ctrl-C ends the
/// process at once.
///
/// Exit status: 0 on success, 1 on an error, 2 on a usage error, 130 when a call or exec is
/// interrupted; `rpc exec` exits with the program's status (128 + N when signal N killed it), and
/// `rpc serve` with 0 after a graceful shutdown.
#[derive(Debug, Parser)]
#[command(name = "rpc", version, max_term_width = 100, verbatim_doc_comment)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Serve the built-in methods and `exec` until Ctrl-C or SIGTERM.
    ///
    /// Prints the bound address on standard output first, so `--listen 127.0.0.1:0` is usable.
    Serve {
        /// The address to listen on, as HOST:PORT (port 0: any free port).
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// The programs `exec` may run: one absolute path per line, `#` comments. Without it,
        /// nothing may be executed.
        #[arg(long, value_name = "FILE")]
        allow: Option<PathBuf>,
        /// The shared secret callers sign `exec` requests with. Without it, `exec` is refused.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
        /// The most requests in flight on one connection.
        #[arg(long, value_name = "N", default_value_t = 256)]
        max_in_flight: usize,
        /// Seconds a shutdown waits for calls in flight.
        #[arg(long, value_name = "S", default_value_t = 5.0)]
        grace: f64,
    },
    /// Call METHOD on the server at ADDR with ARGS, and print the answer, one item per line.
    Call {
        /// The server, as HOST:PORT.
        #[arg(value_name = "ADDR")]
        addr: SocketAddr,
        /// The method, as `echo` or `ping`.
        #[arg(value_name = "METHOD")]
        method: String,
        /// Its arguments.
        #[arg(value_name = "ARGS")]
        args: Vec<String>,
        /// Give up after S seconds.
        #[arg(long, value_name = "S", default_value_t = 30.0)]
        timeout: f64,
    },
    /// Run PROGRAM with ARGS on the server at ADDR, streaming its output; exit with its status.
    Exec {
        /// The server, as HOST:PORT.
        #[arg(value_name = "ADDR")]
        addr: SocketAddr,
        /// Kill the program (and everything it started) after S seconds.
        #[arg(long, value_name = "S", default_value_t = 60.0)]
        timeout: f64,
        /// The shared secret to sign the request with.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
        /// The program's absolute path, as on the server's allow-list, then its arguments.
        #[arg(value_name = "PROGRAM", required = true, last = true)]
        command: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
