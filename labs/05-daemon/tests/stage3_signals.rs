//! Stage 3: signals. SIGTERM (`superd stop`) stops the command and the daemon and removes the pid
//! file; SIGHUP (`superd reload`) reopens the log and rereads the `--config` file; SIGCHLD reaps,
//! so no zombie is ever left.

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, children_with_state, is_alive, kill, live_children, path_str, start_at, superd};
use proptest::prelude::*;
use superd::config::{ConfigError, merge};
use superd::{Policy, Settings};
use testkit::test;

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
    assert!(output.status.success(), "stop succeeds: {}", output.stderr.escape_ascii());
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
    assert!(output.status.success(), "stop succeeds: {}", output.stderr.escape_ascii());
    assert!(started.elapsed() >= Duration::from_millis(200), "the command had its 200 ms to exit");
    assert!(
        !is_alive(daemon.pid) && !daemon.pidfile.exists(),
        "after stop, daemon {} is gone and its pid file removed",
        daemon.pid
    );
    testkit::eventually("the command is gone", || !is_alive(shell));
}

#[test]
fn a_command_that_exits_on_sigterm_is_not_killed() {
    // A minute to exit: stop must notice the command's exit, not wait the minute out.
    let mut daemon = Daemon::start(&["--kill-after-ms", "60000"], SLEEP);
    let child = daemon.child();
    let output = superd(&["stop", "--pidfile", path_str(&daemon.pidfile), "--timeout", "10"]);
    assert!(
        output.status.success(),
        "stop returns once the command has exited on SIGTERM: {}",
        output.stderr.escape_ascii()
    );
    assert!(!is_alive(child), "the command {child} is gone");
    assert!(!daemon.log_text().contains("SIGKILL"), "no SIGKILL was needed; the log:\n{}", daemon.log_text());
}

#[test]
fn a_job_ignoring_sigterm_dies_with_its_group() {
    // The shell exits on SIGTERM; its background job ignores it and would outlive the shell.
    let mut daemon = Daemon::start(&[], &["sh", "-c", "(trap '' TERM; exec sleep 1000) & wait"]);
    let shell = daemon.child();
    testkit::eventually("the shell starts its job", || live_children(shell).len() == 1);
    let job = live_children(shell)[0];
    daemon.track(job);
    let output = superd(&["stop", "--pidfile", path_str(&daemon.pidfile), "--timeout", "10"]);
    assert!(output.status.success(), "stop succeeds: {}", output.stderr.escape_ascii());
    testkit::eventually("the job that ignored SIGTERM is gone", || !is_alive(job));
}

#[test]
fn an_idle_daemon_sleeps() {
    // The loop waits on its signal pipe: an idle daemon uses no CPU. A loop that polls with no
    // wait spins a core (100 ticks a second); allow a fifth of that for a loaded machine.
    let daemon = Daemon::start(&[], SLEEP);
    let ticks = |pid: i32| -> u64 {
        let fields = common::stat(pid).expect("the daemon is alive");
        // utime and stime, fields 14 and 15 of /proc/PID/stat (11 and 12 after the name).
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    };
    let before = ticks(daemon.pid);
    std::thread::sleep(Duration::from_secs(1));
    let used = ticks(daemon.pid) - before;
    assert!(used < 20, "an idle daemon used {used} clock ticks of CPU in one second");
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
    assert!(output.status.success(), "reload succeeds: {}", output.stderr.escape_ascii());
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
    assert!(output.status.success(), "reload succeeds: {}", output.stderr.escape_ascii());
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
    assert!(
        String::from_utf8_lossy(&reload.stderr).contains("not running"),
        "reload without a daemon says it is not running: {}",
        reload.stderr.escape_ascii()
    );
}

/// Writes the configuration file `path` (replacing it whole, as an editor would).
fn write_config(path: &Path, text: &str) {
    let new = path.with_extension("new");
    std::fs::write(&new, text).expect("write the configuration");
    std::fs::rename(&new, path).expect("replace the configuration");
}

