//! What the `rpc` command was asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Sub};
use crate::error::Error;

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

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot: every number of seconds is finite and not negative (a call's and a
    /// program's timeout more than 0), and a connection may have a request in flight.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            Sub::Serve { listen, allow, secret_file, max_in_flight, grace } => {
                if max_in_flight == 0 {
                    return Err(Error::BadOption("--max-in-flight must be at least 1".to_owned()));
                }
                Command::Serve {
                    listen,
                    allow,
                    secret_file,
                    max_in_flight,
                    grace: seconds("--grace", grace)?,
                }
            }
            Sub::Call { addr, method, args, timeout } => {
                Command::Call { addr, method, args, timeout: positive("--timeout", timeout)? }
            }
            Sub::Exec { addr, timeout, secret_file, mut command } => {
                // clap requires PROGRAM: the list is never empty.
                let program = command.remove(0);
                Command::Exec {
                    addr,
                    program,
                    args: command,
                    timeout: positive("--timeout", timeout)?,
                    secret_file,
                }
            }
        };
        Ok(Config { command })
    }
}

/// `value` seconds of the option `name`, refusing a negative, infinite or NaN value.
fn seconds(name: &str, value: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Error::BadOption(format!("{name} {value} is not a number of seconds")))
}

/// Like [`seconds`], refusing 0 as well.
fn positive(name: &str, value: f64) -> Result<Duration, Error> {
    Some(seconds(name, value)?)
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| Error::BadOption(format!("{name} must be more than 0 seconds")))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_bad_number_of_seconds_is_a_usage_error() {
        for args in [
            &["rpc", "call", "127.0.0.1:1", "ping", "--timeout=0"][..],
            &["rpc", "call", "127.0.0.1:1", "ping", "--timeout=nan"],
            &["rpc", "serve", "--listen", "127.0.0.1:0", "--grace=-1"],
            &["rpc", "serve", "--listen", "127.0.0.1:0", "--max-in-flight", "0"],
        ] {
            let err = Config::try_from(Cli::try_parse_from(args).unwrap()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "the exit code of {args:?}: {err}");
        }
    }
}
