//! A host of the platform, in one process: lab 09's agent, which runs the platform's signed
//! commands (the scripts' installer among them); the monitoring scripts installed on the host,
//! run as its collectors ([`crate::scripts::spawn_runner`]); and lab 08's sender, which takes
//! their points to the platform's relay, spooling them to disk while the relay cannot be reached.
//! `platform agent` runs one; the demo runs one beside its simulated hosts.
//!
//! The parts are the stages' work; this file only starts them, so it is given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;
use std::thread::JoinHandle;

use control::agent::{AgentConfig, AgentHandle, spawn_agent};
use monitor::wire::{Sender, SenderConfig, Spool};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::scripts::spawn_runner;

/// The most bytes of points kept on disk while the relay cannot be reached.
pub const SPOOL_BYTES: u64 = 64 << 20;

/// How a host is set up.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Lab 09's agent: its id (the host's name), keys, master, and the programs it may run (the
    /// platform's installer must be one of them).
    pub agent: AgentConfig,
    /// Where the host keeps its monitoring scripts: where the installer puts them.
    pub scripts_dir: PathBuf,
    /// The platform's monitoring relay.
    pub relay: SocketAddr,
    /// Where points wait while the relay cannot be reached.
    pub spool: PathBuf,
}

/// A running host.
pub struct Host {
    agent: AgentHandle,
    threads: Vec<JoinHandle<()>>,
}

impl Host {
    /// Starts the host's parts, the agent on the current runtime; they stop at `shutdown`.
    ///
    /// # Errors
    ///
    /// When the spool cannot be opened ([`Error::Monitor`]) or a thread cannot start
    /// ([`Error::Sys`]).
    pub fn start(config: HostConfig, shutdown: &CancellationToken) -> Result<Host, Error> {
        let spool = Spool::open(&config.spool, SPOOL_BYTES).map_err(|err| Error::Monitor(err.to_string()))?;
        let stop = monitor::Shutdown::new();
        let (points, received) = sync_channel(256);
        let sender = Sender::new(SenderConfig::new(vec![config.relay]), spool);
        let sending = stop.clone();
        let mut threads = vec![
            std::thread::Builder::new()
                .name("sender".into())
                .spawn(move || {
                    sender.run(received, sending);
                })
                .map_err(Error::sys("spawn the sender"))?,
        ];
        let host = config.agent.id.clone();
        match spawn_runner(config.scripts_dir, host, points, stop.clone()) {
            Ok(runner) => threads.push(runner),
            Err(err) => {
                // The sender runs already: stopped, not left behind.
                stop.stop();
                return Err(Error::sys("spawn the scripts' runner")(err));
            }
        }
        let token = shutdown.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            stop.stop();
        });
        let agent = spawn_agent(config.agent, shutdown.clone());
        Ok(Host { agent, threads })
    }

    /// Waits for every part to stop (after the shutdown).
    pub async fn join(self) {
        self.agent.join().await;
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}
