//! Running the `platform` command: the subcommand [`Config`] names, until it is done or until a
//! [`Shutdown`] is asked for.

use std::io::Write;

use control::agent::{AgentConfig, AllowList};
use control::keys::Identity;

use tokio::net::TcpSocket;

use crate::availability::{Leadership, campaign};
use crate::config::{AgentRun, Command, Config};
use crate::demo::{ensure_accounts, run_demo};
use crate::error::Error;
use crate::host::{Host, HostConfig};
use crate::records::Records;
use crate::releases::{check_release, deploy, pack_dir, write_package};
use crate::scripts::receive;
use crate::serve::{ServeConfig, Server};
use crate::shutdown::Shutdown;

/// How a run that could write its results ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or stopped by SIGTERM.
    Done,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Outcome {
    /// The exit status: 0, or 130 when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Interrupted => 130,
        }
    }
}

/// Runs `config` until it is done or `shutdown` is asked for, writing results to `out` and
/// diagnostics to standard error.
///
/// # Errors
///
/// When the records cannot be opened or migrated ([`Error::Records`]), the runtime cannot start
/// ([`Error::Sys`]) or `out` cannot be written ([`Error::Write`]).
pub fn run(config: &Config, shutdown: &Shutdown, out: &mut dyn Write) -> Result<Outcome, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::sys("start the runtime"))?;
    match &config.command {
        Command::Migrate { db } => {
            let described = runtime.block_on(async {
                tokio::select! {
                    described = migrate(db) => described.map(Some),
                    () = shutdown.token().cancelled() => Ok(None),
                }
            })?;
            if let Some(lines) = described {
                for line in lines {
                    writeln!(out, "{line}").map_err(Error::Write)?;
                }
            }
        }
        Command::Serve(serve_config) => runtime.block_on(serve(serve_config, shutdown, out))?,
        Command::Demo(demo) => runtime.block_on(run_demo(demo, shutdown.token(), out))?,
        Command::Agent(agent) => runtime.block_on(run_agent(agent, shutdown, out))?,
        Command::Pack { dir, output } => {
            let package = pack_dir(dir).map_err(Error::sys(format!("read {}", dir.display())))?;
            let checked = check_release(&package).map_err(|violation| {
                Error::BadOption(format!("{}: {}: {}", dir.display(), violation.rule, violation.reason))
            })?;
            let manifest = &checked.manifest;
            let path = output
                .clone()
                .unwrap_or_else(|| format!("{}-{}.tar.gz", manifest.name, manifest.version).into());
            write_package(&path, &package).map_err(Error::sys(format!("write {}", path.display())))?;
            writeln!(
                out,
                "{} ({} bytes, {} files) sha256 {}",
                path.display(),
                package.len(),
                checked.files,
                checked.sha256
            )
            .map_err(Error::Write)?;
        }
        Command::Deploy(request) => {
            let report = runtime.block_on(deploy(request));
            for line in report.lines(&request.name, &request.version) {
                writeln!(out, "{line}").map_err(Error::Write)?;
            }
            out.flush().map_err(Error::Write)?;
            if let Some(failure) = report.failure {
                return Err(Error::Deploy(format!("failed at {}", failure.step)));
            }
        }
        Command::InstallScript(install) => {
            let received = runtime.block_on(receive(
                &install.from,
                &install.dir,
                &install.manifest,
                &install.sha256,
                install.version,
            ))?;
            let how = match received.fetched {
                Some(bytes) => format!("fetched ({bytes} bytes, SHA-256 checked)"),
                None => "installed already".to_string(),
            };
            let installed = &received.installed;
            writeln!(out, "{} version {} current: {how}", installed.manifest.name, installed.version)
                .map_err(Error::Write)?;
        }
    }
    Ok(if shutdown.is_interrupted() { Outcome::Interrupted } else { Outcome::Done })
}

/// Opens the records at `db`, migrating them, and describes them in lines.
async fn migrate(db: &str) -> Result<Vec<String>, Error> {
    let records = Records::open(db).await?;
    let mut lines = vec![
        format!("backend {:?}", records.backend()),
        format!("schema version {}", records.schema_version().await?),
    ];
    lines.push(format!("hosts {}", records.hosts().await?.len()));
    lines.push(format!("users {}", records.users().await?.len()));
    lines.push(format!("roles {}", records.roles().await?.len()));
    lines.push(format!("rules {}", records.rules().await?.len()));
    lines.push(format!("scripts {}", records.scripts().await?.len()));
    lines.push(format!("unfinished runs {}", records.unfinished_runs().await?.len()));
    records.close().await;
    Ok(lines)
}

