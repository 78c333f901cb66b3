//! The command service: `exec` runs an allow-listed program for an authenticated caller and
//! streams its output back ([`ExecService`]); [`exec`] and [`collect`] are the client's side.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::auth::{Envelope, Secret, Verifier};
use crate::client::Client;
use crate::error::Error;
use crate::process::run_program;
use crate::push::{Publisher, Subscription};
use crate::service::{Call, Service};
use crate::status::{ErrorCode, RemoteError, from_payload, to_payload};

/// The method name of the command service.
pub const METHOD: &str = "exec";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRequest {
    /// The program, by the exact path on the allow-list (no `PATH` search, no shell).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Kill it (and everything it started) after this many milliseconds.
    pub timeout_ms: u64,
}

/// One message of an `exec` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecEvent {
    /// The program started; its process group has the same id as its pid.
    Started {
        /// The program's pid, also its process group id.
        pid: i32,
    },
    /// Bytes it wrote to standard output.
    Stdout(Vec<u8>),
    /// Bytes it wrote to standard error.
    Stderr(Vec<u8>),
    /// It ended; the last message.
    Exited(ExitReport),
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitReport {
    /// Its exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// Whether output beyond the cap was dropped.
    pub truncated: bool,
}

impl ExitReport {
    /// The status a shell would report: the exit code, or 128 + the signal.
    pub fn status(&self) -> i32 {
        self.code.or(self.signal.map(|signal| 128 + signal)).unwrap_or(1)
    }
}

/// The programs that may be run, by exact path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    programs: HashSet<String>,
}

impl AllowList {
    /// Parses an allow file: one program path per line; blank lines and `#` comments ignored.
    pub fn parse(text: &str) -> AllowList {
        let programs = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        AllowList { programs }
    }

    /// The allow file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be read.
    pub fn load(path: &Path) -> Result<AllowList, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::file(path))?;
        Ok(AllowList::parse(&text))
    }

    /// Whether `program` may run.
    pub fn allows(&self, program: &str) -> bool {
        self.programs.contains(program)
    }
}

/// One decision of the command service, for the audit log.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// Who asked.
    pub peer: SocketAddr,
    /// The program asked for (empty when the request could not be read).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// `Ok` if it ran, or why it was refused.
    pub verdict: Result<(), RemoteError>,
}

/// Where the service reports what it ran and what it refused.
pub type AuditLog = Arc<dyn Fn(&AuditEvent) + Send + Sync>;

/// The command service's settings.
#[derive(Clone)]
pub struct ExecConfig {
    /// What may run.
    pub allow: AllowList,
    /// The key callers sign with; `None` refuses every request.
    pub secret: Option<Secret>,
    /// The most bytes sent of each of stdout and stderr; the rest is dropped.
    pub max_output: usize,
    /// The longest timeout a caller may ask for.
    pub max_timeout: Duration,
    /// The longest signature lifetime accepted (nonces are kept that long).
    pub max_ttl: Duration,
    /// The most nonces remembered at once.
    pub nonce_capacity: usize,
    /// Told of every decision.
    pub audit: Option<AuditLog>,
}

impl ExecConfig {
    /// Defaults: 1 MiB of output per stream, timeouts up to an hour, signatures valid up to five
    /// minutes, 100,000 nonces, no audit log.
    pub fn new(allow: AllowList, secret: Option<Secret>) -> ExecConfig {
        ExecConfig {
            allow,
            secret,
            max_output: 1 << 20,
            max_timeout: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(300),
            nonce_capacity: 100_000,
            audit: None,
        }
    }
}

impl std::fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecConfig")
            .field("allow", &self.allow)
            .field("max_output", &self.max_output)
            .finish()
    }
}

/// The command service.
pub struct ExecService {
    config: ExecConfig,
    verifier: Verifier,
}

impl ExecService {
    /// The service with `config`.
    pub fn new(config: ExecConfig) -> ExecService {
        let verifier = Verifier::new(config.secret.clone(), config.max_ttl, config.nonce_capacity);
        ExecService { config, verifier }
    }