/// `superd reload`, which must succeed.
fn reload(daemon: &Daemon) {
    let output = superd(&["reload", "--pidfile", path_str(&daemon.pidfile)]);
    assert!(output.status.success(), "reload succeeds: {}", output.stderr.escape_ascii());
}

#[test]
fn reload_runs_the_new_command_from_the_next_restart() {
    let scratch = testkit::scratch_dir();
    let config = scratch.path().join("superd.toml");
    write_config(&config, "command = [\"sh\", \"-c\", \"echo first command; exec sleep 1000\"]\n");
    // The file overrides the command line's command from the start.
    let mut daemon = Daemon::start(&["--config", path_str(&config)], SLEEP);
    let first = daemon.child();
    daemon.wait_for_log("first command");

    write_config(&config, "command = [\"sh\", \"-c\", \"echo second command; exec sleep 1000\"]\n");
    reload(&daemon);
    daemon.wait_for_log("superd: configuration reloaded from");
    let log = daemon.log_text();
    assert!(log.contains(path_str(&config)), "the reload names the file:\n{log}");
    assert!(log.contains("command"), "the reload says what changed:\n{log}");
    assert_eq!(live_children(daemon.pid), [first], "a reload leaves the running command alone");
    assert!(
        !log.lines().any(|line| line == "second command"),
        "the new command waits for the next restart:\n{log}"
    );

    kill(first, libc::SIGKILL);
    daemon.new_child(first);
    // The output line, not the reload's line quoting the command.
    daemon.wait_for_log("\nsecond command\n");
    assert!(is_alive(daemon.pid), "daemon {} still runs after the restart with the new command", daemon.pid);
}

#[test]
fn reload_lowering_restart_max_makes_the_next_deaths_final() {
    let scratch = testkit::scratch_dir();
    let config = scratch.path().join("superd.toml");
    write_config(&config, "restart_max = 100\n");
    let mut daemon = Daemon::start(&["--config", path_str(&config)], SLEEP);
    let first = daemon.child();

    write_config(&config, "restart_max = 1\n");
    reload(&daemon);
    daemon.wait_for_log("superd: configuration reloaded from");
    assert!(
        daemon.log_text().contains("restart_max 100 -> 1"),
        "the reload says what changed:\n{}",
        daemon.log_text()
    );

    kill(first, libc::SIGKILL);
    let second = daemon.new_child(first);
    daemon.wait_for_log("restart 1 in");
    kill(second, libc::SIGKILL);
    daemon.wait_for_log("superd: giving up: 1 restarts within");
    daemon.wait_for_exit();
    assert!(!daemon.pidfile.exists(), "giving up removes the pid file");
}

#[test]
fn a_broken_file_on_reload_is_logged_and_the_old_settings_kept() {
    let scratch = testkit::scratch_dir();
    let config = scratch.path().join("superd.toml");
    write_config(&config, "command = [\"sh\", \"-c\", \"echo old command; exec sleep 1000\"]\n");
    let mut daemon = Daemon::start(&["--config", path_str(&config)], SLEEP);
    let first = daemon.child();
    daemon.wait_for_log("old command");

    write_config(&config, "command = [\"sh\", \"-c\", \"echo new command\"]\nrestart_max = \"many\"\n");
    reload(&daemon);
    daemon.wait_for_log("superd: cannot reload configuration");
    let log = daemon.log_text();
    let line = log.lines().find(|line| line.contains("cannot reload")).expect("the line just waited for");
    assert!(line.contains(path_str(&config)), "the error names the file: {line}");
    assert!(line.contains("line 2"), "the error says where the file is wrong: {line}");
    assert!(is_alive(daemon.pid), "a bad reload does not stop the daemon");
    assert_eq!(live_children(daemon.pid), [first], "nor the command");

    kill(first, libc::SIGKILL);
    daemon.new_child(first);
    testkit::eventually("the old command is restarted", || {
        daemon.log_text().matches("old command").count() == 2
    });
    assert!(!daemon.log_text().lines().any(|line| line == "new command"), "the refused file changed nothing");
}