/// Runs the server until `shutdown`, saying where it listens (and, on a first start, the admin's
/// password) on `out`. With a lease, it stands by until it leads, says so, and stops with
/// [`Error::LeadershipLost`] when it loses the lease.
async fn serve(config: &ServeConfig, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let leadership = match &config.lease {
        None => None,
        Some(lease) => {
            let mut said = Ok(());
            let won = campaign(lease, &config.node, shutdown.token(), |holder| {
                let holder = if holder.is_empty() { "another server" } else { holder };
                said = writeln!(out, "standing by: {holder} leads; {} takes over when it stops", config.node)
                    .and_then(|()| out.flush());
            })
            .await?;
            said.map_err(Error::Write)?;
            let Some(leadership) = won else { return Ok(()) };
            writeln!(out, "{} leads, with the fencing token {}", config.node, leadership.token)
                .map_err(Error::Write)?;
            // A leader that has just died may not have let its addresses go yet.
            wait_for_addresses(config, shutdown.token()).await?;
            Some(leadership)
        }
    };
    let server = Server::start(config, leadership.as_ref(), shutdown.token()).await?;
    let password = ensure_accounts(&server.platform.records).await?;
    writeln!(out, "platform on http://{}", server.http).map_err(Error::Write)?;
    writeln!(out, "control master on {} (key {})", server.control, server.master_key)
        .map_err(Error::Write)?;
    writeln!(out, "agents must trust the operator key {}", server.operator_key).map_err(Error::Write)?;
    writeln!(out, "monitoring relay on {} (lab 08's agents send their points there)", server.relay)
        .map_err(Error::Write)?;
    if let Some(password) = password {
        writeln!(out, "log in as admin with the password {password} (shown this once)")
            .map_err(Error::Write)?;
    }
    out.flush().map_err(Error::Write)?;
    let lost = leadership.as_ref().map(Leadership::lost).unwrap_or_default();
    tokio::select! {
        () = shutdown.token().cancelled() => {}
        () = lost.cancelled() => shutdown.stop(),
    }
    server.join().await;
    match leadership {
        Some(leadership) if lost.is_cancelled() => Err(Error::LeadershipLost(leadership.token)),
        Some(leadership) => {
            // Given up at once, so the standby need not wait for it to expire.
            leadership.resign().await;
            Ok(())
        }
        None => Ok(()),
    }
}

/// How long a new leader waits for its addresses to be free.
const ADDRESSES_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until each of the server's addresses (those with a port) could be bound, as its
/// listeners bind them (`SO_REUSEADDR`, so a dead leader's connections in TIME_WAIT do not count).
async fn wait_for_addresses(
    config: &ServeConfig,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + ADDRESSES_WAIT;
    for address in [config.listen, config.control, config.relay] {
        if address.port() == 0 {
            continue;
        }
        loop {
            let socket = if address.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }
                .map_err(Error::sys("socket"))?;
            socket.set_reuseaddr(true).map_err(Error::sys("setsockopt SO_REUSEADDR"))?;
            match socket.bind(address) {
                Ok(()) => break,
                Err(err) if tokio::time::Instant::now() >= deadline || stop.is_cancelled() => {
                    return Err(Error::sys(format!("bind {address}"))(err));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }
    Ok(())
}

/// Runs this host's agent until `shutdown`, saying what it is on `out`.
async fn run_agent(run: &AgentRun, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let identity = Identity::load_or_generate(&run.key).map_err(|err| Error::Control(err.to_string()))?;
    let public = identity.public();
    let mut agent = AgentConfig::new(&run.id, identity, run.master, run.master_key);
    agent.operators = vec![run.operator_key];
    agent.tags = run.tags.clone();
    agent.allow = match &run.allow {
        Some(path) => AllowList::load(path).map_err(|err| Error::Control(err.to_string()))?,
        None => {
            let this = std::env::current_exe().map_err(Error::sys("find this program's path"))?;
            AllowList::parse(&this.to_string_lossy())
        }
    };
    let config =
        HostConfig { agent, scripts_dir: run.scripts.clone(), relay: run.relay, spool: run.spool.clone() };
    let host = Host::start(config, shutdown.token())?;
    writeln!(out, "agent {} dialing {} with the key {public} (enrol it on the master)", run.id, run.master)
        .map_err(Error::Write)?;
    writeln!(out, "scripts in {}; their points to {}", run.scripts.display(), run.relay)
        .map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    shutdown.token().cancelled().await;
    host.join().await;
    Ok(())
}
