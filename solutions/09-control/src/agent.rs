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
        self.status.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits for it to stop (after its shutdown).
    pub async fn join(self) {
        let _ = self.task.await;
    }

    /// Stops it at once, connection and all: a machine that died.
    pub fn kill(&self) {
        self.task.abort();
    }

    /// Makes it hang: its connection stays open, but it reads, sends and runs nothing more, as a
    /// machine that froze or a network that dropped it silently. For fault injection.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    /// Drops its connection, as a network that failed for a moment: it reconnects as after any
    /// other loss, and the commands it runs carry on. For fault injection.
    pub fn cut_connection(&self) {
        self.cut.notify_one();
    }
}

/// Starts an agent on the current runtime, running until `shutdown`.
pub fn spawn_agent(config: AgentConfig, shutdown: CancellationToken) -> AgentHandle {
    let status = Arc::new(Mutex::new(AgentStatus::default()));
    let frozen = Arc::new(AtomicBool::new(false));
    let cut = Arc::new(Notify::new());
    let task =
        tokio::spawn(run_agent(config, Arc::clone(&status), Arc::clone(&frozen), Arc::clone(&cut), shutdown));
    AgentHandle { status, frozen, cut, task }
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
    let seed = seed_for(&config);
    let mut backoff = Backoff::new(config.backoff_base, config.backoff_cap, seed);
    let stable = config.backoff_cap;
    let mut checker = Checker::new(config.operators.clone(), config.max_ttl);
    if let Some(verified) = &config.verified {
        checker = checker.sharing(Arc::clone(verified));
    }
    let agent = tokio::sync::Mutex::new(Agent {
        config,
        checker,
        unsent: VecDeque::new(),
        running: HashMap::new(),
        finished: HashMap::new(),
        replies: mpsc::unbounded_channel(),
        status,
        frozen,
        cut,
    });
    keep_connected(&mut backoff, stable, &shutdown, || async {
        let mut agent = agent.lock().await;
        let result = agent.session().await;
        let connected = result.is_ok();
        let mut status = agent.status();
        status.connected = false;
        status.last_error = Some(match result {
            Ok(ended) | Err(ended) => ended,
        });
        connected
    })
    .await;
}