#[test]
fn a_bad_config_file_at_start_is_an_error_naming_it() {
    let scratch = testkit::scratch_dir();
    let (pidfile, log) = (scratch.path().join("superd.pid"), scratch.path().join("superd.log"));
    let config = scratch.path().join("superd.toml");
    for text in ["restart_maximum = 3\n", "restart_max = -1\n", "command = []\n", "backoff_ms = \n"] {
        write_config(&config, text);
        let output = start_at(&pidfile, &log, &["--config", path_str(&config)], SLEEP);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let shown = output.stderr.escape_ascii();
        assert_eq!(output.status.code(), Some(1), "a bad file ({text:?}) is an error: {shown}");
        assert!(stderr.contains(path_str(&config)), "the message names the file: {shown}");
        assert!(!pidfile.exists(), "nothing was started");
    }
    let missing = scratch.path().join("missing.toml");
    let output = start_at(&pidfile, &log, &["--config", path_str(&missing)], SLEEP);
    assert_eq!(output.status.code(), Some(1), "a missing file is an error");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(path_str(&missing)),
        "the message names the missing file: {}",
        output.stderr.escape_ascii()
    );
}

fn base() -> Settings {
    Settings {
        command: vec![OsString::from("sleep"), OsString::from("1000")],
        policy: Policy {
            restart_max: 5,
            window: Duration::from_millis(60_000),
            backoff: Duration::from_millis(100),
            backoff_max: Duration::from_millis(10_000),
            kill_after: Duration::from_millis(5_000),
        },
    }
}

#[test]
fn an_empty_file_keeps_the_command_lines_settings() {
    assert_eq!(
        merge(&base(), "").expect("an empty file is valid"),
        base(),
        "the settings merged with an empty file"
    );
    assert_eq!(
        merge(&base(), "# only a comment\n").expect("a comment is valid"),
        base(),
        "the settings merged with a file of one comment"
    );
}

#[test]
fn merge_refuses_unknown_keys_wrong_types_and_an_empty_command() {
    for text in [
        "restart_maximum = 3",
        "restart_max = \"3\"",
        "restart_max = -1",
        "backoff_ms = 1.5",
        "command = \"ls\"",
        "[[",
    ] {
        assert!(matches!(merge(&base(), text), Err(ConfigError::Syntax(_))), "{text:?} is refused");
    }
    let empty = merge(&base(), "command = []");
    assert!(matches!(empty, Err(ConfigError::EmptyCommand)), "\"command = []\" merged as {empty:?}");
    let message = merge(&base(), "restart_maximum = 3").expect_err("unknown key").to_string();
    assert!(message.contains("restart_maximum"), "the message names the key: {message}");
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn merge_overrides_exactly_the_keys_the_file_sets(
        restart_max in proptest::option::of(any::<u32>()),
        window in proptest::option::of(0u64..1 << 40),
        backoff in proptest::option::of(0u64..1 << 40),
        backoff_max in proptest::option::of(0u64..1 << 40),
        kill_after in proptest::option::of(0u64..1 << 40),
        command in proptest::option::of(proptest::collection::vec("[a-z0-9 ./=-]{0,8}", 1..4)),
    ) {
        let mut text = String::new();
        let mut expected = base();
        if let Some(n) = restart_max {
            text += &format!("restart_max = {n}\n");
            expected.policy.restart_max = n;
        }
        for (key, value, field) in [
            ("restart_window_ms", window, &mut expected.policy.window),
            ("backoff_ms", backoff, &mut expected.policy.backoff),
            ("backoff_max_ms", backoff_max, &mut expected.policy.backoff_max),
            ("kill_after_ms", kill_after, &mut expected.policy.kill_after),
        ] {
            if let Some(ms) = value {
                text += &format!("{key} = {ms}\n");
                *field = Duration::from_millis(ms);
            }
        }
        if let Some(words) = &command {
            text += &format!("command = {words:?}\n");
            expected.command = words.iter().map(OsString::from).collect();
        }
        prop_assert_eq!(merge(&base(), &text).expect("a valid file"), expected, "file:\n{}", text);
    }
}
