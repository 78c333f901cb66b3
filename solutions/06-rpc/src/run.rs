//! Running the `rpc` command: serve, call or exec, until done or until `shutdown` completes.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::auth::Secret;
use crate::client::{Client, ClientConfig};
use crate::config::{Command, Config};
use crate::error::Error;
use crate::exec::{AllowList, ExecConfig, ExecEvent, ExecRequest, ExecService};
use crate::server::{Server, ServerConfig};
use crate::service::Service;
use crate::status::{encode_request, from_payload};

/// How a run ended, as the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome(pub u8);

impl Outcome {
    /// The exit status: 0, 130 when interrupted, or what `rpc exec`'s program exited with.
    pub fn exit_code(&self) -> u8 {
        self.0
    }
}

/// The exit status when `shutdown` stopped a call or exec.
const INTERRUPTED: u8 = 130;

/// Runs `config`, writing results to `out` (the bound address, answers, a program's stdout) and a
/// program's stderr to standard error, until done or until `shutdown` completes: a server then
/// shuts down gracefully, a call or exec stops waiting and the outcome is 130.
///
/// # Errors
///
/// When the server cannot listen ([`Error::Sys`]), a file cannot be read ([`Error::File`]), a call
/// fails, or `out` cannot be written ([`Error::Write`]).
pub async fn run(
    config: &Config,
    shutdown: impl Future<Output = ()>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    match &config.command {
        Command::Serve { listen, allow, secret_file, max_in_flight, grace } => {
            let service = build_service(allow.as_deref(), secret_file.as_deref())?;
            let config =
                ServerConfig { max_in_flight: *max_in_flight, grace: *grace, ..ServerConfig::default() };
            serve(*listen, service, config, shutdown, out).await
        }
        Command::Call { addr, method, args, timeout } => {
            call(*addr, method, args, *timeout, shutdown, out).await
        }
        Command::Exec { addr, program, args, timeout, secret_file } => {
            let secret = load_secret(secret_file.as_deref())?;
            let timeout_ms = timeout.as_millis().try_into().unwrap_or(u64::MAX);
            let request = ExecRequest { program: program.clone(), args: args.clone(), timeout_ms };
            exec(*addr, secret.as_ref(), &request, *timeout, shutdown, out).await
        }
    }
}

/// What `rpc serve` offers: the built-in methods, and `exec` of the programs on the allow-list at
/// `allow` (none without one), signed with the secret at `secret_file` if given; each refused exec
/// is reported on standard error.
fn build_service(allow: Option<&Path>, secret_file: Option<&Path>) -> Result<Service, Error> {
    let allow = allow.map(AllowList::load).transpose()?.unwrap_or_default();
    let secret = load_secret(secret_file)?;
    let mut service = Service::new();
    crate::builtin::register(&mut service);
    let mut exec = ExecConfig::new(allow, secret);
    exec.audit = Some(std::sync::Arc::new(|event: &crate::exec::AuditEvent| {
        if let Err(err) = &event.verdict {
            eprintln!(
                "rpc: refused exec of {:?} {:?} from {}: {}",
                event.program, event.args, event.peer, err.message
            );
        }
    }));
    ExecService::new(exec).register(&mut service);
    Ok(service)
}

/// `rpc serve`: listens on `listen`, writes the bound address to `out`, and serves `service` until
/// `shutdown` completes.
async fn serve(
    listen: SocketAddr,
    service: Service,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(Error::sys(format!("bind {listen}")))?;
    let bound = listener.local_addr().map_err(Error::sys("getsockname"))?;
    writeln!(out, "{bound}").and_then(|()| out.flush()).map_err(Error::Write)?;
    Server::new(service, config)
        .serve(listener, shutdown)
        .await
        .map_err(Error::sys(format!("serve on {bound}")))?;
    Ok(Outcome(0))
}

/// `rpc call`: one call of `method` with `args`, its answer written to `out` one item a line when
/// it is a list of strings, else as the payload's debug form.
async fn call(
    addr: SocketAddr,
    method: &str,
    args: &[String],
    timeout: Duration,
    shutdown: impl Future<Output = ()>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let client = Client::connect(addr, ClientConfig::default()).await?;
    let payload = encode_request(method, args)?;
    let answer = tokio::select! {
        answer = client.call_raw(method, payload, Some(timeout)) => answer?,
        () = shutdown => return Ok(Outcome(INTERRUPTED)),
    };
    let written = match from_payload::<Vec<String>>(&answer) {
        Ok(items) => items.iter().try_for_each(|item| writeln!(out, "{item}")),
        Err(_) => writeln!(out, "{answer:?}"),
    };
    written.and_then(|()| out.flush()).map_err(Error::Write)?;
    Ok(Outcome(0))
}

/// `rpc exec`: runs `request` on the server at `addr`, copying the program's stdout to `out` and
/// its stderr to standard error as they arrive; the outcome is the program's exit status.
async fn exec(
    addr: SocketAddr,
    secret: Option<&Secret>,
    request: &ExecRequest,
    timeout: Duration,
    shutdown: impl Future<Output = ()>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    // A stream has no call timeout: the program's own timeout bounds it.
    let client = Client::connect(addr, ClientConfig::default()).await?;
    let mut events = crate::exec::exec(&client, secret, request).await?;
    tokio::pin!(shutdown);
    loop {
        let event = tokio::select! {
            event = events.next::<ExecEvent>() => event,
            () = &mut shutdown => return Ok(Outcome(INTERRUPTED)),
        };
        match event.transpose()? {
            Some(ExecEvent::Started { .. }) => {}
            Some(ExecEvent::Stdout(bytes)) => {
                out.write_all(&bytes).and_then(|()| out.flush()).map_err(Error::Write)?;
            }
            Some(ExecEvent::Stderr(bytes)) => {
                let _ = std::io::stderr().write_all(&bytes);
            }
            Some(ExecEvent::Exited(exit)) => {
                if exit.timed_out {
                    eprintln!("rpc: {} timed out after {timeout:?} and was killed", request.program);
                }
                if exit.truncated {
                    eprintln!("rpc: output over the server's cap was dropped");
                }
                return Ok(Outcome(exit.status().clamp(0, 255) as u8));
            }
            None => {
                eprintln!("rpc: the server ended the stream without an exit status");
                return Ok(Outcome(1));
            }
        }
    }
}

/// The secret in the file at `path`, if one is given.
fn load_secret(path: Option<&Path>) -> Result<Option<Secret>, Error> {
    path.map(Secret::from_file).transpose()
}
