//! Running the `control` command: the subcommand [`Config`] names, until it is done or until a
//! [`Shutdown`] is asked for.

use std::io::Write;
use std::time::Instant;

use crate::agent::{AgentConfig, AllowList, spawn_agent};
use crate::cli::KeysAction;
use crate::config::{AgentCommand, Command, Config, MasterCommand, RunCommand};
use crate::demo::{demo, swarm};
use crate::error::Error;
use crate::follow::{run_job, totals_line};
use crate::keys::{Identity, KeyStore};
use crate::master::{Master, MasterConfig};
use crate::shutdown::Shutdown;

/// How a run that could write its results ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or stopped by SIGTERM.
    Done,
    /// Stopped by Ctrl-C.
    Interrupted,
    /// `control run` saw a host end other than done.
    NotAllDone,
}

impl Outcome {
    /// The exit status: 0, 3 when not every host ended done, or 130 when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::NotAllDone => 3,
            Outcome::Interrupted => 130,
        }
    }
}

/// Runs `config` until it is done (`control keys`, `control keygen`) or `shutdown` is asked for,
/// writing results to `out` and diagnostics to standard error.
///
/// # Errors
///
/// When a part cannot start ([`Error::File`] for a key that cannot be read, [`Error::Sys`] for an
/// address that cannot be bound), a key operation does not apply ([`Error::Keys`]) or `out` cannot
/// be written ([`Error::Write`]).
pub fn run(config: &Config, shutdown: &Shutdown, out: &mut dyn Write) -> Result<Outcome, Error> {
    match &config.command {
        Command::Keygen { out: path } => {
            let identity = Identity::generate();
            identity.save(path)?;
            writeln!(out, "{}", identity.public()).map_err(Error::Write)?;
        }
        Command::Keys { dir, action } => keys(&KeyStore::open(dir)?, action, out)?,
        Command::Master(master) => runtime()?.block_on(run_master(master, shutdown, out))?,
        Command::Agent(agent) => runtime()?.block_on(run_agent(agent, shutdown))?,
        Command::Demo(command) => runtime()?.block_on(demo(command, shutdown.token(), out))?,
        Command::Swarm(command) => runtime()?.block_on(swarm(command, shutdown.token(), out))?,
        Command::Run(command) => {
            let outcome = runtime()?.block_on(run_command(command, shutdown, out))?;
            out.flush().map_err(Error::Write)?;
            return Ok(outcome);
        }
    }
    out.flush().map_err(Error::Write)?;
    Ok(if shutdown.is_interrupted() { Outcome::Interrupted } else { Outcome::Done })
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::sys("start the tokio runtime"))
}

/// `control keys`.
fn keys(store: &KeyStore, action: &KeysAction, out: &mut dyn Write) -> Result<(), Error> {
    match action {
        KeysAction::List => {
            for entry in store.list()? {
                writeln!(
                    out,
                    "{:<9} {:<24} {} {}",
                    entry.state.name(),
                    entry.id,
                    entry.key.fingerprint(),
                    entry.key
                )
                .map_err(Error::Write)?;
            }
        }
        KeysAction::Accept { id } => {
            let entry = store.accept(id)?;
            writeln!(out, "accepted {} ({})", entry.id, entry.key.fingerprint()).map_err(Error::Write)?;
        }
        KeysAction::Reject { id } => {
            let entry = store.reject(id)?;
            writeln!(out, "rejected {} ({})", entry.id, entry.key.fingerprint()).map_err(Error::Write)?;
        }
        KeysAction::Delete { id } => match store.delete(id)? {
            true => writeln!(out, "deleted {id}").map_err(Error::Write)?,
            false => return Err(Error::Keys(format!("no agent {id} in the key store"))),
        },
    }
    Ok(())
}

/// `control master`: serves until the shutdown.
async fn run_master(command: &MasterCommand, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let identity = Identity::load_or_generate(&command.key)?;
    let mut config = MasterConfig::new(identity.clone(), KeyStore::open(&command.keys)?);
    config.auto_accept = command.auto_accept;
    config.operators = command.operators.clone();
    config.heartbeat = command.heartbeat;
    config.audit = Some(command.audit.clone());
    config.api = Some(command.api.clone());
    let master = Master::bind(command.listen, config).await?;
    writeln!(out, "master listening on {}", master.local_addr()?).map_err(Error::Write)?;
    writeln!(out, "master key {}", identity.public()).map_err(Error::Write)?;
    writeln!(out, "operator socket {}", command.api.display()).map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    master.run(shutdown.token().clone()).await;
    Ok(())
}

/// `control agent`: runs until the shutdown.
async fn run_agent(command: &AgentCommand, shutdown: &Shutdown) -> Result<(), Error> {
    let identity = Identity::load_or_generate(&command.key)?;
    let mut config = AgentConfig::new(&command.id, identity, command.master, command.master_key);
    config.tags = command.tags.clone();
    config.operators = command.operators.clone();
    if let Some(path) = &command.allow {
        config.allow = AllowList::load(path).map_err(|err| Error::File {
            path: path.clone(),
            source: std::io::Error::other(err.to_string()),
        })?;
    }
    spawn_agent(config, shutdown.token().clone()).join().await;
    Ok(())
}

/// `control run`: the job followed to its end, then its report (or its totals, in JSON).
async fn run_command(
    command: &RunCommand,
    shutdown: &Shutdown,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let (gather, interrupted) = run_job(command, shutdown.token(), out).await?;
    match command.json {
        true => writeln!(out, "{}", totals_line(&gather, started.elapsed())),
        false => write!(out, "{}", gather.report(std::time::Instant::now(), 20, 10)),
    }
    .map_err(Error::Write)?;
    Ok(if interrupted {
        Outcome::Interrupted
    } else if gather.counts().iter().any(|(label, _)| *label != "done") {
        Outcome::NotAllDone
    } else {
        Outcome::Done
    })
}
