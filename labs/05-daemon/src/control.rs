//! [`run`]: the four subcommands, from a [`Config`] to an [`Outcome`]. `start` daemonizes and
//! supervises; `stop`, `status` and `reload` find the daemon through its pid file.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{Command, Config, SettingsSource};
use crate::daemonize::{Daemonized, daemonize};
use crate::error::Error;
use crate::pidfile::{self, PidFile, Status};
use crate::signals::Signals;
use crate::supervise::{Exit, note, supervise};

/// The exit code of `status` when the daemon runs.
pub const STATUS_RUNNING: u8 = 0;
/// The exit code of `status` when the pid file is stale (LSB: "dead and pid file exists").
pub const STATUS_STALE: u8 = 1;
/// The exit code of `status` when there is no pid file (LSB: "not running").
pub const STATUS_NOT_RUNNING: u8 = 3;

/// How a subcommand ended, when it could do its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `start`, in the process that ran it: the daemon is ready. `stop` and `reload`: done. In
    /// the daemon: stopped by SIGTERM or SIGINT, its command stopped too.
    Done,
    /// `status`: what the pid file says.
    Status(Status),
    /// In the daemon: it could not get ready, or its command died too often and it gave up. Its
    /// log says which.
    Failed,
}

impl Outcome {
    /// The process exit code: 0 when done, `status`'s LSB codes ([`STATUS_RUNNING`],
    /// [`STATUS_STALE`], [`STATUS_NOT_RUNNING`]), 1 when the daemon failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Status(Status::Running(_)) => STATUS_RUNNING,
            Outcome::Status(Status::Stale(_)) => STATUS_STALE,
            Outcome::Status(Status::NotRunning) => STATUS_NOT_RUNNING,
            Outcome::Failed => 1,
        }
    }
}

/// Runs one subcommand; `status` writes its answer to `out`. In `start`, it returns twice: in the
/// process that ran it, once the daemon is ready, and in the daemon, when it is done.
///
/// There is no shutdown parameter: the daemon installs its own handlers ([`Signals`]) once it is
/// one, and SIGTERM or SIGINT is how it is told to stop; the other subcommands are short and have
/// nothing to undo, so a signal keeps its default action.
///
/// # Errors
///
/// Any [`Error`] of the subcommand; [`Error::Write`] when `out` fails.
pub fn run(config: &Config, out: &mut dyn Write) -> Result<Outcome, Error> {
    match &config.command {
        Command::Start { pidfile, log, settings } => start(pidfile, log, settings),
        Command::Stop { pidfile, timeout } => stop(pidfile, *timeout),
        Command::Status { pidfile } => status(pidfile, out),
        Command::Reload { pidfile } => reload(pidfile),
    }
}

fn start(pid_path: &Path, log: &Path, config: &SettingsSource) -> Result<Outcome, Error> {
    // A bad file is refused here, on the terminal, before anything is started.
    let settings = config.load()?;
    let mut pidfile = PidFile::acquire(pid_path)?;
    match daemonize(log, &[pidfile.fd()])? {
        // Our copy of the locked descriptor closes here; the daemon's keeps the lock.
        Daemonized::Parent => Ok(Outcome::Done),
        Daemonized::Daemon(ready) => {
            let ready_up = (|| {
                pidfile.write_pid(std::process::id() as i32)?;
                let signals = Signals::install()?;
                ready.notify()?;
                Ok::<_, Error>(signals)
            })();
            let signals = match ready_up {
                Ok(signals) => signals,
                Err(err) => {
                    note(&format!("cannot start: {err}"));
                    let _ = pidfile.remove();
                    return Ok(Outcome::Failed);
                }
            };
            let exit = supervise(config, settings, log, &signals);
            let _ = pidfile.remove();
            match exit {
                Ok(Exit::Stopped) => Ok(Outcome::Done),
                Ok(Exit::GaveUp) => Ok(Outcome::Failed),
                Err(err) => {
                    note(&format!("{err}"));
                    Ok(Outcome::Failed)
                }
            }
        }
    }
}

fn stop(path: &Path, timeout: Duration) -> Result<Outcome, Error> {
    let pid = match pidfile::status(path)? {
        Status::Running(pid) => pid,
        Status::Stale(_) | Status::NotRunning => {
            eprintln!("superd: not running");
            return Ok(Outcome::Done);
        }
    };
    signal(pid, libc::SIGTERM)?;
    let deadline = Instant::now() + timeout;
    while is_alive(pid) {
        if Instant::now() >= deadline {
            return Err(Error::StopTimeout { pid, secs: timeout.as_secs() });
        }
        // Not our child: there is nothing to wait on but /proc.
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(Outcome::Done)
}

fn status(path: &Path, out: &mut dyn Write) -> Result<Outcome, Error> {
    let status = pidfile::status(path)?;
    match status {
        Status::Running(pid) => writeln!(out, "running (pid {pid})"),
        Status::Stale(pid) => writeln!(out, "not running (stale pid file, pid {})", pid.unwrap_or(0)),
        Status::NotRunning => writeln!(out, "not running"),
    }
    .and_then(|()| out.flush())
    .map_err(Error::Write)?;
    Ok(Outcome::Status(status))
}

fn reload(path: &Path) -> Result<Outcome, Error> {
    match pidfile::status(path)? {
        Status::Running(pid) => signal(pid, libc::SIGHUP).map(|()| Outcome::Done),
        _ => Err(Error::NotRunning { path: path.to_path_buf() }),
    }
}

fn signal(pid: i32, signal: libc::c_int) -> Result<(), Error> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } == -1 {
        return Err(Error::last_os(format!("kill({pid}, {signal})")));
    }
    Ok(())
}

/// Whether `pid` is a live process: it exists and is not a zombie waiting for its parent.
pub fn is_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the last ')': the command name may itself hold parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}
