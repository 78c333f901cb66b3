//! Stage 3: signals. SIGTERM (`superd stop`) stops the command and the daemon and removes the pid
//! file; SIGHUP (`superd reload`) reopens the log; SIGCHLD reaps, so no zombie is ever left.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, children_with_state, is_alive, kill, live_children, path_str, superd};

const SLEEP: &[&str] = &["sleep", "1000"];

#[test]
fn stop_leaves_no_process_and_no_pid_file() {
    // A shell with two background jobs: stopping must reach the whole process group.
    let mut daemon = Daemon::start(&[], &["sh", "-c", "sleep 1000 & sleep 1000 & wait"]);
    let shell = daemon.child();
    testkit::eventually("the shell starts its two jobs", || live_children(shell).len() == 2);
    let jobs = live_children(shell);
    jobs.iter().for_each(|&job| daemon.track(job));

    let output = superd(&["stop", "--pidfile", path_str(&daemon.pidfile), "--timeout", "10"]);
    assert!(output.status.success(), "stop succeeds: {}", String::from_utf8_lossy(&output.stderr));
    assert!(!is_alive(daemon.pid), "stop returns once the daemon is gone");
    assert!(!daemon.pidfile.exists(), "a clean exit removes the pid file");
    testkit::eventually("the command and its jobs are gone", || {
        !is_alive(shell) && jobs.iter().all(|&job| !is_alive(job))
    });
    daemon.wait_for_log("superd: stopped");
}

#[test]
fn a_command_ignoring_sigterm_is_killed_after_the_timeout() {
    let mut daemon =
        Daemon::start(&["--kill-after-ms", "200"], &["sh", "-c", "trap '' TERM; echo trapped; sleep 1000"]);
    let shell = daemon.child();
    daemon.wait_for_log("trapped");
    let started = Instant::now();
    let output = superd(&["stop", "--pidfile", path_str(&daemon.pidfile), "--timeout", "10"]);
    assert!(output.status.success(), "stop succeeds: {}", String::from_utf8_lossy(&output.stderr));
    assert!(started.elapsed() >= Duration::from_millis(200), "the command had its 200 ms to exit");
    assert!(!is_alive(daemon.pid) && !daemon.pidfile.exists());
    testkit::eventually("the command is gone", || !is_alive(shell));
}

#[test]
fn sigterm_stops_the_daemon_gracefully() {
    let mut daemon = Daemon::start(&[], SLEEP);
    let child = daemon.child();
    kill(daemon.pid, libc::SIGTERM);
    daemon.wait_for_exit();
    assert!(!daemon.pidfile.exists(), "SIGTERM is a clean exit: the pid file is removed");
    testkit::eventually("the command is gone", || !is_alive(child));
}

#[test]
fn a_dead_command_is_reaped_not_left_a_zombie() {
    // A long backoff: the command stays dead, so a zombie would stay visible.
    let mut daemon = Daemon::start(&["--backoff-ms", "60000", "--backoff-max-ms", "60000"], SLEEP);
    let child = daemon.child();
    kill(child, libc::SIGKILL);
    daemon.wait_for_log(&format!("superd: pid {child} exited: killed by signal 9"));
    testkit::eventually("the dead command is reaped", || children_with_state(daemon.pid).is_empty());
    assert!(is_alive(daemon.pid), "the daemon waits to restart it");
}

#[test]
fn reload_reopens_the_log_after_rotation() {
    let mut daemon = Daemon::start(&[], &["sh", "-c", "echo command says hi; exec sleep 1000"]);
    let first = daemon.child();
    daemon.wait_for_log("command says hi");
    let rotated = daemon.dir.path().join("superd.log.1");
    std::fs::rename(&daemon.log, &rotated).expect("rotate");

    let output = superd(&["reload", "--pidfile", path_str(&daemon.pidfile)]);
    assert!(output.status.success(), "reload succeeds: {}", String::from_utf8_lossy(&output.stderr));
    daemon.wait_for_log("superd: reopened log");

    // The next command writes to the new file too.
    kill(first, libc::SIGKILL);
    daemon.new_child(first);
    daemon.wait_for_log("restart 1 in");
    daemon.wait_for_log("command says hi");
    let old = std::fs::read_to_string(&rotated).expect("the rotated log is kept");
    assert!(!old.contains("restart 1 in"), "nothing new goes to the rotated file:\n{old}");
    assert!(is_alive(daemon.pid), "SIGHUP does not stop the daemon");
}

#[test]
fn a_running_commands_output_follows_the_rotated_log() {
    // The command prints a numbered line every few milliseconds and is never restarted.
    let mut daemon =
        Daemon::start(&[], &["sh", "-c", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.01; done"]);
    let command = daemon.child();
    daemon.wait_for_log("tick 2\n");
    let rotated = daemon.dir.path().join("superd.log.1");
    std::fs::rename(&daemon.log, &rotated).expect("rotate");
    let output = superd(&["reload", "--pidfile", path_str(&daemon.pidfile)]);
    assert!(output.status.success(), "reload succeeds: {}", String::from_utf8_lossy(&output.stderr));
    daemon.wait_for_log("superd: reopened log");
    // Lines written after the reopen reach the new file while the same command still runs.
    let old_ticks = std::fs::read_to_string(&rotated).expect("the rotated log").matches("tick").count();
    testkit::eventually("the running command's new lines reach the new log", || {
        daemon.log_text().matches("tick").count() >= 3
    });
    assert_eq!(live_children(daemon.pid), [command], "the command was not restarted");
    assert!(old_ticks >= 2, "the lines before the rotation stay in the rotated file");
}

#[test]
fn stop_and_reload_without_a_daemon() {
    let scratch = testkit::scratch_dir();
    let pidfile = scratch.path().join("none.pid");
    let stop = superd(&["stop", "--pidfile", path_str(&pidfile)]);
    assert_eq!(stop.status.code(), Some(0), "stopping what is not running succeeds, as LSB asks");
    let reload = superd(&["reload", "--pidfile", path_str(&pidfile)]);
    assert_eq!(reload.status.code(), Some(1), "reloading what is not running fails");
    assert!(String::from_utf8_lossy(&reload.stderr).contains("not running"));
}
