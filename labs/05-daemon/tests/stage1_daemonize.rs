//! Stage 1: `superd start` daemonizes: a double fork, a new session, no terminal, `/` as the
//! working directory, umask 027, stdin from `/dev/null`, output to the log, no inherited descriptor.

mod common;

use std::fs::File;
use std::os::fd::AsRawFd;

use common::{Daemon, descriptors, is_alive, stat};
use testkit::test;

const SLEEP: &[&str] = &["sleep", "1000"];

#[test]
fn start_returns_once_the_daemon_runs_its_command() {
    let mut daemon = Daemon::start(&[], SLEEP);
    assert!(is_alive(daemon.pid), "the pid in the pid file is a live process");
    let child = daemon.child();
    testkit::eventually("the daemon's child runs the command", || {
        std::fs::read(format!("/proc/{child}/cmdline")).is_ok_and(|cmdline| cmdline == b"sleep\x001000\x00")
    });
}

#[test]
fn the_daemon_is_not_a_session_leader_and_has_no_terminal() {
    let daemon = Daemon::start(&[], SLEEP);
    let fields = stat(daemon.pid).expect("the daemon runs");
    let (pgrp, session, tty) = (&fields[2], &fields[3], &fields[4]);
    let pid = daemon.pid.to_string();
    assert_ne!(
        session, &pid,
        "the daemon must not lead its session (the second fork), or it could get a terminal"
    );
    assert_ne!(pgrp, &pid, "the daemon is in the process group of the session leader that forked it");
    assert_eq!(tty, "0", "the daemon has no controlling terminal");
    let this_session = stat(std::process::id() as i32).expect("we run")[3].clone();
    assert_ne!(session, &this_session, "the daemon left the session of whoever started it (setsid)");
}

#[test]
fn the_daemon_is_adopted_by_the_subreaper() {
    let daemon = Daemon::start(&[], SLEEP);
    let ppid = &stat(daemon.pid).expect("the daemon runs")[1];
    assert_eq!(
        ppid,
        &std::process::id().to_string(),
        "the daemon's parents exited, so the test process (a subreaper) adopted it"
    );
}

#[test]
fn the_daemon_works_in_the_root_with_umask_027() {
    let daemon = Daemon::start(&[], SLEEP);
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", daemon.pid)).expect("the cwd is readable");
    assert_eq!(cwd.to_str(), Some("/"), "the daemon must not keep a directory busy");
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid)).expect("status is readable");
    let umask = status.lines().find_map(|line| line.strip_prefix("Umask:")).map(str::trim);
    assert_eq!(umask, Some("0027"), "the daemon's umask, from /proc/{}/status", daemon.pid);
}

#[test]
fn stdin_is_dev_null_and_output_goes_to_the_log() {
    let mut daemon = Daemon::start(&[], &["sh", "-c", "echo hello from the command; exec sleep 1000"]);
    let fds = descriptors(daemon.pid);
    let log = daemon.log.to_str().expect("UTF-8").to_string();
    assert_eq!(
        fds.iter().find(|(fd, _)| *fd == 0).map(|(_, to)| to.as_str()),
        Some("/dev/null"),
        "where the daemon's fd 0 points; its descriptors: {fds:?}"
    );
    for out in [1, 2] {
        assert_eq!(
            fds.iter().find(|(fd, _)| *fd == out).map(|(_, to)| to),
            Some(&log),
            "fd {out} is the log"
        );
    }
    daemon.child();
    daemon.wait_for_log("hello from the command");
}

#[test]
fn no_inherited_descriptor_survives_in_the_daemon_or_its_command() {
    // A descriptor without close-on-exec, as a careless parent would leave one.
    let scratch = testkit::scratch_dir();
    let leaked_path = scratch.path().join("leaked");
    let leaked = File::create(&leaked_path).expect("create");
    // SAFETY: clearing FD_CLOEXEC on a descriptor `leaked` owns.
    assert_eq!(
        unsafe { libc::fcntl(leaked.as_raw_fd(), libc::F_SETFD, 0) },
        0,
        "fcntl(F_SETFD, 0) on the leaked descriptor: {}",
        std::io::Error::last_os_error()
    );

    let mut daemon = Daemon::start(&[], SLEEP);
    let child = daemon.child();
    let pidfile = daemon.pidfile.to_str().expect("UTF-8").to_string();
    // Waited for, not read once: for an instant after the command's exec the daemon may still
    // hold the /dev/null of the spawn, and the command the descriptors exec is closing.
    let mut last = Vec::new();
    let clean = testkit::wait_until(testkit::DEFAULT_DEADLINE, || {
        last = descriptors(daemon.pid);
        for (fd, target) in &last {
            assert!(!target.contains("leaked"), "the daemon inherited fd {fd} -> {target}");
        }
        last.iter().all(|(fd, target)| {
            *fd <= 2
                || *target == pidfile
                || target.starts_with("pipe:")
                || target.starts_with("socket:")
                || target.starts_with("anon_inode:")
        })
    });
    assert!(clean, "the daemon holds descriptors other than the pid file and its own pipe: {last:?}");
    let mut child_fds = Vec::new();
    let clean = testkit::wait_until(testkit::DEFAULT_DEADLINE, || {
        child_fds = descriptors(child).into_iter().map(|(fd, _)| fd).collect();
        child_fds == [0, 1, 2]
    });
    assert!(clean, "the command inherits stdin, stdout, stderr only (close-on-exec), not {child_fds:?}");
    drop(leaked);
}
