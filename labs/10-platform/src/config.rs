//! What a run of `platform` does, checked: the only thing the library sees of the command line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use control::keys::PublicKey;

use crate::availability::LeaseConfig;
use crate::cli::{Cli, CliCommand};
use crate::demo::DemoConfig;
use crate::error::Error;
use crate::releases::{DeployRequest, is_name, is_version};
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
    Serve(Box<ServeConfig>),
    /// Run the demo.
    Demo(DemoConfig),
    /// Install a version of a monitoring script on this host.
    InstallScript(InstallConfig),
    /// Make a release package of a directory, written to a file (`None`: NAME-VERSION.tar.gz).
    Pack {
        /// The directory.
        dir: PathBuf,
        /// Where to write it.
        output: Option<PathBuf>,
    },
    /// Deploy a release on this host.
    Deploy(DeployRequest),
    /// Run this host's agent.
    Agent(Box<AgentRun>),
}

/// This host's agent, as `platform agent` runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRun {
    /// The host's name.
    pub id: String,
    /// The control master.
    pub master: SocketAddr,
    /// The master's key, pinned.
    pub master_key: PublicKey,
    /// The operator key whose commands it runs.
    pub operator_key: PublicKey,
    /// The monitoring relay.
    pub relay: SocketAddr,
    /// The agent's key pair's file.
    pub key: PathBuf,
    /// The allow-list's file, or `None` for this program alone.
    pub allow: Option<PathBuf>,
    /// Where the host keeps its scripts.
    pub scripts: PathBuf,
    /// Where points wait while the relay cannot be reached.
    pub spool: PathBuf,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A version of a script to install on this host, as a rollout's command names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallConfig {
    /// Where to fetch the script.
    pub from: String,
    /// Where this host keeps its scripts.
    pub dir: PathBuf,
    /// The version.
    pub version: i64,
    /// The script's SHA-256, in lower-case hex.
    pub sha256: String,
    /// The version's manifest.
    pub manifest: String,
}

/// The most simulated hosts the demo starts: each is two connections in one process.
pub const MAX_DEMO_HOSTS: usize = 5_000;

impl TryFrom<Cli> for Config {
    type Error = Error;

    fn try_from(cli: Cli) -> Result<Config, Error> {
        let command = match cli.command {
            CliCommand::Migrate { db } => Command::Migrate { db: database(db)? },
            CliCommand::Serve {
                db,
                listen,
                control,
                relay,
                dir,
                auto_accept,
                host_scripts,
                host_releases,
                installer,
                public_url,
                lease,
                node,
            } => Command::Serve(Box::new(ServeConfig {
                lease: Some(
                    LeaseConfig::parse(&lease, &dir)
                        .map_err(|reason| Error::BadOption(format!("--lease: {reason}")))?,
                ),
                node: match node {
                    Some(node) if node.trim().is_empty() => {
                        return Err(Error::BadOption("--node: the name is empty".into()));
                    }
                    Some(node) => node,
                    None => default_node(),
                },
                db: database(db)?,
                listen,
                control,
                relay,
                dir,
                auto_accept,
                host_scripts,
                host_releases,
                installer,
                public_url,
            })),
            CliCommand::Agent {
                id,
                master,
                master_key,
                operator_key,
                relay,
                key,
                allow,
                scripts,
                spool,
                tags,
            } => {
                let key_of = |option: &str, text: &str| {
                    text.parse::<PublicKey>().map_err(|err| Error::BadOption(format!("{option}: {err}")))
                };
                let mut parsed = BTreeMap::new();
                for tag in tags {
                    let Some((name, value)) = tag.split_once('=') else {
                        return Err(Error::BadOption(format!("--tag: {tag:?} is not KEY=VALUE")));
                    };
                    parsed.insert(name.to_string(), value.to_string());
                }
                if id.is_empty() {
                    return Err(Error::BadOption("--id: the name is empty".into()));
                }
                Command::Agent(Box::new(AgentRun {
                    id,
                    master,
                    master_key: key_of("--master-key", &master_key)?,
                    operator_key: key_of("--operator-key", &operator_key)?,
                    relay,
                    key,
                    allow,
                    scripts,
                    spool,
                    tags: parsed,
                }))
            }
            CliCommand::InstallScript { from, dir, version, sha256, manifest } => {
                if version < 1 {
                    return Err(Error::BadOption(format!("--version: {version} is not 1 or more")));
                }
                let sha256 = sha256.to_ascii_lowercase();
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::BadOption("--sha256: not 64 hex digits".into()));
                }
                Command::InstallScript(InstallConfig { from, dir, version, sha256, manifest })
            }
            CliCommand::Pack { dir, output } => Command::Pack { dir, output },
            CliCommand::Deploy { from, dir, name, version, sha256 } => {
                let request = DeployRequest { from, dir, name, version, sha256: sha256.to_ascii_lowercase() };
                if !is_name(&request.name) {
                    return Err(Error::BadOption(format!(
                        "--name: {:?} is not a service's name",
                        request.name
                    )));
                }
                if !is_version(&request.version) {
                    return Err(Error::BadOption(format!(
                        "--version: {:?} is not a version",
                        request.version
                    )));
                }
                if request.sha256.len() != 64 || !request.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::BadOption("--sha256: not 64 hex digits".into()));
                }
                Command::Deploy(request)
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

/// This machine's name and this process's id: a server's name unless it is given one.
fn default_node() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = if host.trim().is_empty() { "localhost" } else { host.trim() };
    format!("{host}:{}", std::process::id())
}

/// A database URL that is not empty.
fn database(db: String) -> Result<String, Error> {
    if db.trim().is_empty() { Err(Error::BadOption("--db: the URL is empty".into())) } else { Ok(db) }
}
