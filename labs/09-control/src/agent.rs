//! The agent: dials out to the master and keeps the connection up (reconnecting with
//! [`Backoff`]), sends heartbeats, checks every command it is sent ([`Checker`], the allow-list)
//! and runs those that pass, sending back how each ended.
//!
//! Everything that must survive a reconnect lives outside one connection: the nonces seen (a
//! command replayed on a new connection is still a replay) and the replies not yet sent (a command
//! that finishes while the master is away is reported when it is back).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

pub use rpc::AllowList;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::PROTOCOL_VERSION;
use crate::backoff::{Backoff, keep_connected};
use crate::command::{Checker, Refusal, SignedCommand, Verified};
use crate::exec::{MAX_OUTPUT, run_program};
use crate::keys::{Identity, PublicKey};
use crate::session::{self, Session};
use crate::target::Target;
use crate::wire::{
    FrameReader, Hello, JobStatus, Outcome, Reply, ToAgent, ToMaster, decode, encode, read_frame,
};

/// How an agent is set up.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Its id, as enrolled on the master.
    pub id: String,
    /// Its key pair.
    pub identity: Identity,
    /// The master's address.
    pub master: SocketAddr,
    /// The master's public key, pinned: a master without it is not talked to.
    pub master_key: PublicKey,
    /// Its tags, sent in its hello.
    pub tags: BTreeMap<String, String>,
    /// The operators whose signed commands it runs.
    pub operators: Vec<PublicKey>,
    /// The programs it may run; an empty list runs nothing.
    pub allow: AllowList,
    /// How often it sends a heartbeat until the master says otherwise; three silent intervals from
    /// the master and it reconnects.
    pub heartbeat: Duration,
    /// The first reconnect waits under this.
    pub backoff_base: Duration,
    /// No reconnect waits this long or longer.
    pub backoff_cap: Duration,
    /// The longest validity of a command it accepts.
    pub max_ttl: Duration,
    /// The local address to dial from, when not the system's choice (the swarm spreads its agents
    /// over 127.0.0.x).
    pub source: Option<IpAddr>,
    /// How it runs a program: a real process, or (a simulated machine) the built-in echo.
    pub exec: Exec,
    /// Signatures verified by the other agents of its swarm, when it is one of many simulated
    /// in one process ([`Checker::sharing`]).
    pub verified: Option<Arc<Verified>>,
}

/// How an agent runs the programs of the commands it accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Exec {
    /// In a process of its own (its own process group), as a real machine does.
    #[default]
    Process,
    /// Built in, for a swarm of simulated machines: every check is made as for a process, then
    /// the program is not started but "echoed": it exits 0 having printed its path and arguments,
    /// separated by spaces, and a newline.
    Echo,
}

impl AgentConfig {
    /// An agent `id` with `identity`, dialing `master` whose key is `master_key`: heartbeats every
    /// 10 s, reconnects from 1 s up to 30 s, commands valid for up to an hour, no operators and an
    /// empty allow-list (so it runs nothing until told whom to trust and what to run).
    pub fn new(id: &str, identity: Identity, master: SocketAddr, master_key: PublicKey) -> AgentConfig {
        AgentConfig {
            id: id.to_owned(),
            identity,
            master,
            master_key,
            tags: BTreeMap::new(),
            operators: Vec::new(),
            allow: AllowList::default(),
            heartbeat: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(30),
            max_ttl: Duration::from_secs(3600),
            source: None,
            exec: Exec::Process,
            verified: None,
        }
    }
}

/// What an agent reports of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentStatus {
    /// Whether its session with the master is up.
    pub connected: bool,
    /// How many sessions it has had.
    pub sessions: u64,
    /// Why its last attempt or session ended, if one did.
    pub last_error: Option<String>,
    /// How many commands it refused.
    pub refused: u64,
    /// How many commands it ran.
    pub ran: u64,
}

/// A running agent.
#[derive(Debug)]
pub struct AgentHandle {
    status: Arc<Mutex<AgentStatus>>,
    frozen: Arc<AtomicBool>,
    cut: Arc<Notify>,
    task: JoinHandle<()>,
}

impl AgentHandle {
    /// What it reports now.
    pub fn status(&self) -> AgentStatus {
        todo!("stage 2: a copy of the shared status, even from a poisoned lock")
    }

