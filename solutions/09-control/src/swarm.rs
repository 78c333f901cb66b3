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
        format!("{}{index:05}", self.prefix)
    }

    /// Agent `index`'s key pair, made from the seed and the index.
    pub fn key(&self, index: usize) -> Identity {
        let mut seed = [0x5a; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&(index as u64).to_le_bytes());
        Identity::from_seed(seed)
    }
}

/// `count` loopback addresses to dial from: 127.0.0.2, 127.0.0.3, …
pub fn loopback_sources(count: usize) -> Vec<IpAddr> {
    (0..count.min(250))
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + u8::try_from(i).unwrap_or(0))))
        .collect()
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
        let verified = Arc::new(Verified::new());
        let agents = (0..config.agents)
            .map(|index| {
                let id = config.id(index);
                let mut agent = AgentConfig::new(&id, config.key(index), config.master, config.master_key);
                agent.operators = config.operators.clone();
                agent.allow = config.allow.clone();
                agent.tags = BTreeMap::from([
                    ("swarm".to_owned(), config.prefix.clone()),
                    ("rack".to_owned(), format!("r{}", index % 10)),
                ]);
                agent.source =
                    (!config.sources.is_empty()).then(|| config.sources[index % config.sources.len()]);
                agent.heartbeat = config.heartbeat;
                (agent.backoff_base, agent.backoff_cap) = config.backoff;
                agent.exec = config.exec;
                agent.verified = Some(Arc::clone(&verified));
                (id, spawn_agent(agent, shutdown.clone()))
            })
            .collect();
        Swarm { agents }
    }

    /// How many agents it has.
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// How many of them have a session with the master now.
    pub fn connected(&self) -> usize {
        self.agents.iter().filter(|(_, agent)| agent.status().connected).count()
    }

    /// The agents, by id.
    pub fn agents(&self) -> &[(String, AgentHandle)] {
        &self.agents
    }

    /// Waits for every agent to stop (after the shutdown).
    pub async fn join(self) {
        for (_, agent) in self.agents {
            agent.join().await;
        }
    }
}

/// Raises this process's soft limit of open files to its hard limit; the limit now.
///
/// # Errors
///
/// When the limits cannot be read or set.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed, which lives here.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}
