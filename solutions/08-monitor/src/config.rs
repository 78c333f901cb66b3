//! What `monitor` was asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::agent::AgentConfig;
use crate::alarm::parse_alarm;
use crate::cli::{AgentArgs, AlarmArgs, Cli, DemoArgs, JudgeArgs, RelayArgs, StoreArgs, Sub};
use crate::demo::DemoConfig;
use crate::error::Error;
use crate::judge::{JudgeConfig, JudgeShard, load_rules};
use crate::relay::{RelayConfig, RemoteWriteConfig};
use crate::store::StoreOptions;

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
    /// Route agents' points to the store shards.
    Relay(RelayConfig),
    /// Keep one shard and answer queries.
    Store(StoreCommand),
    /// Judge the points routed here by the rules.
    Judge(JudgeCommand),
    /// Tell the receivers.
    Alarm(AlarmCommand),
    /// All of it on this machine.
    Demo(DemoConfig),
}

/// What `monitor store` runs.
#[derive(Debug, Clone)]
pub struct StoreCommand {
    /// Where the relay sends.
    pub listen: SocketAddr,
    /// Where the query API is served.
    pub http: SocketAddr,
    /// The store itself.
    pub options: StoreOptions,
}

/// What `monitor judge` runs.
#[derive(Debug, Clone)]
pub struct JudgeCommand {
    /// The judge shard.
    pub shard: JudgeShard,
    /// The alarm to post to; `None` prints the events.
    pub alarm: Option<String>,
}

/// What `monitor alarm` runs.
#[derive(Debug, Clone)]
pub struct AlarmCommand {
    /// Where judges post.
    pub listen: SocketAddr,
    /// The configuration file's text, checked ([`crate::alarm::parse_alarm`] reads it).
    pub config: String,
    /// The journal, kept across restarts.
    pub journal: PathBuf,
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot: a step and a plugin timeout of more than 0, a host name that is
    /// not empty, a spool of at least 1 MiB, a relay's queue of at least one point, a store's
    /// retention of at least a day, a judge's rules file and an alarm's configuration that read.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            Sub::Agent(args) => Command::Agent(agent_config(args)?),
            Sub::Relay(args) => Command::Relay(relay_config(args)?),
            Sub::Store(args) => Command::Store(store_command(args)?),
            Sub::Judge(args) => Command::Judge(judge_command(args)?),
            Sub::Alarm(args) => Command::Alarm(alarm_command(args)?),
            Sub::Demo(args) => Command::Demo(demo_config(args)?),
        };
        Ok(Config { command })
    }
}

fn relay_config(args: RelayArgs) -> Result<RelayConfig, Error> {
    if args.queue_points == 0 {
        return Err(Error::BadOption("--queue-points must be at least 1".to_owned()));
    }
    let mut config = RelayConfig::new(args.listen, args.shards);
    config.judges = args.judges;
    config.queue_points = args.queue_points;
    config.remote_write = args.remote_write.map(RemoteWriteConfig::new);
    Ok(config)
}

fn store_command(args: StoreArgs) -> Result<StoreCommand, Error> {
    if args.retention_days == 0 {
        return Err(Error::BadOption("--retention-days must be at least 1".to_owned()));
    }
    let mut options = StoreOptions::new(args.dir);
    options.retention = Duration::from_secs(args.retention_days.saturating_mul(24 * 60 * 60));
    if args.no_rollups {
        options.rollups.clear();
    }
    Ok(StoreCommand { listen: args.listen, http: args.http, options })
}

fn judge_command(args: JudgeArgs) -> Result<JudgeCommand, Error> {
    if args.step == 0 {
        return Err(Error::BadOption("--step must be at least 1 second".to_owned()));
    }
    if args.nodata_steps == 0 {
        return Err(Error::BadOption("--nodata-steps must be at least 1".to_owned()));
    }
    let rules = load_rules(&args.rules).map_err(|err| match err {
        Error::File { path, source } => Error::BadOption(format!("--rules {}: {source}", path.display())),
        other => other,
    })?;
    let step = Duration::from_secs(args.step);
    let mut config = JudgeConfig::new(step);
    config.nodata_steps = args.nodata_steps;
    let shard = JudgeShard { listen: args.listen, config, rules, log: args.log, store: None, tick: step };
    Ok(JudgeCommand { shard, alarm: args.alarm })
}

fn alarm_command(args: AlarmArgs) -> Result<AlarmCommand, Error> {
    let config = std::fs::read_to_string(&args.config)
        .map_err(|err| Error::BadOption(format!("--config {}: {err}", args.config.display())))?;
    parse_alarm(&config)
        .map_err(|err| Error::BadOption(format!("--config {}: {err}", args.config.display())))?;
    Ok(AlarmCommand { listen: args.listen, config, journal: args.journal })
}

fn demo_config(args: DemoArgs) -> Result<DemoConfig, Error> {
    if args.step == 0 {
        return Err(Error::BadOption("--step must be at least 1 second".to_owned()));
    }
    Ok(DemoConfig {
        agents: args.agents,
        step: Duration::from_secs(args.step),
        http: args.http,
        dir: args.dir,
    })
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
    config.metrics = args.metrics;
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
pub(crate) fn local_host_name() -> String {
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
            &["monitor", "relay", "--shard", "127.0.0.1:1", "--queue-points", "0"],
            &["monitor", "store", "--retention-days", "0"],
            &["monitor", "demo", "--step", "0"],
        ] {
            let err = Config::try_from(Cli::try_parse_from(args).unwrap()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "the exit code of {args:?}: {err}");
        }
    }

    #[test]
    fn the_host_defaults_to_the_machines_name() {
        let config = Config::try_from(Cli::try_parse_from(["monitor", "agent"]).unwrap()).unwrap();
        let Command::Agent(agent) = config.command else { panic!("not the agent: {config:?}") };
        assert!(!agent.host.is_empty());
    }
}
