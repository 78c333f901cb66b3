//! `platform serve`: the platform's server in one process. Its records (migrated), lab 09's control
//! master with its key store and journal in the data directory, the platform's operator key (which
//! signs every command), the runs a stopped server left running taken up, lab 08's monitoring
//! pipeline (its data in the data directory, the recorded rules pushed to its judge), how scripts
//! reach the hosts, and the API and the dashboard on one HTTP port, until the shutdown.
//!
//! With a standby ([`ServeConfig::lease`]), the caller wins the lease first ([`crate::availability`])
//! and hands the leadership to [`Server::start`], which raises the records' fence to its token
//! before anything else writes.
//!
//! The parts are the stages' work; this file only starts them, so it is given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use control::keys::{Identity, KeyStore, PublicKey};
use control::master::{Master, MasterConfig, MasterHandle};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::availability::{Leadership, LeaseConfig};
use crate::commands::Commands;
use crate::error::Error;
use crate::monitoring::{Monitoring, MonitoringConfig};
use crate::platform::Platform;
use crate::records::Records;
use crate::scripts::Distribution;

/// How often expired sessions are swept out of the records.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// How a platform server is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The records' database URL.
    pub db: String,
    /// Where the API and the dashboard listen.
    pub listen: SocketAddr,
    /// Where the control master listens for agents.
    pub control: SocketAddr,
    /// Where the monitoring relay listens for lab 08's agents.
    pub relay: SocketAddr,
    /// Where the master's key, the operator's key, the agents' key store and the master's journal
    /// live, and the monitoring pipeline's data (under `monitoring/`).
    pub dir: PathBuf,
    /// Whether agents never seen before are accepted at once (a demo, not production).
    pub auto_accept: bool,
    /// Where the hosts keep their monitoring scripts.
    pub host_scripts: PathBuf,
    /// Where the hosts keep their services' releases.
    pub host_releases: PathBuf,
    /// The `platform` program on the hosts, which installs a script: this program's own path
    /// when `None` (the hosts run the same build from the same place).
    pub installer: Option<PathBuf>,
    /// The platform's address as hosts reach it, to fetch scripts from: `http://` and where the
    /// API listens, when `None`.
    pub public_url: Option<String>,
    /// The lease that says which of the servers sharing the data directory and the records leads
    /// (`None`: this one, alone, as a lab's tests run it).
    pub lease: Option<LeaseConfig>,
    /// This server's name, as the lease and the records show it.
    pub node: String,
}

/// Where hosts keep their monitoring scripts, unless told otherwise.
pub const HOST_SCRIPTS: &str = "/var/lib/platform/scripts";

/// Where hosts keep their services' releases, unless told otherwise.
pub const HOST_RELEASES: &str = "/var/lib/platform/releases";

