//! The supervisor's main loop: run the command, restart it when it dies, stop it on SIGTERM,
//! reopen the log and reread the configuration on SIGHUP, and reap every child so none is left a zombie.

use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::backoff::Restarts;
use crate::config::{Settings, SettingsSource};
use crate::daemonize::{open_log, redirect_standard_streams};
use crate::error::Error;
use crate::signals::Signals;

/// How the supervisor restarts and stops its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Give up after this many restarts within `window`.
    pub restart_max: u32,
    /// The window for `restart_max`.
    pub window: Duration,
    /// The delay before the first restart; it doubles with each restart within the window.
    pub backoff: Duration,
    /// The longest delay between restarts.
    pub backoff_max: Duration,
    /// How long the command has after SIGTERM before it gets SIGKILL.
    pub kill_after: Duration,
}

/// Why the supervisor returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM: the command was stopped.
    Stopped,
    /// The command died too often within the window.
    GaveUp,
}

/// Writes one line of the supervisor's own to its log (its stderr), prefixed with `superd: `.
pub fn note(message: &str) {
    eprintln!("superd: {message}");
}

/// Supervises `settings.command` until SIGTERM or until it dies too often. On SIGHUP it reopens
/// `log` and rereads `config` ([`SettingsSource::reload`]); new settings apply from the next restart or
/// stop, the running command is left alone.
///
/// Log lines, each starting with `superd: `: `started pid PID`, `pid PID exited: STATUS`,
/// `restart N in MS ms`, `giving up: N restarts within MS ms`, `reopened log`,
/// `configuration reloaded from FILE: …`, `cannot reload configuration: …`, `stopped`.
///
/// # Errors
///
/// [`Error::Sys`] if waiting for signals fails.
// ANCHOR: supervise
pub fn supervise(
    config: &SettingsSource,
    settings: Settings,
    log: &Path,
    signals: &Signals,
) -> Result<Exit, Error> {
    let mut settings = settings;
    let mut restarts = Restarts::new(&settings.policy);
    let mut child = None;
    // The first start is due at once; a start that fails counts as a death, like an exit.
    let mut start_at = Some(Instant::now());
    loop {
        if child.is_none() && start_at.is_some_and(|at| Instant::now() >= at) {
            child = spawn(&settings.command);
            start_at = None;
            if child.is_none() {
                let Some(at) = schedule_restart(&mut restarts) else {
                    return Ok(give_up(&restarts, &settings.policy));
                };
                start_at = Some(at);
            }
        }
        let timeout = start_at.map(|at: Instant| at.saturating_duration_since(Instant::now()));
        let pending = signals.wait(timeout)?;
        if pending.hup {
            reopen(log);
            if let Some(new) = config.reload(&settings) {
                restarts.set_policy(&new.policy);
                settings = new;
            }
        }
        // Reap on every wake-up, not only on SIGCHLD: signals of one kind coalesce.
        for (pid, status) in reap() {
            if Some(pid) == child {
                note(&format!("pid {pid} exited: {}", describe(status)));
                child = None;
                let Some(at) = schedule_restart(&mut restarts) else {
                    return Ok(give_up(&restarts, &settings.policy));
                };
                start_at = Some(at);
            }
        }
        if pending.term {
            if let Some(pid) = child {
                stop(pid, settings.policy.kill_after, signals)?;
            }
            note("stopped");
            return Ok(Exit::Stopped);
        }
    }
}
// ANCHOR_END: supervise

/// Counts a restart and says when it is due (`restart N in MS ms`), or `None` once the policy
/// gives up.
fn schedule_restart(restarts: &mut Restarts) -> Option<Instant> {
    let now = Instant::now();
    let delay = restarts.next(now)?;
    note(&format!("restart {} in {} ms", restarts.in_window(), delay.as_millis()));
    Some(now + delay)
}

