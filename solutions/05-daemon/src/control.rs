//! The four subcommands: `start` daemonizes and supervises; `stop`, `status` and `reload` find
//! the daemon through its pid file.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::{Cli, Command, StartArgs, StopArgs};
use crate::config::Config;
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

/// Runs one subcommand and returns the process's exit code. In `start`, it returns twice: in the
/// process that ran it, once the daemon is ready, and in the daemon, when it is done.
///
/// # Errors
///
/// Any [`Error`] of the subcommand; `main` prints it and exits 1.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Start(args) => start(&args),
        Command::Stop(args) => stop(&args),
        Command::Status(args) => Ok(status(&args.pidfile)?),
        Command::Reload(args) => reload(&args.pidfile),
    }
}

fn start(args: &StartArgs) -> Result<u8, Error> {
    // The daemon works in `/`: relative paths must be resolved before it gets there.
    let absolute = |path: &Path| std::path::absolute(path).map_err(|err| Error::file(path, err));
    let (pid_path, log) = (absolute(&args.pidfile)?, absolute(&args.log)?);
    let config = Config { base: args.settings(), file: args.config.as_deref().map(absolute).transpose()? };
    // A bad file is refused here, on the terminal, before anything is started.
    let settings = config.load()?;
    let mut pidfile = PidFile::acquire(&pid_path)?;
    match daemonize(&log, &[pidfile.fd()])? {
        // Our copy of the locked descriptor closes here; the daemon's keeps the lock.
        Daemonized::Parent => Ok(0),
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
                    return Ok(1);
                }
            };
            let exit = supervise(&config, settings, &log, &signals);
            let _ = pidfile.remove();
            match exit {
                Ok(Exit::Stopped) => Ok(0),
                Ok(Exit::GaveUp) => Ok(1),
                Err(err) => {
                    note(&format!("{err}"));
                    Ok(1)
                }
            }
        }
    }
}

fn stop(args: &StopArgs) -> Result<u8, Error> {
    let pid = match pidfile::status(&args.pidfile)? {
        Status::Running(pid) => pid,
        Status::Stale(_) | Status::NotRunning => {
            eprintln!("superd: not running");
            return Ok(0);
        }
    };
    signal(pid, libc::SIGTERM)?;
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    while is_alive(pid) {
        if Instant::now() >= deadline {
            return Err(Error::StopTimeout { pid, secs: args.timeout });
        }
        // Not our child: there is nothing to wait on but /proc.
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(0)
}

fn status(path: &Path) -> Result<u8, Error> {
    Ok(match pidfile::status(path)? {
        Status::Running(pid) => {
            println!("running (pid {pid})");
            STATUS_RUNNING
        }
        Status::Stale(pid) => {
            println!("not running (stale pid file, pid {})", pid.unwrap_or(0));
            STATUS_STALE
        }
        Status::NotRunning => {
            println!("not running");
            STATUS_NOT_RUNNING
        }
    })
}

fn reload(path: &Path) -> Result<u8, Error> {
    match pidfile::status(path)? {
        Status::Running(pid) => signal(pid, libc::SIGHUP).map(|()| 0),
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
