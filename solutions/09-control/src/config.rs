//! What to run, validated: [`Config`] is built from the command line ([`crate::cli::Cli`]) and is
//! all [`crate::run()`] sees.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::agent::{AllowList, Exec};
use crate::cli::{AgentArgs, Cli, DemoArgs, KeysAction, KeysArgs, MasterArgs, RunArgs, Sub, SwarmArgs};
use crate::error::Error;
use crate::keys::{PublicKey, check_id};
use crate::master::{JobOptions, Portion};
use crate::swarm::{SwarmConfig, loopback_sources};
use crate::target::Target;

/// A validated run of `control`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The subcommand and its settings.
    pub command: Command,
}

/// What to run.
// Made once per run: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Command {
    /// `control master`.
    Master(MasterCommand),
    /// `control agent`.
    Agent(AgentCommand),
    /// `control run`.
    Run(RunCommand),
    /// `control demo`.
    Demo(DemoCommand),
    /// `control swarm`.
    Swarm(SwarmCommand),
    /// `control keys`: the store and what to do.
    Keys {
        /// The key store's directory.
        dir: PathBuf,
        /// The operation.
        action: KeysAction,
    },
    /// `control keygen`: where to write the new key.
    Keygen {
        /// The secret key's file.
        out: PathBuf,
    },
}

/// The settings of `control master`.
#[derive(Debug, Clone)]
pub struct MasterCommand {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The master's key file.
    pub key: PathBuf,
    /// The key store's directory.
    pub keys: PathBuf,
    /// Whether new agents are accepted at once.
    pub auto_accept: bool,
    /// The operators whose commands it relays.
    pub operators: Vec<PublicKey>,
    /// The heartbeat interval.
    pub heartbeat: Duration,
    /// The audit log.
    pub audit: PathBuf,
    /// The operator socket.
    pub api: PathBuf,
}

/// The settings of `control agent`.
#[derive(Debug, Clone)]
pub struct AgentCommand {
    /// The agent's id.
    pub id: String,
    /// The master's address.
    pub master: SocketAddr,
    /// The master's pinned key.
    pub master_key: PublicKey,
    /// The agent's key file.
    pub key: PathBuf,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The operators it trusts.
    pub operators: Vec<PublicKey>,
    /// Its allow-list file, if any.
    pub allow: Option<PathBuf>,
}

/// The settings of `control run`.
#[derive(Debug, Clone)]
pub struct RunCommand {
    /// The target, as written (it parses).
    pub target: String,
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The operator's key file.
    pub key: PathBuf,
    /// The master's socket.
    pub api: PathBuf,
    /// How the job is rolled out.
    pub options: JobOptions,
    /// How long the program may run on a host.
    pub timeout: Duration,
    /// Whether to write JSON lines.
    pub json: bool,
}

/// The settings of `control demo`.
#[derive(Debug, Clone)]
pub struct DemoCommand {
    /// How many simulated agents.
    pub agents: usize,
    /// Which run the command.
    pub target: String,
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// The settings of `control swarm`.
#[derive(Debug, Clone)]
pub struct SwarmCommand {
    /// The swarm.
    pub config: SwarmConfig,
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            Sub::Master(args) => Command::Master(master(args)?),
            Sub::Agent(args) => Command::Agent(agent(args)?),
            Sub::Run(args) => Command::Run(run(args)?),
            Sub::Demo(args) => Command::Demo(demo(args)?),
            Sub::Swarm(args) => Command::Swarm(swarm(args)?),
            Sub::Keys(KeysArgs { keys, action }) => Command::Keys { dir: keys, action },
            Sub::Keygen(args) => Command::Keygen { out: args.out },
        };
        Ok(Config { command })
    }
}

fn master(args: MasterArgs) -> Result<MasterCommand, Error> {
    Ok(MasterCommand {
        listen: args.listen,
        key: args.key,
        keys: args.keys,
        auto_accept: args.auto_accept,
        operators: keys("--operator", &args.operators)?,
        heartbeat: seconds("--heartbeat", args.heartbeat)?,
        audit: args.audit,
        api: args.api,
    })
}

