//! Support shared by the stage tests: running `superd` as a real process, reading `/proc`, and a
//! guard that kills whatever a test started, even when the test fails.
//!
//! The test process makes itself a *child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`): a daemon
//! it starts is re-parented to it rather than to init when the daemon's parents exit. That gives
//! the tests a fixed parent to check and lets them reap the daemon, which init in a container may
//! never do. The tests wait only for pids they know, never for any child, so they cannot steal an
//! exit status from `std::process::Command` in another test thread.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;
use std::time::Duration;

use testkit::TempDir;

/// Fast restart and stop settings, so no test waits long.
pub const FAST: &[&str] =
    &["--backoff-ms", "1", "--backoff-max-ms", "16", "--restart-max", "100", "--restart-window-ms", "60000"];

/// Makes this process the subreaper of its descendants (once).
pub fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
        let done = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
        assert_eq!(done, 0, "prctl(PR_SET_CHILD_SUBREAPER): {}", std::io::Error::last_os_error());
    });
}

/// Runs `superd ARGS` to completion.
pub fn superd(args: &[&str]) -> Output {
    become_subreaper();
    Command::new(testkit::lab_binary!("superd")).args(args).output().expect("superd runs")
}

/// The fields of `/proc/PID/stat` after the command name: `[0]` is the state, `[1]` the ppid,
/// `[2]` the process group, `[3]` the session, `[4]` the controlling terminal.
pub fn stat(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// Whether `pid` exists and is not a zombie.
pub fn is_alive(pid: i32) -> bool {
    stat(pid).is_some_and(|fields| fields[0] != "Z" && fields[0] != "X")
}

/// The processes whose parent is `pid`, with their state letter.
pub fn children_with_state(pid: i32) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc is mounted").flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(fields) = stat(child)
            && fields[1] == pid.to_string()
        {
            found.push((child, fields[0].clone()));
        }
    }
    found
}

/// The live (not zombie) children of `pid`.
pub fn live_children(pid: i32) -> Vec<i32> {
    children_with_state(pid)
        .into_iter()
        .filter(|(_, state)| state != "Z" && state != "X")
        .map(|(p, _)| p)
        .collect()
}

/// Where each descriptor of `pid` points, by number.
pub fn descriptors(pid: i32) -> Vec<(i32, String)> {
    let mut fds: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the process's descriptors are readable")
        .flatten()
        .filter_map(|entry| {
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect();
    fds.sort();
    fds
}

/// Sends `signal` to `pid` (a negative pid: a process group). Refuses -1, 0 and 1 (every process,
/// our own group, init): a wrong pid from the code under test must fail the test, not the machine.
pub fn kill(pid: i32, signal: libc::c_int) {
    assert!(!(-1..=1).contains(&pid), "refusing to send signal {signal} to pid {pid}");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, signal) };
}

/// Reaps `pid` if it is a zombie child of this (subreaper) process.
pub fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: `status` is a valid place for the status; WNOHANG never blocks.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
}

/// A daemon started by a test, killed with its command when dropped.
pub struct Daemon {
    /// The scratch directory holding the pid file and the log.
    pub dir: TempDir,
    /// The pid file.
    pub pidfile: PathBuf,
    /// The log file.
    pub log: PathBuf,
    /// The daemon's pid, as written in the pid file.
    pub pid: i32,
    seen: Vec<i32>,
}

impl Daemon {
    /// `superd start` with `options` and FAST settings, running `command`; panics unless it
    /// succeeds and the pid file names a live process.
    pub fn start(options: &[&str], command: &[&str]) -> Daemon {
        let dir = testkit::scratch_dir();
        let (pidfile, log) = (dir.path().join("superd.pid"), dir.path().join("superd.log"));
        let output = start_at(&pidfile, &log, options, command);
        assert!(output.status.success(), "superd start failed: {}", output.stderr.escape_ascii());
        let text = std::fs::read_to_string(&pidfile).expect("start returns once the pid file is written");
        let pid: i32 = text.trim().parse().unwrap_or_else(|_| panic!("the pid file holds a pid: {text:?}"));
        Daemon { dir, pidfile, log, pid, seen: vec![pid] }
    }

    /// The one live child of the daemon, once there is exactly one and it runs the command.
    pub fn child(&mut self) -> i32 {
        let mut child = 0;
        testkit::eventually("the daemon runs exactly one command", || match live_children(self.pid)[..] {
            [only] if self.has_exec(only) => {
                child = only;
                true
            }
            _ => false,
        });
        self.seen.push(child);
        child
    }

    /// The one live child of the daemon, once it is not `old` and it runs the command.
    pub fn new_child(&mut self, old: i32) -> i32 {
        let mut child = 0;
        testkit::eventually("the daemon runs a new command", || match live_children(self.pid)[..] {
            [only] if only != old && self.has_exec(only) => {
                child = only;
                true
            }
            _ => false,
        });
        self.seen.push(child);
        child
    }

    /// Whether `child` has left the daemon's code for the command's (between `fork` and `exec` it
    /// is a copy of the daemon, with the daemon's descriptors).
    fn has_exec(&self, child: i32) -> bool {
        let cmdline = |pid: i32| std::fs::read(format!("/proc/{pid}/cmdline")).ok();
        matches!((cmdline(child), cmdline(self.pid)), (Some(child), Some(daemon)) if child != daemon)
    }

    /// The log's text so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log holds `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let found = testkit::wait_until(testkit::DEFAULT_DEADLINE, || self.log_text().contains(needle));
        assert!(found, "the log never said {needle:?}; it holds:\n{}", self.log_text());
    }

    /// Waits until the daemon has exited (it is then our zombie: reaped here).
    pub fn wait_for_exit(&self) {
        testkit::eventually("the daemon exits", || !is_alive(self.pid));
        reap(self.pid);
    }

    /// Remembers `pid` as one to kill on drop.
    pub fn track(&mut self, pid: i32) {
        self.seen.push(pid);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let mut seen = std::mem::take(&mut self.seen);
        seen.remove(0);
        kill_daemon(self.pid, &seen);
    }
}

/// Kills the daemon `pid`, the process groups of its commands (the live ones and `also`), and
/// reaps what this process adopted.
pub fn kill_daemon(pid: i32, also: &[i32]) {
    // Frozen first, so it cannot start another command while we look for them.
    kill(pid, libc::SIGSTOP);
    let mut commands = live_children(pid);
    commands.extend_from_slice(also);
    kill(pid, libc::SIGKILL);
    for &command in &commands {
        // Each command leads its own process group: take its children too.
        kill(-command, libc::SIGKILL);
        kill(command, libc::SIGKILL);
    }
    testkit::wait_until(Duration::from_secs(2), || {
        reap(pid);
        stat(pid).is_none()
    });
    for &command in &commands {
        reap(command);
    }
}

/// `superd start --pidfile PIDFILE --log LOG FAST OPTIONS -- COMMAND`.
pub fn start_at(pidfile: &Path, log: &Path, options: &[&str], command: &[&str]) -> Output {
    let mut args = vec!["start", "--pidfile", path_str(pidfile), "--log", path_str(log)];
    args.extend_from_slice(FAST);
    args.extend_from_slice(options);
    args.push("--");
    args.extend_from_slice(command);
    superd(&args)
}

/// A test path as `&str` (scratch paths are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("scratch paths are UTF-8")
}
