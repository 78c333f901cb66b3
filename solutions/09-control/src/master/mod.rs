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
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<u64, Route>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn seen(&self) -> MutexGuard<'_, HashMap<String, BTreeMap<String, String>>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `message` for agent `id`; whether it is connected and keeping up (a full outbox is
    /// an agent too far behind: it is not waited for).
    fn send_to(&self, id: &str, message: &Arc<[u8]>) -> bool {
        self.registry().handle(id).is_some_and(|link| link.outbox.try_send(Arc::clone(message)).is_ok())
    }

    /// Keeps job `id`'s progress, forgetting the oldest of the jobs that are over past
    /// [`JOBS_KEPT`].
    fn keep_job(&self, id: u64, progress: Arc<Mutex<Progress>>) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let over: Vec<u64> = jobs
            .iter()
            .filter(|(_, progress)| progress.lock().unwrap_or_else(PoisonError::into_inner).is_over())
            .map(|(id, _)| *id)
            .collect();
        // Ids are random: which of the jobs over goes first matters little, so long as they go.
        for id in over.iter().skip(JOBS_KEPT.saturating_sub(1)) {
            jobs.remove(id);
        }
        jobs.insert(id, progress);
    }

    /// Starts rolling `plan` out, its replies routed to it.
    fn roll_out(self: &Arc<Self>, plan: Plan) {
        let (route, heard) = mpsc::unbounded_channel();
        self.runs().insert(plan.id, route);
        rollout::start(Arc::clone(self), plan, heard);
    }

    /// Passes what agent `id` said of command `command` to the dispatch or job awaiting it, if any.
    fn route(&self, command: u64, id: &str, heard: Heard) {
        if let Some(route) = self.runs().get(&command) {
            let _ = route.send((id.to_owned(), heard));
        }
    }

    /// Appends `record` to the audit log, if there is one; a failed write is logged, and the
    /// master carries on.
    fn audit(&self, record: &AuditRecord) {
        if let Some(log) = &self.audit
            && let Err(err) = log.record(record)
        {
            tracing::error!(cause = %err, "audit log not written");
        }
    }

    /// The checks an agent makes on `signed`; a refusal is audited.
    fn check(&self, signed: &SignedCommand) -> Result<crate::command::Command, Refusal> {
        let checked =
            self.checker.lock().unwrap_or_else(PoisonError::into_inner).check(signed, SystemTime::now());
        if let Err(refusal) = &checked {
            self.audit(&AuditRecord::Refused {
                at_ms: unix_ms(SystemTime::now()),
                operator: hex::encode(signed.operator),
                reason: refusal.to_string(),
            });
        }
        checked
    }

    /// The key store's verdict on an agent's handshake; a store that cannot be read refuses.
    fn admit(&self, id: &str, key: &PublicKey) -> Admission {
        match self.config.keys.admit(id, key, self.config.auto_accept) {
            Ok(admission) => {
                if admission == Admission::Pending {
                    tracing::info!(agent = id, key = %key.fingerprint(), "key pending: accept it with `control keys accept`");
                }
                admission
            }
            Err(err) => {
                tracing::error!(cause = %err, agent = id, "key store unreadable");
                Admission::Refused("the master cannot read its key store".into())
            }
        }
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
        let listener = TcpListener::bind(addr).await.map_err(Error::sys(format!("bind {addr}")))?;
        let api = match &config.api {
            Some(path) => Some(api::bind(path).await?),
            None => None,
        };
        let timeout = 3 * config.heartbeat;
        let checker = Checker::new(config.operators.clone(), Duration::from_secs(24 * 3600));
        let journal = match &config.audit {
            Some(path) if path.exists() => AuditLog::read(path)?,
            _ => Vec::new(),
        };
        let audit = config.audit.as_deref().map(AuditLog::open).transpose()?;
        let shared = Arc::new(Shared {
            config,
            registry: Mutex::new(Registry::new(timeout)),
            runs: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
            checker: Mutex::new(checker),
            audit,
            jobs: Mutex::new(HashMap::new()),
            stopping: CancellationToken::new(),
        });
        for unfinished in recover::unfinished(journal, 3 * shared.config.heartbeat) {
            // Its nonce is seen: the same signed command sent again is a replay here too.
            let _ = shared
                .checker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .check(&unfinished.signed, SystemTime::now());
            tracing::info!(job = unfinished.plan.id, "an unfinished job taken up again");
            shared.roll_out(unfinished.plan);
        }
        Ok(Master { listener, api, shared })
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the socket cannot say.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener.local_addr().map_err(Error::sys("getsockname"))
    }

    /// A handle on it, valid while it runs.
    pub fn handle(&self) -> MasterHandle {
        MasterHandle { shared: Arc::clone(&self.shared) }
    }

    /// Accepts agents and serves them until `shutdown`; then every connection is closed.
    pub async fn run(self, shutdown: CancellationToken) {
        let Master { listener, api, shared } = self;
        let handle = MasterHandle { shared: Arc::clone(&shared) };
        // Stopped with the rest, and waited for: its socket file is free when `run` returns.
        let api = api.map(|api| tokio::spawn(api::serve(api, handle.clone(), shutdown.child_token())));
        let mut expiry = tokio::time::interval(shared.config.heartbeat);
        let mut keys_poll = tokio::time::interval(shared.config.keys_poll);
        let mut accepted_stamp = None;
        let connections = CancellationToken::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(connection::serve(Arc::clone(&shared), stream, peer, connections.child_token()));
                    }
                    // Out of descriptors, or a connection reset before it was accepted: the
                    // listener itself is fine, so wait a moment rather than spin.
                    Err(err) => {
                        tracing::warn!(cause = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                _ = expiry.tick() => {
                    let expired = shared.registry().expire(std::time::Instant::now());
                    for (id, _link) in expired {
                        tracing::info!(agent = %id, "no heartbeat: dropped");
                    }
                }
                _ = keys_poll.tick() => {
                    let stamp = shared.config.keys.stamp(KeyState::Accepted);
                    if stamp.is_none() || stamp != accepted_stamp {
                        accepted_stamp = stamp;
                        if let Err(err) = handle.reload_keys() {
                            tracing::error!(cause = %err, "key store unreadable");
                        }
                    }
                }
                () = shutdown.cancelled() => break,
            }
        }
        // Each connection's task ends on this, and takes its agent out of the registry; each
        // rollout stops where it is, for a restarted master to take up.
        connections.cancel();
        shared.stopping.cancel();
        if let Some(api) = api {
            let _ = api.await;
        }
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
        self.shared.registry().list()
    }

    /// Agent `id`, when connected.
    pub fn agent(&self, id: &str) -> Option<AgentInfo> {
        self.shared.registry().get(id).cloned()
    }

    /// Reads the key store and cuts off every connected agent whose key is no longer accepted;
    /// how many were cut off.
    ///
    /// # Errors
    ///
    /// When the key store cannot be read; nobody is cut off then.
    pub fn reload_keys(&self) -> Result<usize, Error> {
        let accepted: HashMap<String, PublicKey> = self
            .shared
            .config
            .keys
            .list()?
            .into_iter()
            .filter(|entry| entry.state == KeyState::Accepted)
            .map(|entry| (entry.id, entry.key))
            .collect();
        let mut registry = self.shared.registry();
        let keys = &self.shared.config.keys;
        // An agent admitted since the store was listed is not in the list: ask the store again
        // about each before cutting it off.
        let revoked: Vec<String> = registry
            .ids()
            .filter(|id| registry.handle(id).is_some_and(|link| accepted.get(*id) != Some(&link.key)))
            .filter(|id| {
                let entry = keys.find(id).ok().flatten();
                !entry.is_some_and(|entry| {
                    entry.state == KeyState::Accepted
                        && registry.handle(id).is_some_and(|link| link.key == entry.key)
                })
            })
            .map(str::to_owned)
            .collect();
        for id in &revoked {
            tracing::info!(agent = %id, "key no longer accepted: disconnected");
            registry.remove(id);
        }
        Ok(revoked.len())
    }

    /// Sends `signed` to the connected agents among `ids`, after checking it as an agent would
    /// (a trusted operator's signature, this version, valid, never seen): the master relays no
    /// command an agent would refuse for its signature.
    ///
    /// # Errors
    ///
    /// The [`Refusal`] of a command that fails the checks; nothing is sent then.
    pub fn dispatch(&self, signed: &SignedCommand, ids: &[String]) -> Result<Dispatch, Refusal> {
        let command = self.shared.check(signed)?;
        let (replies_tx, replies) = mpsc::unbounded_channel();
        self.shared.runs().insert(command.id, replies_tx);
        // Encoded once for all: each connection only seals it with its own keys.
        let message: Arc<[u8]> = encode(&ToAgent::Run(signed.clone())).into();
        let (sent, unreachable) = ids.iter().cloned().partition(|id| self.shared.send_to(id, &message));
        Ok(Dispatch { id: command.id, sent, unreachable, replies })
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
        let command = self.shared.check(signed)?;
        let target = Target::parse(&command.targets).map_err(|err| Refusal::BadTarget(err.to_string()))?;
        // Matched in place, under the lock: only the names chosen are copied, not every agent.
        let mut connected: Vec<String> = {
            let registry = self.shared.registry();
            registry
                .ids()
                .filter(|id| registry.get(id).is_some_and(|agent| target.matches(id, &agent.tags)))
                .map(str::to_owned)
                .collect()
        };
        connected.sort_unstable();
        let absent = self.absent_matching(&target, &connected);
        let hosts: Vec<String> = connected.iter().chain(&absent).cloned().collect();
        self.shared.audit(&AuditRecord::Start {
            at_ms: unix_ms(SystemTime::now()),
            job: command.id,
            operator: hex::encode(signed.operator),
            targets: command.targets.clone(),
            program: command.program.clone(),
            args: command.args.clone(),
            hosts: hosts.clone(),
            batch: options.batch.map(|batch| batch.to_string()),
            failure_budget: options.failure_budget.map(|budget| budget.to_string()),
            wait_ms: millis(options.wait),
            probe_ms: millis(options.probe),
            signed: signed.clone(),
        });
        self.shared.roll_out(Plan {
            id: command.id,
            run: encode(&ToAgent::Run(signed.clone())).into(),
            hosts,
            queue: VecDeque::from(connected),
            sent: Vec::new(),
            ended: Vec::new(),
            absent,
            options: options.clone(),
            stopped: false,
            pause: Duration::ZERO,
        });
        Ok(self.follow(command.id).expect("a job just started is kept"))
    }

    /// Whether job `id` is over: every host it named has ended. `false` for a job this master does
    /// not know.
    pub fn is_over(&self, id: u64) -> bool {
        let progress = self.shared.jobs.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
        progress.is_some_and(|progress| progress.lock().unwrap_or_else(PoisonError::into_inner).is_over())
    }

    /// Follows job `id`: its events from the start, then as they happen. `None` for a job this
    /// master does not know (or no longer keeps).
    pub fn follow(&self, id: u64) -> Option<Job> {
        let progress = self.shared.jobs.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()?;
        let job = progress.lock().unwrap_or_else(PoisonError::into_inner).follow();
        Some(job)
    }

    /// The accepted agents not among `connected` that `target` names by the tags they last said
    /// (none, for one not seen since the master started); a key store that cannot be read names
    /// none, and says so in the log.
    fn absent_matching(&self, target: &Target, connected: &[String]) -> Vec<String> {
        let accepted = match self.shared.config.keys.list() {
            Ok(entries) => entries,
            Err(err) => {
                tracing::error!(cause = %err, "key store unreadable: absent agents not targeted");
                return Vec::new();
            }
        };
        let connected: std::collections::HashSet<&str> = connected.iter().map(String::as_str).collect();
        let seen = self.shared.seen();
        let none = BTreeMap::new();
        accepted
            .into_iter()
            .filter(|entry| entry.state == KeyState::Accepted && !connected.contains(entry.id.as_str()))
            .filter(|entry| target.matches(&entry.id, seen.get(&entry.id).unwrap_or(&none)))
            .map(|entry| entry.id)
            .collect()
    }

    /// Stops routing the replies of command `id` (its run is over).
    pub fn forget(&self, id: u64) {
        self.shared.runs().remove(&id);
    }
}
