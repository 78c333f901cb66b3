//! What `monitor` was asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::time::Duration;

use crate::agent::AgentConfig;
use crate::cli::{AgentArgs, Cli, Sub};
use crate::error::Error;

/// A parsed and checked command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The subcommand and its settings.
    pub command: Command,
}

/// One subcommand.
#[derive(Debug, Clone)]
pub enum Command {
    /// Collect and send (or print).
    Agent(AgentConfig),
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot: a step and a plugin timeout of more than 0, a host name that is
    /// not empty, a spool of at least 1 MiB.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            Sub::Agent(args) => Command::Agent(agent_config(args)?),
        };
        Ok(Config { command })
    }
}

fn agent_config(args: AgentArgs) -> Result<AgentConfig, Error> {
    if args.step == 0 {
        return Err(Error::BadOption("--step must be at least 1 second".to_owned()));
    }
    if args.spool_max == 0 {
        return Err(Error::BadOption("--spool-max must be at least 1 MiB".to_owned()));
    }
    let host = match args.host {
        Some(host) if host.trim().is_empty() => {
            return Err(Error::BadOption("--host must not be empty".to_owned()));
        }
        Some(host) => host,
        None => local_host_name(),
    };
    let mut config = AgentConfig::new(host);
    config.relays = args.relays;
    config.step = Duration::from_secs(args.step);
    config.once = args.once;
    config.spool = args.spool;
    config.spool_max_bytes = args.spool_max.saturating_mul(1 << 20);
    config.proc_root = args.proc_root;
    config.utmp = args.utmp;
    config.plugins = args.plugins;
    config.plugin_timeout = positive("--plugin-timeout", args.plugin_timeout)?;
    config.nginx_status = args.nginx_status;
    config.nginx_log = args.nginx_log;
    Ok(config)
}

/// `value` seconds of the option `name`, refusing 0, a negative, infinite or NaN value.
fn positive(name: &str, value: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| Error::BadOption(format!("{name} must be a number of seconds more than 0")))
}

/// This machine's name, as `hostname` prints it (`localhost` if the kernel will not say).
fn local_host_name() -> String {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let status = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) };
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    match std::str::from_utf8(&name[..len]) {
        Ok(host) if status == 0 && !host.is_empty() => host.to_owned(),
        _ => "localhost".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bad_value_is_a_usage_error() {
        for args in [
            &["monitor", "agent", "--step", "0"][..],
            &["monitor", "agent", "--host", " "],
            &["monitor", "agent", "--spool-max", "0"],
            &["monitor", "agent", "--plugin-timeout", "nan"],
            &["monitor", "agent", "--plugin-timeout", "0"],
        ] {
            let err = Config::try_from(Cli::try_parse_from(args).unwrap()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "the exit code of {args:?}: {err}");
        }
    }

    #[test]
    fn the_host_defaults_to_the_machines_name() {
        let config = Config::try_from(Cli::try_parse_from(["monitor", "agent"]).unwrap()).unwrap();
        let Command::Agent(agent) = config.command;
        assert!(!agent.host.is_empty());
    }
}
