//! The swarm: thousands of simulated machines in one process, each a real agent (the same state
//! machine, handshake, checks and reconnects) over its own loopback connection, with the built-in
//! echo in place of a process ([`Exec::Echo`]) unless told otherwise.
//!
//! Two limits of one machine shape it. A source address has about 28,000 ephemeral ports
//! (`ip_local_port_range`), so the agents are spread over several: 127.0.0.2, 127.0.0.3, … (all of
//! 127.0.0.0/8 is loopback on Linux; 127.0.0.1 is left to the master). And each connection is a
//! file descriptor at both ends, so [`raise_fd_limit`] lifts the soft limit to the hard one.
//!
//! What it cannot simulate is a machine's own processor: 50,000 real agents verify a command's
//! signature at the same time, each in 40 µs; 50,000 simulated ones on two cores would take two
//! seconds of it. So the agents of a swarm share what they verified ([`Verified`]): the first to
//! see a signed command verifies it, the others take it as verified, and every other check (their
//! own nonce, expiry, target, allow-list) is still each agent's own.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::agent::{AgentConfig, AgentHandle, AllowList, Exec, spawn_agent};
use crate::command::Verified;
use crate::keys::{Identity, PublicKey};

/// How a swarm is set up.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// How many agents.
    pub agents: usize,
    /// Their ids are this and a five-digit number: `sim00000`, `sim00001`, …
    pub prefix: String,
    /// The master's address.
    pub master: SocketAddr,
    /// The master's public key.
    pub master_key: PublicKey,
    /// The operators the agents trust.
    pub operators: Vec<PublicKey>,
    /// The programs the agents "run" (echo).
    pub allow: AllowList,
    /// The local addresses the agents dial from, in turn.
    pub sources: Vec<IpAddr>,
    /// What the agents' keys are made from, with their numbers: the same seed, the same keys.
    pub seed: u64,
    /// How often the agents send heartbeats until the master says otherwise.
    pub heartbeat: Duration,
    /// Their reconnects wait under this at first, and never this long or longer.
    pub backoff: (Duration, Duration),
    /// How they run programs: echoed (the default), or as real processes, for a comparison with
    /// tools that start real processes.
    pub exec: Exec,
}

impl SwarmConfig {
    /// `agents` agents `sim…` of `master` (whose key is `master_key`), dialing from four loopback
    /// addresses, allowed `/bin/echo`, `/bin/true`, `/bin/hostname` and `/usr/bin/uptime`,
    /// trusting no operator yet; agents' defaults otherwise.
    pub fn new(agents: usize, master: SocketAddr, master_key: PublicKey) -> SwarmConfig {
        SwarmConfig {
            agents,
            prefix: "sim".into(),
            master,
            master_key,
            operators: Vec::new(),
            allow: AllowList::parse("/bin/echo\n/bin/true\n/bin/hostname\n/usr/bin/uptime\n"),
            sources: loopback_sources(4),
            seed: 0,
            heartbeat: Duration::from_secs(10),
            backoff: (Duration::from_secs(1), Duration::from_secs(30)),
            exec: Exec::Echo,
        }
    }

    /// Agent `index`'s id.
    pub fn id(&self, index: usize) -> String {
        todo!("stage 5: the prefix and a five-digit number")
    }

    /// Agent `index`'s key pair, made from the seed and the index.
    pub fn key(&self, index: usize) -> Identity {
        todo!("stage 5: a seed of the swarm seed and the index, the rest a constant")
    }
}

/// `count` loopback addresses to dial from: 127.0.0.2, 127.0.0.3, …
pub fn loopback_sources(count: usize) -> Vec<IpAddr> {
    todo!("stage 5: 127.0.0.2 onwards, at most 250")
}

/// A running swarm.
#[derive(Debug)]
pub struct Swarm {
    agents: Vec<(String, AgentHandle)>,
}

impl Swarm {
    /// Starts `config.agents` agents on the current runtime, until `shutdown`. Agent `i` dials from
    /// source `i mod sources`, and is tagged `swarm=PREFIX` and `rack=rN` (N = i mod 10).
    pub fn start(config: &SwarmConfig, shutdown: &CancellationToken) -> Swarm {
        todo!(
            "stage 5: one agent per index, its id, key, tags, source in turn, the echo and a Verified shared by all"
        )
    }

    /// How many agents it has.
    pub fn len(&self) -> usize {
        todo!("stage 5: how many agents")
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        todo!("stage 5: none")
    }

    /// How many of them have a session with the master now.
    pub fn connected(&self) -> usize {
        todo!("stage 5: the agents whose status says connected")
    }

    /// The agents, by id.
    pub fn agents(&self) -> &[(String, AgentHandle)] {
        todo!("stage 5: the agents")
    }

    /// Waits for every agent to stop (after the shutdown).
    pub async fn join(self) {
        todo!("stage 5: join each agent")
    }
}

/// Raises this process's soft limit of open files to its hard limit; the limit now.
///
/// # Errors
///
/// When the limits cannot be read or set.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    todo!("stage 5: getrlimit, then setrlimit the soft limit to the hard one")
}