fn give_up(restarts: &Restarts, policy: &Policy) -> Exit {
    note(&format!("giving up: {} restarts within {} ms", restarts.in_window(), policy.window.as_millis()));
    Exit::GaveUp
}

/// Starts the command in its own process group, so that stopping it reaches its children too.
/// Its stdout and stderr are one pipe, copied to the supervisor's stdout (the log) by a thread.
// ANCHOR: spawn
fn spawn(command: &[std::ffi::OsString]) -> Option<i32> {
    let (program, args) = command.split_first()?;
    let started = crate::daemonize::pipe().and_then(|(read, write)| {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(write.try_clone()?)
            .stderr(write)
            .process_group(0)
            .spawn()?;
        // The Command, and with it our copy of the write end, is gone: the copier sees the end
        // of the file when the command and whatever it started have all exited.
        std::thread::spawn(move || copy_to_log(read));
        Ok(child)
    });
    match started {
        Ok(child) => {
            // The pid is all we keep: the loop reaps with waitpid, and dropping a Child never waits.
            let pid = child.id() as i32;
            note(&format!("started pid {pid}"));
            Some(pid)
        }
        Err(err) => {
            note(&format!("cannot start {}: {err}", program.to_string_lossy()));
            None
        }
    }
}
// ANCHOR_END: spawn

/// Copies the command's output to descriptor 1 until the end of the pipe. Descriptor 1, not a
/// handle opened once: SIGHUP `dup2`s the new log onto it, and the copy follows at once.
// ANCHOR: copy_to_log
fn copy_to_log(read: OwnedFd) {
    // SAFETY: descriptor 1 stays open for the daemon's life (dup2 replaces it atomically), and
    // ManuallyDrop keeps this File from closing it.
    let mut log = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
    // io::copy retries interrupted calls and stops at the end of the pipe or a failed write.
    let _ = std::io::copy(&mut File::from(read), &mut *log);
}
// ANCHOR_END: copy_to_log

/// Every child that exited, with its wait status, without blocking.
fn reap() -> Vec<(i32, i32)> {
    let mut reaped = Vec::new();
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid place for the status.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return reaped;
        }
        reaped.push((pid, status));
    }
}

/// SIGTERM to the command's process group, up to `kill_after` to exit, then SIGKILL.
// ANCHOR: stop
fn stop(pid: i32, kill_after: Duration, signals: &Signals) -> Result<(), Error> {
    signal_group(pid, libc::SIGTERM);
    let deadline = Instant::now() + kill_after;
    loop {
        if reap().iter().any(|&(reaped, _)| reaped == pid) {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            note(&format!("pid {pid} ignored SIGTERM for {} ms: SIGKILL", kill_after.as_millis()));
            signal_group(pid, libc::SIGKILL);
            let mut status = 0;
            // SAFETY: `status` is a valid place for the status.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            break;
        }
        signals.wait(Some(left))?;
    }
    // The group may outlive its leader (a shell's background jobs): make sure it is gone.
    signal_group(pid, libc::SIGKILL);
    reap();
    Ok(())
}

/// Sends `signal` to the process group that `leader` leads. Never for a leader of 1 or less, whatever
/// the caller got wrong: `kill(-1, ...)` signals every process we may signal, `kill(0, ...)` our own
/// group.
fn signal_group(leader: i32, signal: libc::c_int) {
    if leader > 1 {
        // SAFETY: kill has no memory-safety preconditions; -leader is the command's process group.
        unsafe { libc::kill(-leader, signal) };
    }
}
// ANCHOR_END: stop

/// Reopens the log after logrotate moved it: the new file takes stdout and stderr.
fn reopen(log: &Path) {
    match open_log(log).and_then(|file| redirect_standard_streams(&file)) {
        Ok(()) => note("reopened log"),
        Err(err) => note(&format!("cannot reopen log: {err}")),
    }
}

fn describe(status: i32) -> String {
    if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("exit status {}", libc::WEXITSTATUS(status))
    }
}