    /// Waits for it to stop (after its shutdown).
    pub async fn join(self) {
        todo!("stage 2: await the task")
    }

    /// Stops it at once, connection and all: a machine that died.
    pub fn kill(&self) {
        todo!("stage 2: abort the task")
    }

    /// Makes it hang: its connection stays open, but it reads, sends and runs nothing more, as a
    /// machine that froze or a network that dropped it silently. For fault injection.
    pub fn freeze(&self) {
        todo!("stage 2: set the frozen flag")
    }

    /// Drops its connection, as a network that failed for a moment: it reconnects as after any
    /// other loss, and the commands it runs carry on. For fault injection.
    pub fn cut_connection(&self) {
        todo!("stage 4: notify the session to end")
    }
}

/// Starts an agent on the current runtime, running until `shutdown`.
pub fn spawn_agent(config: AgentConfig, shutdown: CancellationToken) -> AgentHandle {
    todo!("stage 2: spawn run_agent with a shared status and frozen flag. Stage 4: and the cut notifier")
}

/// The agent's state across connections.
struct Agent {
    config: AgentConfig,
    checker: Checker,
    /// Replies of finished commands, sent in order once a session is up.
    unsent: VecDeque<Reply>,
    /// The commands running now, by id, with when each expires: what a [`ToAgent::FindJob`] is
    /// answered from.
    running: HashMap<u64, u64>,
    /// The replies of the commands that finished and have not expired: a [`ToAgent::FindJob`] for
    /// one of them (from a master that restarted before it wrote the reply down) is answered with
    /// the reply again.
    finished: HashMap<u64, (Reply, u64)>,
    replies: (mpsc::UnboundedSender<Reply>, mpsc::UnboundedReceiver<Reply>),
    status: Arc<Mutex<AgentStatus>>,
    frozen: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

async fn run_agent(
    config: AgentConfig,
    status: Arc<Mutex<AgentStatus>>,
    frozen: Arc<AtomicBool>,
    cut: Arc<Notify>,
    shutdown: CancellationToken,
) {
    todo!(
        "stage 2: keep_connected over sessions, with a backoff seeded for this agent, and the status updated when each ends. Stage 5: a checker sharing the swarm verified signatures when given"
    )
}

impl Agent {
    fn status(&self) -> std::sync::MutexGuard<'_, AgentStatus> {
        todo!("stage 2: lock the status, even a poisoned one")
    }

    /// One connection: dial, handshake, hello, then serve until it ends. `Ok` (with why it ended)
    /// once a session was up, `Err` when none came up.
    async fn session(&mut self) -> Result<String, String> {
        todo!("stage 2: dial, handshake within HANDSHAKE_TIMEOUT, send the hello, mark connected, then serve")
    }

    /// Serves a session until it fails; why it ended.
    async fn serve(
        &mut self,
        stream: &mut TcpStream,
        frames: &mut FrameReader,
        session: &mut Session,
    ) -> String {
        todo!(
            "stage 2: hang when frozen; send the unsent replies; then a frame, a heartbeat due, or a finished reply. Stage 3: answer FindJob from the running ids. Stage 4: with the reply itself when it finished; end when the connection is cut"
        )
    }

    /// Queues the reply of a command that finished, and keeps it until the command expires.
    fn finish(&mut self, reply: Reply) {
        todo!("stage 4: keep the reply until the command expires, forget the expired, and queue it")
    }

    /// Checks a command and starts it, or queues its refusal.
    fn start(&mut self, signed: &SignedCommand) {
        todo!(
            "stage 2: the checker and the allow-list; queue a refusal, or spawn run_program and send its reply. Stage 3: refuse a command whose target does not match this agent, and keep the running ids. Stage 5: with Exec Echo, finish at once with the program and arguments as output, capped"
        )
    }
}

/// The longest a handshake may take before the attempt counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `master`, from `source` when given.
async fn dial(master: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    todo!("stage 2: a TcpSocket bound to source when given, connected within HANDSHAKE_TIMEOUT, nodelay")
}

/// A backoff seed of the agent's own: its key's bytes and the clock, so no two agents, and no two
/// starts of one, wait alike.
fn seed_for(config: &AgentConfig) -> u64 {
    todo!("stage 2: the key first 8 bytes mixed with the clock")
}