fn run(args: RunArgs) -> Result<RunCommand, Error> {
    Target::parse(&args.target)
        .map_err(|err| Error::BadOption(format!("target {:?}: {err}", args.target)))?;
    let portion = |option: &str, text: &Option<String>| {
        text.as_deref()
            .map(|text| {
                text.parse::<Portion>().map_err(|reason| Error::BadOption(format!("{option}: {reason}")))
            })
            .transpose()
    };
    let batch = portion("--batch", &args.batch)?;
    if matches!(batch, Some(Portion::Count(0) | Portion::Percent(0))) {
        return Err(Error::BadOption("--batch: at least one host at a time".into()));
    }
    let mut program = args.program.into_iter();
    let Some(first) = program.next() else {
        return Err(Error::BadOption("no program to run: give it after --".into()));
    };
    let wait = seconds("--wait", args.wait)?;
    Ok(RunCommand {
        target: args.target,
        program: first,
        args: program.collect(),
        key: args.key,
        api: args.api,
        options: JobOptions {
            batch,
            failure_budget: portion("--failure-budget", &args.failure_budget)?,
            wait,
            probe: wait.min(Duration::from_secs(5)),
        },
        timeout: seconds("--timeout", args.timeout)?,
        json: args.json,
    })
}

fn demo(args: DemoArgs) -> Result<DemoCommand, Error> {
    if args.agents == 0 {
        return Err(Error::BadOption("--agents: at least one".into()));
    }
    Target::parse(&args.target)
        .map_err(|err| Error::BadOption(format!("--target {:?}: {err}", args.target)))?;
    let mut program = args.program.into_iter();
    let first = program.next().unwrap_or_else(|| "/bin/echo".into());
    Ok(DemoCommand { agents: args.agents, target: args.target, program: first, args: program.collect() })
}

fn swarm(args: SwarmArgs) -> Result<SwarmCommand, Error> {
    if args.agents == 0 || !(1..=250).contains(&args.sources) {
        return Err(Error::BadOption("--agents: at least one; --sources: 1 to 250".into()));
    }
    let id_fits = format!("{}00000", args.prefix);
    check_id(&id_fits)?;
    let mut config = SwarmConfig::new(args.agents, args.master, key("--master-key", &args.master_key)?);
    config.operators = keys("--operator", &args.operators)?;
    config.prefix = args.prefix;
    config.sources = loopback_sources(args.sources);
    config.seed = args.seed;
    if args.processes {
        config.exec = Exec::Process;
    }
    if let Some(path) = &args.allow {
        config.allow = AllowList::load(path).map_err(|err| Error::File {
            path: path.clone(),
            source: std::io::Error::other(err.to_string()),
        })?;
    }
    Ok(SwarmCommand { config })
}

fn agent(args: AgentArgs) -> Result<AgentCommand, Error> {
    check_id(&args.id)?;
    let mut tags = BTreeMap::new();
    for tag in &args.tags {
        let (name, value) = tag
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| Error::BadOption(format!("--tag {tag:?}: expected NAME=VALUE")))?;
        tags.insert(name.to_owned(), value.to_owned());
    }
    Ok(AgentCommand {
        id: args.id,
        master: args.master,
        master_key: key("--master-key", &args.master_key)?,
        key: args.key,
        tags,
        operators: keys("--operator", &args.operators)?,
        allow: args.allow,
    })
}

fn key(option: &str, text: &str) -> Result<PublicKey, Error> {
    text.parse().map_err(|reason| Error::BadOption(format!("{option} {text:?}: {reason}")))
}

fn keys(option: &str, texts: &[String]) -> Result<Vec<PublicKey>, Error> {
    texts.iter().map(|text| key(option, text)).collect()
}

fn seconds(option: &str, value: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| Error::BadOption(format!("{option} {value}: expected a positive number of seconds")))
}
