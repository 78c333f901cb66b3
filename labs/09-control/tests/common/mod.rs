//! What the stage tests share: keys made from fixed seeds, a master on a loopback port with a key
//! store in a scratch directory, and agents set up to reach it quickly.

#![allow(dead_code)] // each stage's test file uses its own part of this

use std::net::SocketAddr;
use std::time::Duration;

use control::agent::{AgentConfig, AgentHandle, spawn_agent};
use control::keys::{Identity, KeyStore};
use control::master::{Master, MasterConfig, MasterHandle};
use testkit::TempDir;
use tokio_util::sync::CancellationToken;

/// The key pair numbered `n`: the same in every run, distinct for every `n`.
pub fn key(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

/// The master's key pair.
pub fn master_key() -> Identity {
    key(200)
}

/// The operator's key pair.
pub fn operator() -> Identity {
    key(201)
}

/// A running master on 127.0.0.1, its key store in a scratch directory.
pub struct TestMaster {
    pub addr: SocketAddr,
    pub handle: MasterHandle,
    pub keys: KeyStore,
    pub shutdown: CancellationToken,
    _dir: TempDir,
}

impl TestMaster {
    /// A master trusting [`operator`], with heartbeats every 100 ms and keys looked at every 20 ms;
    /// `tweak` changes anything else first.
    pub async fn start(tweak: impl FnOnce(&mut MasterConfig)) -> TestMaster {
        let dir = testkit::scratch_dir();
        let keys = KeyStore::open(&dir.path().join("keys")).unwrap();
        let mut config = MasterConfig::new(master_key(), keys.clone());
        config.operators = vec![operator().public()];
        config.heartbeat = Duration::from_millis(100);
        config.keys_poll = Duration::from_millis(20);
        config.handshake_timeout = Duration::from_secs(2);
        tweak(&mut config);
        let master = Master::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.unwrap();
        let addr = master.local_addr().unwrap();
        let handle = master.handle();
        let shutdown = CancellationToken::new();
        tokio::spawn(master.run(shutdown.clone()));
        TestMaster { addr, handle, keys, shutdown, _dir: dir }
    }

    /// The config of agent `id` with key `n`, for this master: it trusts [`operator`], may run
    /// `/bin/sh` and `/bin/echo`, beats every 100 ms and retries within 20 to 100 ms.
    pub fn agent_config(&self, id: &str, n: u8) -> AgentConfig {
        let mut config = AgentConfig::new(id, key(n), self.addr, master_key().public());
        config.operators = vec![operator().public()];
        config.allow = control::agent::AllowList::parse("/bin/sh\n/bin/echo\n");
        config.heartbeat = Duration::from_millis(100);
        config.backoff_base = Duration::from_millis(20);
        config.backoff_cap = Duration::from_millis(100);
        config
    }

    /// Enrolls agent `id` with key `n`, then starts it.
    pub fn enrolled_agent(&self, id: &str, n: u8, shutdown: &CancellationToken) -> AgentHandle {
        self.keys.enroll(id, &key(n).public()).unwrap();
        spawn_agent(self.agent_config(id, n), shutdown.clone())
    }

    /// Whether agent `id` is connected.
    pub fn has(&self, id: &str) -> bool {
        self.handle.agent(id).is_some()
    }
}

impl Drop for TestMaster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