impl Agent {
    fn status(&self) -> std::sync::MutexGuard<'_, AgentStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One connection: dial, handshake, hello, then serve until it ends. `Ok` (with why it ended)
    /// once a session was up, `Err` when none came up.
    async fn session(&mut self) -> Result<String, String> {
        let mut stream =
            dial(self.config.master, self.config.source).await.map_err(|err| format!("connect: {err}"))?;
        let mut frames = FrameReader::new();
        let handshake = session::connect(
            &mut stream,
            &mut frames,
            &self.config.identity,
            &self.config.id,
            &self.config.master_key,
        );
        let mut session = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(session)) => session,
            Ok(Err(err)) => {
                tracing::warn!(cause = %err, master = %self.config.master, "no session");
                return Err(err.to_string());
            }
            Err(_) => return Err("handshake timed out".into()),
        };
        let hello = ToMaster::Hello(Hello { version: PROTOCOL_VERSION, tags: self.config.tags.clone() });
        session.send(&mut stream, &encode(&hello)).await.map_err(|err| err.to_string())?;
        {
            let mut status = self.status();
            status.connected = true;
            status.sessions += 1;
        }
        tracing::debug!(master = %self.config.master, "connected");
        Ok(self.serve(&mut stream, &mut frames, &mut session).await)
    }

    /// Serves a session until it fails; why it ended.
    async fn serve(
        &mut self,
        stream: &mut TcpStream,
        frames: &mut FrameReader,
        session: &mut Session,
    ) -> String {
        let (mut reader, mut writer) = stream.split();
        let mut heartbeat = self.config.heartbeat;
        let mut next_beat = Instant::now() + heartbeat;
        let mut last_heard = Instant::now();
        loop {
            if self.frozen.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            while let Some(reply) = self.unsent.front() {
                if let Err(err) = session.send(&mut writer, &encode(&ToMaster::Reply(reply.clone()))).await {
                    return err.to_string();
                }
                self.unsent.pop_front();
            }
            tokio::select! {
                frame = read_frame(&mut reader, frames) => {
                    let message = match frame {
                        Ok(Some(sealed)) => match session.open(&sealed) {
                            Ok(plain) => decode::<ToAgent>(&plain).map_err(|err| err.to_string()),
                            Err(err) => Err(err.to_string()),
                        },
                        Ok(None) => return "the master closed the connection".into(),
                        Err(err) => return err.to_string(),
                    };
                    last_heard = Instant::now();
                    match message {
                        Ok(ToAgent::Welcome(welcome)) => {
                            heartbeat = Duration::from_millis(welcome.heartbeat_ms.max(1));
                            next_beat = Instant::now() + heartbeat;
                        }
                        Ok(ToAgent::Heartbeat) => {}
                        Ok(ToAgent::Run(signed)) => self.start(&signed),
                        Ok(ToAgent::FindJob(command)) => {
                            // Unsent replies went first, on this same connection: "not running"
                            // and no reply means "never here".
                            let answer = match self.finished.get(&command) {
                                Some((reply, _)) => ToMaster::Reply(reply.clone()),
                                None => ToMaster::Job(JobStatus { command, running: self.running.contains_key(&command) }),
                            };
                            if let Err(err) = session.send(&mut writer, &encode(&answer)).await {
                                return err.to_string();
                            }
                        }
                        Err(err) => return err,
                    }
                }
                () = tokio::time::sleep_until(next_beat) => {
                    if last_heard.elapsed() > 3 * heartbeat {
                        return "the master went silent".into();
                    }
                    if let Err(err) = session.send(&mut writer, &encode(&ToMaster::Heartbeat)).await {
                        return err.to_string();
                    }
                    next_beat = Instant::now() + heartbeat;
                }
                Some(reply) = self.replies.1.recv() => self.finish(reply),
                () = self.cut.notified() => return "the connection was cut".into(),
            }
        }
    }

    /// Queues the reply of a command that finished, and keeps it until the command expires.
    fn finish(&mut self, reply: Reply) {
        let now = crate::command::unix_ms(SystemTime::now());
        self.finished.retain(|_, (_, expires_ms)| *expires_ms >= now);
        if let Some(expires_ms) = self.running.remove(&reply.command) {
            self.finished.insert(reply.command, (reply.clone(), expires_ms));
        }
        self.unsent.push_back(reply);
    }

    /// Checks a command and starts it, or queues its refusal.
    fn start(&mut self, signed: &SignedCommand) {
        let checked = self.checker.check(signed, SystemTime::now()).and_then(|command| {
            let target =
                Target::parse(&command.targets).map_err(|err| Refusal::BadTarget(err.to_string()))?;
            if !target.matches(&self.config.id, &self.config.tags) {
                return Err(Refusal::NotTargeted);
            }
            match self.config.allow.allows(&command.program) {
                true => Ok(command),
                false => Err(Refusal::NotAllowed(command.program)),
            }
        });
        let command = match checked {
            Ok(command) => command,
            Err(refusal) => {
                tracing::warn!(%refusal, "command refused");
                self.status().refused += 1;
                // A refusal names the command when its id can be read at all.
                let id = signed.command().map_or(0, |command| command.id);
                self.unsent.push_back(Reply { command: id, outcome: Outcome::Refused(refusal) });
                return;
            }
        };
        self.status().ran += 1;
        self.running.insert(command.id, command.expires_ms);
        if self.config.exec == Exec::Echo {
            let echoed =
                std::iter::once(&command.program).chain(&command.args).cloned().collect::<Vec<_>>().join(" ");
            let mut stdout = format!("{echoed}\n").into_bytes();
            let truncated = stdout.len() > MAX_OUTPUT;
            stdout.truncate(MAX_OUTPUT);
            let exit = crate::wire::Exit { code: Some(0), stdout, truncated, ..Default::default() };
            self.finish(Reply { command: command.id, outcome: Outcome::Exited(exit) });
            return;
        }
        let replies = self.replies.0.clone();
        tokio::spawn(async move {
            let outcome =
                match run_program(&command.program, &command.args, command.timeout(), MAX_OUTPUT).await {
                    Ok(exit) => Outcome::Exited(exit),
                    Err(cause) => Outcome::Exited(crate::wire::Exit {
                        code: Some(127),
                        stderr: cause.into_bytes(),
                        ..Default::default()
                    }),
                };
            let _ = replies.send(Reply { command: command.id, outcome });
        });
    }
}

/// The longest a handshake may take before the attempt counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `master`, from `source` when given.
async fn dial(master: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let socket = match master {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, socket.connect(master))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A backoff seed of the agent's own: its key's bytes and the clock, so no two agents, and no two
/// starts of one, wait alike.
fn seed_for(config: &AgentConfig) -> u64 {
    let key = config.identity.public().to_bytes();
    let clock = crate::command::unix_ms(SystemTime::now());
    u64::from_le_bytes(key[..8].try_into().unwrap_or_default()) ^ clock.rotate_left(17)
}
