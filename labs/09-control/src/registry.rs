//! [`Registry`]: the agents connected to the master, since when, with which tags, and when each
//! was last heard from. It is plain data driven by an explicit clock, so its rules (a reconnect
//! replaces the old connection, a silent agent expires) are tested without a network.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

/// What the master knows of one connected agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    /// Its id, as enrolled.
    pub id: String,
    /// Where its connection comes from.
    pub addr: SocketAddr,
    /// When this connection was registered.
    pub since: SystemTime,
    /// Its tags, from its hello.
    pub tags: BTreeMap<String, String>,
    /// This connection's number, unique for the master's life: what tells an old connection of
    /// the same agent from its new one.
    pub connection: u64,
}

struct Entry<H> {
    info: AgentInfo,
    last_heard: Instant,
    handle: H,
}

/// The connected agents, each with a handle `H` the master uses to reach its connection.
pub struct Registry<H> {
    agents: HashMap<String, Entry<H>>,
    timeout: Duration,
    next_connection: u64,
}

impl<H> Registry<H> {
    /// An empty registry that expires an agent not heard from for `timeout`.
    pub fn new(timeout: Duration) -> Registry<H> {
        todo!("stage 1: no agents, connection numbers from 1")
    }

    /// Registers a new connection of agent `id`, heard from at `now` and connected `since`, and
    /// gives its connection number. When the agent already had a connection (it reconnected
    /// before the master noticed the old one die), the old one's handle comes back, to be closed.
    pub fn connect(
        &mut self,
        id: &str,
        addr: SocketAddr,
        tags: BTreeMap<String, String>,
        now: Instant,
        since: SystemTime,
        handle: H,
    ) -> (u64, Option<H>) {
        todo!("stage 1: the next connection number; replace any entry of id, giving back its handle")
    }

    /// Notes that connection `connection` of agent `id` was heard from at `now`; false when that
    /// connection is no longer the agent's registered one.
    pub fn heard(&mut self, id: &str, connection: u64, now: Instant) -> bool {
        todo!("stage 1: only when connection is the registered one: last heard never goes back")
    }

    /// Removes agent `id` if `connection` is still its registered one (a stale connection's end
    /// must not remove the new one), giving its handle.
    pub fn disconnect(&mut self, id: &str, connection: u64) -> Option<H> {
        todo!("stage 1: remove id only when connection is still its registered one")
    }

    /// Removes agent `id` whatever its connection (its key was revoked), giving its handle.
    pub fn remove(&mut self, id: &str) -> Option<H> {
        todo!("stage 1: remove id whatever its connection")
    }

    /// Removes every agent not heard from for longer than the timeout at `now`, giving their ids
    /// and handles.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, H)> {
        todo!("stage 1: remove every agent silent for longer than the timeout at now")
    }

    /// Agent `id`, when connected.
    pub fn get(&self, id: &str) -> Option<&AgentInfo> {
        todo!("stage 1: the info of id")
    }

    /// Agent `id`'s handle, when connected.
    pub fn handle(&self, id: &str) -> Option<&H> {
        todo!("stage 1: the handle of id")
    }

    /// Every connected agent, by id.
    pub fn list(&self) -> Vec<AgentInfo> {
        todo!("stage 1: every info, sorted by id")
    }

    /// The ids of every connected agent, in no order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.agents.keys().map(String::as_str)
    }

    /// How many agents are connected.
    pub fn len(&self) -> usize {
        todo!("stage 1: the number of agents")
    }

    /// Whether no agent is connected.
    pub fn is_empty(&self) -> bool {
        todo!("stage 1: no agents")
    }
}
