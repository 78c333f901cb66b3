//! Stage 2: the pid file, locked for the daemon's life: a second start fails naming the running
//! pid, a stale file is taken over, `status` answers like an LSB init script.

mod common;

use common::{Daemon, is_alive, path_str, start_at, superd};
use proptest::prelude::*;
use superd::{Error, PidFile, pidfile};
use testkit::test;

const SLEEP: &[&str] = &["sleep", "1000"];

#[test]
fn a_second_start_fails_naming_the_running_pid() {
    let daemon = Daemon::start(&[], SLEEP);
    let second_log = daemon.dir.path().join("second.log");
    let output = start_at(&daemon.pidfile, &second_log, &[], SLEEP);
    assert_eq!(output.status.code(), Some(1), "a second start fails");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = output.stderr.escape_ascii();
    assert!(stderr.contains("already running"), "the error says why: {shown}");
    assert!(stderr.contains(&daemon.pid.to_string()), "the error names pid {}: {shown}", daemon.pid);
    assert!(is_alive(daemon.pid), "the first daemon still runs");
    let text = std::fs::read_to_string(&daemon.pidfile).expect("the pid file is still there");
    assert_eq!(text.trim(), daemon.pid.to_string(), "the pid file is untouched");
}

#[test]
fn a_stale_pid_file_is_taken_over() {
    let scratch = testkit::scratch_dir();
    let pidfile = scratch.path().join("superd.pid");
    let mut dead = std::process::Command::new("true").spawn().expect("true runs");
    let dead_pid = dead.id();
    dead.wait().expect("true exits");
    std::fs::write(&pidfile, format!("{dead_pid}\n")).expect("write the stale file");

    let output = start_at(&pidfile, &scratch.path().join("superd.log"), &[], SLEEP);
    let text = std::fs::read_to_string(&pidfile).unwrap_or_default();
    if let Ok(pid) = text.trim().parse::<i32>() {
        common::kill_daemon(pid, &[]);
    }
    assert!(output.status.success(), "start takes over a stale pid file: {}", output.stderr.escape_ascii());
    assert_ne!(text.trim(), dead_pid.to_string(), "the pid file names the new daemon");
}

#[test]
fn status_says_running_stale_or_not_running() {
    let daemon = Daemon::start(&[], SLEEP);
    let running = superd(&["status", "--pidfile", path_str(&daemon.pidfile)]);
    assert_eq!(running.status.code(), Some(0), "running: exit 0");
    assert!(
        String::from_utf8_lossy(&running.stdout).contains(&daemon.pid.to_string()),
        "status names the pid {}: {}",
        daemon.pid,
        running.stdout.escape_ascii()
    );

    let missing = daemon.dir.path().join("missing.pid");
    assert_eq!(
        superd(&["status", "--pidfile", path_str(&missing)]).status.code(),
        Some(3),
        "no pid file: exit 3"
    );

    let stale = daemon.dir.path().join("stale.pid");
    std::fs::write(&stale, "999999\n").expect("write");
    assert_eq!(superd(&["status", "--pidfile", path_str(&stale)]).status.code(), Some(1), "stale: exit 1");
}

#[test]
fn the_lock_excludes_a_second_holder_until_the_first_closes() {
    let scratch = testkit::scratch_dir();
    let path = scratch.path().join("lock.pid");
    let mut first = PidFile::acquire(&path).expect("the first acquire succeeds");
    first.write_pid(4242).expect("write");
    match PidFile::acquire(&path) {
        Err(Error::AlreadyRunning { pid, .. }) => assert_eq!(pid, 4242, "the pid a second acquire names"),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    assert_eq!(
        pidfile::status(&path).expect("status"),
        pidfile::Status::Running(4242),
        "the status of a locked pid file naming 4242"
    );
    drop(first);
    // The lock lives as long as any copy of its descriptor: another test of this binary forking a
    // child holds a copy until the child's exec closes it. So wait for the release, briefly.
    testkit::eventually("the released lock to leave a stale file", || {
        pidfile::status(&path).expect("status") == pidfile::Status::Stale(Some(4242))
    });
    let mut taken = None;
    testkit::eventually("a stale file to be taken over", || {
        taken = PidFile::acquire(&path).ok();
        taken.is_some()
    });
    let second = taken.expect("taken over");
    second.remove().expect("remove");
    assert!(!path.exists(), "remove deletes the file");
    assert_eq!(
        pidfile::status(&path).expect("status"),
        pidfile::Status::NotRunning,
        "the status once the file is removed"
    );
}

#[test]
fn zero_and_negative_numbers_are_not_pids() {
    // Pid 0 and negative pids mean process groups to kill(2): a pid file naming one would make
    // `superd stop` signal the wrong processes.
    let scratch = testkit::scratch_dir();
    let path = scratch.path().join("p.pid");
    for text in ["0\n", "-3\n", "-1"] {
        std::fs::write(&path, text).expect("write");
        let read = pidfile::read_pid(&path);
        assert!(
            matches!(read, Err(Error::BadPidFile { .. })),
            "a pid file holding {text:?} read as {read:?}"
        );
    }
}

#[test]
fn a_pid_file_that_cannot_be_opened_is_an_error_not_not_running() {
    // Only a missing file means "not running": a path through a regular file (ENOTDIR) is a
    // mistake the user must hear about.
    let scratch = testkit::scratch_dir();
    let plain = scratch.path().join("plain");
    std::fs::write(&plain, "").expect("write");
    let status = pidfile::status(&plain.join("superd.pid"));
    assert!(matches!(status, Err(Error::File { .. })), "status under a regular file gave {status:?}");
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn a_written_pid_reads_back(pid in 1..i32::MAX) {
        let scratch = testkit::scratch_dir();
        let path = scratch.path().join("p.pid");
        let mut file = PidFile::acquire(&path).expect("acquire");
        file.write_pid(pid).expect("write");
        prop_assert_eq!(pidfile::read_pid(&path).expect("read"), Some(pid), "the pid read back after writing {}", pid);
    }

    #[test]
    fn garbage_is_never_a_pid(text in "[^0-9 \n]{1,12}") {
        let scratch = testkit::scratch_dir();
        let path = scratch.path().join("p.pid");
        std::fs::write(&path, &text).expect("write");
        let read = pidfile::read_pid(&path);
        prop_assert!(matches!(read, Err(Error::BadPidFile { .. }) | Ok(None)), "a pid file holding {:?} read as {:?}", text, read);
    }
}
