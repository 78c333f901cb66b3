//! The master: accepts the agents' connections (`connection`), admits those whose keys are
//! accepted, keeps them in a [`Registry`], and sends them the commands operators signed.
//!
//! A [`Master`] is bound, then run until its shutdown; a [`MasterHandle`], cloned freely, is how
//! the rest of a program (the operator API, the tests) sees the connected agents, dispatches
//! commands and follows jobs ([`Job`], `job.rs`) to their end.

mod api;
mod connection;
mod job;
mod recover;
mod rollout;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use self::job::Progress;
pub use self::job::{Ending, Job, JobEvent, JobOptions, Portion};
use self::rollout::Plan;
use crate::audit::{AuditLog, AuditRecord};
use crate::command::{Checker, Refusal, SignedCommand, millis, unix_ms};
use crate::error::Error;
use crate::keys::{Admission, Identity, KeyState, KeyStore, PublicKey};
use crate::registry::{AgentInfo, Registry};
use crate::target::Target;
use crate::wire::{JobStatus, Reply, ToAgent, encode};

/// How a master is set up.
#[derive(Debug, Clone)]
pub struct MasterConfig {
    /// Its key pair, whose public half the agents pin.
    pub identity: Identity,
    /// The agents' enrolment records.
    pub keys: KeyStore,
    /// Whether an agent never seen before is accepted at once (a lab or a demo, not production).
    pub auto_accept: bool,
    /// How often agents send heartbeats; one silent for three is dropped.
    pub heartbeat: Duration,
    /// The longest an agent may take over its handshake and hello.
    pub handshake_timeout: Duration,
    /// The operators whose commands it dispatches.
    pub operators: Vec<PublicKey>,
    /// How often it looks in the key store for keys taken away.
    pub keys_poll: Duration,
    /// The audit log it appends to, if any: also its journal, from which it takes up the jobs a
    /// restart interrupted.
    pub audit: Option<PathBuf>,
    /// The Unix socket operators start and follow jobs on ([`crate::operator`]), if any.
    pub api: Option<PathBuf>,
}

impl MasterConfig {
    /// A master with `identity` over the key store `keys`: nothing auto-accepted, heartbeats every
    /// 10 s, 10 s for a handshake, keys looked at every second, no operators yet, no audit log,
    /// no operator socket.
    pub fn new(identity: Identity, keys: KeyStore) -> MasterConfig {
        MasterConfig {
            identity,
            keys,
            auto_accept: false,
            heartbeat: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            operators: Vec::new(),
            keys_poll: Duration::from_secs(1),
            audit: None,
            api: None,
        }
    }
}

/// A bound master, not yet running.
pub struct Master {
    listener: TcpListener,
    api: Option<tokio::net::UnixListener>,
    shared: Arc<Shared>,
}

/// How the master reaches one agent's connection: dropping it closes the connection.
struct Link {
    outbox: mpsc::Sender<Arc<[u8]>>,
    key: PublicKey,
}

/// What an agent said of a command: routed to the dispatch or job that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// How the command ended there.
    Reply(Reply),
    /// Its answer to a `find_job`.
    Job(JobStatus),
}

/// Where what agents say of one command goes.
type Route = mpsc::UnboundedSender<(String, Heard)>;

/// What the master's tasks share.
struct Shared {
    config: MasterConfig,
    registry: Mutex<Registry<Link>>,
    /// The dispatches and jobs whose replies are awaited, by command id.
    runs: Mutex<HashMap<u64, Route>>,
    /// The tags each agent gave in its last hello, kept when it disconnects: what a target is
    /// matched against for an agent that is away.
    seen: Mutex<HashMap<String, BTreeMap<String, String>>>,
    checker: Mutex<Checker>,
    audit: Option<AuditLog>,
    /// The jobs' progress, running and recently over, by command id.
    jobs: Mutex<HashMap<u64, Arc<Mutex<Progress>>>>,
    /// Cancelled when the master stops: the rollouts stop with it, writing nothing more.
    stopping: CancellationToken,
}

/// How many jobs that are over the master keeps, for followers that come late.
const JOBS_KEPT: usize = 16;

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry<Link>> {
        todo!("stage 2: lock the registry, even a poisoned one")
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<u64, Route>> {
        todo!("stage 2: lock the runs, even a poisoned one")
    }

    fn seen(&self) -> MutexGuard<'_, HashMap<String, BTreeMap<String, String>>> {
        todo!("stage 3: lock the tags seen, even a poisoned lock")
    }

    /// Queues `message` for agent `id`; whether it is connected and keeping up (a full outbox is
    /// an agent too far behind: it is not waited for).
    fn send_to(&self, id: &str, message: &Arc<[u8]>) -> bool {
        todo!("stage 2: try_send to its outbox, if it is connected")
    }

    /// Keeps job `id`'s progress, forgetting the oldest of the jobs that are over past
    /// [`JOBS_KEPT`].
    fn keep_job(&self, id: u64, progress: Arc<Mutex<Progress>>) {
        todo!("stage 3: keep it, forgetting jobs over past JOBS_KEPT")
    }

    /// Starts rolling `plan` out, its replies routed to it.
    fn roll_out(self: &Arc<Self>, plan: Plan) {
        todo!("stage 3: route its replies, then rollout start")
    }

    /// Passes what agent `id` said of command `command` to the dispatch or job awaiting it, if any.
    fn route(&self, command: u64, id: &str, heard: Heard) {
        todo!("stage 2: send it on the command route, if there is one")
    }

    /// Appends `record` to the audit log, if there is one; a failed write is logged, and the
    /// master carries on.
    fn audit(&self, record: &AuditRecord) {
        todo!("stage 3: record it when there is a log; log a failure and carry on")
    }

    /// The checks an agent makes on `signed`; a refusal is audited.
    fn check(&self, signed: &SignedCommand) -> Result<crate::command::Command, Refusal> {
        todo!("stage 2: the checker verdict now. Stage 3: audit a refusal")
    }

    /// The key store's verdict on an agent's handshake; a store that cannot be read refuses.
    fn admit(&self, id: &str, key: &PublicKey) -> Admission {
        todo!("stage 2: the key store admission; one that cannot be read refuses")
    }
}

