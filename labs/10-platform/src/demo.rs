//! `platform demo`, the lab's main job on one machine: the platform's server (records in SQLite,
//! the control master, the API and the dashboard), a fleet of simulated hosts whose agents dial the
//! master (they run every check a real agent runs, then echo the command instead of starting it),
//! and an admin account with a password shown once. Ctrl-C stops it all.
//!
//! The parts are the stages' work; this file only starts them, so it is given.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use control::agent::{AgentConfig, AllowList, Exec, spawn_agent};
use control::keys::Identity;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::platform::Platform;
use crate::records::{Host, Role};
use crate::serve::{ServeConfig, Server};

/// What `platform demo` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// How many simulated hosts.
    pub hosts: usize,
    /// Where the API and the dashboard listen.
    pub http: SocketAddr,
    /// Where the records and keys live; a new temporary directory when `None`.
    pub dir: Option<PathBuf>,
}

/// The programs the simulated hosts allow, and the operator role may run.
const PROGRAMS: [&str; 4] = ["/bin/echo", "/bin/hostname", "/usr/bin/uptime", "/bin/true"];

/// Runs the demo until `shutdown`, writing how to reach it to `out`.
///
/// # Errors
///
/// When the server cannot start ([`Error::Records`], [`Error::Control`], [`Error::Sys`]), or `out`
/// cannot be written.
pub async fn run_demo(
    config: &DemoConfig,
    shutdown: &CancellationToken,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let (dir, temporary) = match &config.dir {
        Some(dir) => (dir.clone(), false),
        None => (scratch_dir()?, true),
    };
    let serve = ServeConfig {
        db: format!("sqlite://{}", dir.join("platform.db").display()),
        listen: config.http,
        control: SocketAddr::from(([127, 0, 0, 1], 0)),
        dir: dir.clone(),
        auto_accept: true,
    };
    let stop = shutdown.child_token();
    let server = Server::start(&serve, &stop).await?;
    let password = ensure_accounts(&server.platform).await?;

    let mut hosts = Vec::new();
    for n in 0..config.hosts {
        let id = format!("host-{:02}", n + 1);
        let tags = BTreeMap::from([
            ("dc".to_string(), ["bj", "sh"][n % 2].to_string()),
            ("role".to_string(), if n % 4 == 3 { "db" } else { "web" }.to_string()),
        ]);
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
        let mut agent = AgentConfig::new(&id, Identity::from_seed(seed), server.control, server.master_key);
        agent.operators = vec![server.operator_key];
        agent.allow = AllowList::parse(&PROGRAMS.join("\n"));
        agent.tags = tags.clone();
        agent.exec = Exec::Echo;
        agent.heartbeat = Duration::from_secs(2);
        spawn_agent(agent, stop.clone());
        hosts.push(Host { name: id, tags, added: crate::now_millis() });
    }
    server.platform.records.upsert_hosts(&hosts).await?;

    let write = |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(Error::Write);
    write(out, format!("platform on http://{}", server.http))?;
    write(out, format!("control master on {} (key {})", server.control, server.master_key))?;
    write(
        out,
        format!("{} simulated hosts, tagged dc=bj|sh and role=web|db, dialing the master", config.hosts),
    )?;
    match password {
        Some(password) => {
            write(out, format!("log in as admin with the password {password} (shown this once)"))?
        }
        None => write(out, "log in as admin with the password you were given".to_string())?,
    }
    write(out, "Ctrl-C stops it all".to_string())?;
    out.flush().map_err(Error::Write)?;

    shutdown.cancelled().await;
    stop.cancel();
    server.join().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Makes the roles `admin`, `operator` (the demo's programs, everywhere) and `viewer` (nothing),
/// and an `admin` user when there is none: its password, made now and shown once.
///
/// # Errors
///
/// When the records cannot be written.
pub async fn ensure_accounts(platform: &Platform) -> Result<Option<String>, Error> {
    let records = &platform.records;
    if records.role("admin").await?.is_none() {
        records
            .put_role(&Role {
                name: "admin".into(),
                commands: vec!["/**".into()],
                targets: "*".into(),
                admin: true,
            })
            .await?;
        let programs = PROGRAMS.iter().map(|program| program.to_string()).collect();
        records
            .put_role(&Role {
                name: "operator".into(),
                commands: programs,
                targets: "*".into(),
                admin: false,
            })
            .await?;
        records
            .put_role(&Role { name: "viewer".into(), commands: vec![], targets: "*".into(), admin: false })
            .await?;
    }
    if records.user("admin").await?.is_some() {
        return Ok(None);
    }
    let password = crate::auth::password::generate_password();
    let hash = crate::auth::password::hash_password(&password).map_err(Error::BadOption)?;
    let admin = crate::records::User {
        name: "admin".into(),
        role: "admin".into(),
        password_hash: hash,
        created: crate::now_millis(),
        disabled: false,
    };
    records.add_user(&admin).await?;
    Ok(Some(password))
}

/// A new directory of its own under the system's temporary directory.
fn scratch_dir() -> Result<PathBuf, Error> {
    let dir =
        std::env::temp_dir().join(format!("platform-demo-{}-{}", std::process::id(), crate::now_millis()));
    std::fs::create_dir_all(&dir).map_err(Error::sys(format!("create {}", dir.display())))?;
    Ok(dir)
}
