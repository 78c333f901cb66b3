//! Running the `platform` command: the subcommand [`Config`] names, until it is done or until a
//! [`Shutdown`] is asked for.

use std::io::Write;

use crate::config::{Command, Config};
use crate::demo::{ensure_accounts, run_demo};
use crate::error::Error;
use crate::records::Records;
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
/// password) on `out`.
async fn serve(config: &ServeConfig, shutdown: &Shutdown, out: &mut dyn Write) -> Result<(), Error> {
    let server = Server::start(config, shutdown.token()).await?;
    let password = ensure_accounts(&server.platform).await?;
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
    shutdown.token().cancelled().await;
    server.join().await;
    Ok(())
}