/// A running platform server.
pub struct Server {
    /// Where the API and the dashboard answer.
    pub http: SocketAddr,
    /// Where the control master listens for agents.
    pub control: SocketAddr,
    /// Where the monitoring relay listens: lab 08's agents send their points here.
    pub relay: SocketAddr,
    /// The master's public key, which agents pin.
    pub master_key: PublicKey,
    /// The platform's operator key, which agents must trust.
    pub operator_key: PublicKey,
    /// The platform, for a caller in the same process (the demo).
    pub platform: Arc<Platform>,
    /// The master, for a caller in the same process.
    pub master: MasterHandle,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts every part on the current runtime; they stop at `shutdown`. With `leadership`, the
    /// records write only for it: their fence is raised to its token first.
    ///
    /// # Errors
    ///
    /// When the records cannot be opened ([`Error::Records`], and `Fenced` when a newer leader has
    /// led), a key or the key store cannot be read or made, or an address cannot be bound
    /// ([`Error::Sys`]).
    pub async fn start(
        config: &ServeConfig,
        leadership: Option<&Leadership>,
        shutdown: &CancellationToken,
    ) -> Result<Server, Error> {
        std::fs::create_dir_all(&config.dir)
            .map_err(Error::sys(format!("create {}", config.dir.display())))?;
        let mut records = Records::open(&config.db).await?;
        if let Some(leadership) = leadership {
            records = records.lead(leadership.token, &leadership.node, crate::now_millis()).await?;
        }
        let master_identity =
            Identity::load_or_generate(&config.dir.join("master.key")).map_err(control_error)?;
        let operator = Identity::load_or_generate(&config.dir.join("operator.key")).map_err(control_error)?;
        let keys = KeyStore::open(&config.dir.join("keys")).map_err(control_error)?;
        let mut master_config = MasterConfig::new(master_identity.clone(), keys);
        master_config.auto_accept = config.auto_accept;
        master_config.operators = vec![operator.public()];
        master_config.audit = Some(config.dir.join("master-journal.log"));
        let master = Master::bind(config.control, master_config).await.map_err(control_error)?;
        let control = master.local_addr().map_err(control_error)?;
        let handle = master.handle();
        let mut tasks = vec![tokio::spawn(master.run(shutdown.clone()))];

        let commands = Commands::new(records.clone(), handle.clone(), operator.clone(), shutdown.clone());
        match commands.recover(crate::now_millis()).await {
            Ok((0, 0)) => {}
            Ok((followed, ended)) => {
                tracing::info!(followed, ended, "runs left running by a stopped server taken up")
            }
            Err(err) => return Err(err.into()),
        }
        // Expired sessions are refused as they are met; their rows are swept out now and then.
        let sweep = records.clone();
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = every.tick() => {
                        if let Err(err) = sweep.delete_expired_sessions(crate::now_millis()).await {
                            tracing::warn!(cause = %err, "cannot sweep expired sessions");
                        }
                    }
                }
            }
        }));
        // Lab 08's pipeline runs on threads of its own; it is stopped, off the runtime's
        // threads, once the shutdown comes.
        let mut monitoring_config = MonitoringConfig::new(config.dir.join("monitoring"));
        monitoring_config.relay = config.relay;
        let monitoring = tokio::task::spawn_blocking(move || Monitoring::start(&monitoring_config))
            .await
            .map_err(|err| Error::Monitor(err.to_string()))??;
        let relay = monitoring.relay;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(Error::sys(format!("bind {}", config.listen)))?;
        let http = listener.local_addr().map_err(Error::sys("local address"))?;
        let installer = match &config.installer {
            Some(installer) => installer.clone(),
            None => std::env::current_exe().map_err(Error::sys("find this program's path"))?,
        };
        let distribution = Distribution {
            installer,
            scripts_dir: config.host_scripts.clone(),
            releases_dir: config.host_releases.clone(),
            url: config.public_url.clone().unwrap_or_else(|| format!("http://{http}")),
        };
        let platform = Arc::new(
            Platform::new(records, Some(commands))
                .with_monitoring(Arc::clone(&monitoring.console))
                .with_distribution(distribution),
        );
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            stop.cancelled().await;
            let _ = tokio::task::spawn_blocking(move || monitoring.stop()).await;
        }));
        match platform.recover_deployments().await {
            Ok(0) => {}
            Ok(taken) => tracing::info!(taken, "deployments left by a stopped server taken up"),
            Err(refusal) => return Err(Error::Control(refusal.to_string())),
        }
        let rules = platform.push_rules().await.map_err(|refusal| Error::Monitor(refusal.to_string()))?;
        tracing::info!(rules, "the recorded rules given to the judge");
        let app =
            crate::api::router(Arc::clone(&platform)).merge(crate::dashboard::router(Arc::clone(&platform)));
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let served = axum::serve(listener, service)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
            if let Err(err) = served {
                tracing::error!(cause = %err, "the HTTP server stopped");
            }
        }));
        Ok(Server {
            http,
            control,
            relay,
            master_key: master_identity.public(),
            operator_key: operator.public(),
            platform,
            master: handle,
            tasks,
        })
    }

    /// Waits for every part to stop (after the shutdown).
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// A control-system error, as this crate's.
fn control_error(err: control::Error) -> Error {
    Error::Control(err.to_string())
}