    /// Registers the `exec` stream on `service`.
    pub fn register(self, service: &mut Service) {
        let this = Arc::new(self);
        service.stream(METHOD, move |call, publisher| {
            let this = Arc::clone(&this);
            async move { this.exec(call, publisher).await }
        });
    }

    async fn exec(&self, call: Call, mut publisher: Publisher) -> Result<(), RemoteError> {
        let mut event =
            AuditEvent { peer: call.peer, program: String::new(), args: Vec::new(), verdict: Ok(()) };
        let checked = self.check(&call, &mut event);
        event.verdict = checked.as_ref().map(|_| ()).map_err(Clone::clone);
        if let Some(audit) = &self.config.audit {
            audit(&event);
        }
        let request = checked?;
        let timeout = Duration::from_millis(request.timeout_ms).min(self.config.max_timeout);
        run_program(&request, timeout, self.config.max_output, &mut publisher).await
    }

    // ANCHOR: check
    fn check(&self, call: &Call, event: &mut AuditEvent) -> Result<ExecRequest, RemoteError> {
        let envelope: Envelope = call.decode()?;
        self.verifier
            .verify(METHOD, &envelope, SystemTime::now())
            .map_err(|err| RemoteError::new(ErrorCode::Unauthenticated, err.to_string()))?;
        let request: ExecRequest = from_payload(&envelope.body)
            .map_err(|err| RemoteError::new(ErrorCode::BadRequest, format!("bad exec request: {err}")))?;
        event.program.clone_from(&request.program);
        event.args.clone_from(&request.args);
        if !self.config.allow.allows(&request.program) {
            return Err(RemoteError::new(
                ErrorCode::Forbidden,
                format!("{} is not on the allow-list", request.program),
            ));
        }
        Ok(request)
    }
    // ANCHOR_END: check
}

/// `request` signed with `secret` (or unsigned when `None`), valid for `ttl`.
pub fn envelope(request: &ExecRequest, secret: Option<&Secret>, ttl: Duration) -> Envelope {
    // A struct of strings and integers always serializes.
    let body = to_payload(request).unwrap_or_default();
    match secret {
        Some(secret) => Envelope::sign(secret, METHOD, body, SystemTime::now() + ttl),
        None => Envelope::unsigned(body),
    }
}

/// Starts `request` on the server behind `client`, signed with `secret` for 60 seconds; the
/// subscription yields [`ExecEvent`]s.
///
/// # Errors
///
/// When the server cannot be reached; a refusal is the stream's first message.
pub async fn exec(
    client: &Client,
    secret: Option<&Secret>,
    request: &ExecRequest,
) -> Result<Subscription, Error> {
    exec_envelope(client, &envelope(request, secret, Duration::from_secs(60))).await
}

/// Sends a prepared envelope to `exec` (to retry it, or to test replays).
///
/// # Errors
///
/// As [`exec`].
pub async fn exec_envelope(client: &Client, envelope: &Envelope) -> Result<Subscription, Error> {
    client.subscribe(METHOD, envelope).await
}

/// Everything a finished `exec` sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The program's pid and process group id.
    pub pid: i32,
    /// All of its standard output (up to the cap).
    pub stdout: Vec<u8>,
    /// All of its standard error (up to the cap).
    pub stderr: Vec<u8>,
    /// How it ended.
    pub exit: ExitReport,
}

/// Reads an `exec` stream to its end.
///
/// # Errors
///
/// The server's refusal, a broken connection, or a stream that ends without an exit report.
pub async fn collect(mut events: Subscription) -> Result<ExecOutput, Error> {
    let (mut pid, mut stdout, mut stderr) = (0, Vec::new(), Vec::new());
    while let Some(event) = events.next::<ExecEvent>().await {
        match event? {
            ExecEvent::Started { pid: started } => pid = started,
            ExecEvent::Stdout(bytes) => stdout.extend_from_slice(&bytes),
            ExecEvent::Stderr(bytes) => stderr.extend_from_slice(&bytes),
            ExecEvent::Exited(exit) => return Ok(ExecOutput { pid, stdout, stderr, exit }),
        }
    }
    let source = RemoteError::internal("the exec stream ended without an exit status");
    Err(Error::Remote { method: METHOD.to_owned(), source })
}