impl Master {
    /// Binds `addr` (port 0 for any).
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the address or the operator socket cannot be bound; [`Error::File`] when
    /// the audit log cannot be read or opened.
    pub async fn bind(addr: SocketAddr, config: MasterConfig) -> Result<Master, Error> {
        todo!(
            "stage 2: bind, then a registry expiring after three heartbeats and a checker of the operators. Stage 3: open the audit log. Stage 4: bind the socket, and roll out the unfinished jobs of the journal, their nonces seen"
        )
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the socket cannot say.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        todo!("stage 2: the listener address")
    }

    /// A handle on it, valid while it runs.
    pub fn handle(&self) -> MasterHandle {
        todo!("stage 2: a handle sharing the state")
    }

    /// Accepts agents and serves them until `shutdown`; then every connection is closed.
    pub async fn run(self, shutdown: CancellationToken) {
        todo!(
            "stage 2: until shutdown, serve each connection, expire silent agents, reload the keys when accepted changes; then close them all. Stage 3: stop the rollouts. Stage 4: serve the socket, and wait for it at the end"
        )
    }
}

/// A handle on a running master.
#[derive(Clone)]
pub struct MasterHandle {
    shared: Arc<Shared>,
}

/// A command sent to agents: where it went, and its replies as they come.
#[derive(Debug)]
pub struct Dispatch {
    /// The command's id.
    pub id: u64,
    /// The agents it was sent to.
    pub sent: Vec<String>,
    /// The agents it could not be sent to: not connected, or too far behind.
    pub unreachable: Vec<String>,
    /// What the agents say of it, `(agent id, what)`, as it arrives.
    pub replies: mpsc::UnboundedReceiver<(String, Heard)>,
}

impl MasterHandle {
    /// The connected agents, by id.
    pub fn agents(&self) -> Vec<AgentInfo> {
        todo!("stage 2: the registry list")
    }

    /// Agent `id`, when connected.
    pub fn agent(&self, id: &str) -> Option<AgentInfo> {
        todo!("stage 2: the registry info of id")
    }

    /// Reads the key store and cuts off every connected agent whose key is no longer accepted;
    /// how many were cut off.
    ///
    /// # Errors
    ///
    /// When the key store cannot be read; nobody is cut off then.
    pub fn reload_keys(&self) -> Result<usize, Error> {
        todo!("stage 2: remove every agent whose key is not accepted any more")
    }

    /// Sends `signed` to the connected agents among `ids`, after checking it as an agent would
    /// (a trusted operator's signature, this version, valid, never seen): the master relays no
    /// command an agent would refuse for its signature.
    ///
    /// # Errors
    ///
    /// The [`Refusal`] of a command that fails the checks; nothing is sent then.
    pub fn dispatch(&self, signed: &SignedCommand, ids: &[String]) -> Result<Dispatch, Refusal> {
        todo!("stage 2: check it, route its replies, then try_send it to each agent; sent or unreachable")
    }

    /// Starts a job: `signed`, checked as [`MasterHandle::dispatch`] checks it, rolled out to
    /// every enrolled agent its target names (connected ones by their tags, the others by the
    /// tags they last said) as `options` say, and followed until each has ended.
    ///
    /// # Errors
    ///
    /// The [`Refusal`] of a command that fails the checks or whose target does not parse; nothing
    /// is sent then.
    pub fn start(&self, signed: &SignedCommand, options: &JobOptions) -> Result<Job, Refusal> {
        todo!(
            "stage 3: check it, parse its target, name the connected and the absent hosts it matches, audit the start with the signed command, roll out a plan, then follow it"
        )
    }

    /// Whether job `id` is over: every host it named has ended. `false` for a job this master does
    /// not know.
    pub fn is_over(&self, id: u64) -> bool {
        todo!("stage 4: whether the job kept under id is over")
    }

    /// Follows job `id`: its events from the start, then as they happen. `None` for a job this
    /// master does not know (or no longer keeps).
    pub fn follow(&self, id: u64) -> Option<Job> {
        todo!("stage 3: a follower of the progress kept under id")
    }

    /// The accepted agents not among `connected` that `target` names by the tags they last said
    /// (none, for one not seen since the master started); a key store that cannot be read names
    /// none, and says so in the log.
    fn absent_matching(&self, target: &Target, connected: &[String]) -> Vec<String> {
        todo!("stage 3: accepted ids not connected, matched with their last tags")
    }

    /// Stops routing the replies of command `id` (its run is over).
    pub fn forget(&self, id: u64) {
        todo!("stage 2: stop routing its replies")
    }
}
