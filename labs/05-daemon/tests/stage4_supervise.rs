//! Stage 4: supervision. A command that dies is restarted after a delay that doubles up to a cap;
//! after too many restarts within the window the daemon gives up, says why, and exits.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, kill};
use proptest::prelude::*;
use superd::{Policy, Restarts};
use testkit::test;

const SLEEP: &[&str] = &["sleep", "1000"];

/// The `restart N in MS ms` lines of a log, as (N, MS).
fn restarts_logged(log: &str) -> Vec<(u64, u64)> {
    log.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("superd: restart ")?;
            let (n, rest) = rest.split_once(" in ")?;
            Some((n.parse().ok()?, rest.strip_suffix(" ms")?.parse().ok()?))
        })
        .collect()
}

#[test]
fn twenty_kills_make_twenty_restarts_with_capped_backoff() {
    let mut daemon = Daemon::start(&[], SLEEP);
    let mut child = daemon.child();
    for _ in 0..20 {
        kill(child, libc::SIGKILL);
        child = daemon.new_child(child);
    }
    daemon.wait_for_log("restart 20 in");
    let logged = restarts_logged(&daemon.log_text());
    let expected: Vec<(u64, u64)> = (1..=20).map(|n| (n, (1u64 << (n - 1)).min(16))).collect();
    assert_eq!(logged, expected, "1 ms doubling to the 16 ms cap");
}

#[test]
fn a_restart_waits_its_delay_and_sigterm_does_not() {
    // A minute's delay: the command stays dead for the whole test, and SIGTERM arriving in the
    // middle of the wait must end it at once, not after the minute (a sleep the signal cannot wake).
    let mut daemon = Daemon::start(&["--backoff-ms", "60000", "--backoff-max-ms", "60000"], SLEEP);
    let child = daemon.child();
    kill(child, libc::SIGKILL);
    daemon.wait_for_log("superd: restart 1 in 60000 ms");
    kill(daemon.pid, libc::SIGTERM);
    daemon.wait_for_exit();
    let log = daemon.log_text();
    assert_eq!(
        log.matches("superd: started pid").count(),
        1,
        "commands started when the one restart was a minute away and SIGTERM came first:\n{log}"
    );
    assert!(log.contains("superd: stopped"), "SIGTERM during the delay is a clean stop:\n{log}");
    assert!(!daemon.pidfile.exists(), "SIGTERM during the delay removes the pid file");
}

#[test]
fn a_command_dying_too_often_is_given_up() {
    let daemon = Daemon::start(
        &["--restart-max", "3", "--backoff-ms", "20", "--backoff-max-ms", "100"],
        &["sh", "-c", "exit 1"],
    );
    daemon.wait_for_exit();
    assert!(!daemon.pidfile.exists(), "giving up removes the pid file");
    let log = daemon.log_text();
    assert!(log.contains("superd: giving up: 3 restarts within 60000 ms"), "the log says why:\n{log}");
    assert_eq!(
        restarts_logged(&log),
        [(1, 20), (2, 40), (3, 80)],
        "(restart, backoff ms) logged for a command that always fails:\n{log}"
    );
    assert_eq!(log.matches("superd: started pid").count(), 4, "the first run and three restarts:\n{log}");
}

#[test]
fn a_command_that_cannot_start_counts_as_a_death() {
    let daemon = Daemon::start(&["--restart-max", "2", "--backoff-ms", "20"], &["/nonexistent/command"]);
    daemon.wait_for_exit();
    daemon.wait_for_log("superd: giving up: 2 restarts");
}

fn policy(restart_max: u32, window_ms: u64, backoff_ms: u64, backoff_max_ms: u64) -> Policy {
    Policy {
        restart_max,
        window: Duration::from_millis(window_ms),
        backoff: Duration::from_millis(backoff_ms),
        backoff_max: Duration::from_millis(backoff_max_ms),
        kill_after: Duration::from_secs(1),
    }
}

#[test]
fn restarts_outside_the_window_are_forgotten() {
    let mut restarts = Restarts::new(&policy(2, 1000, 10, 1000));
    let t0 = Instant::now();
    assert_eq!(restarts.next(t0), Some(Duration::from_millis(10)), "the delay of the first restart, at 0 ms");
    assert_eq!(
        restarts.next(t0 + Duration::from_millis(100)),
        Some(Duration::from_millis(20)),
        "the delay of the second restart, at 100 ms"
    );
    assert_eq!(restarts.next(t0 + Duration::from_millis(200)), None, "a third within 1 s is too many");
    // A second after the first restart, it has left the window: one slot again, backoff from 20.
    assert_eq!(
        restarts.next(t0 + Duration::from_millis(1000)),
        Some(Duration::from_millis(20)),
        "the delay at 1000 ms, once the first restart left the window"
    );
    assert_eq!(
        restarts.next(t0 + Duration::from_millis(2000)),
        Some(Duration::from_millis(10)),
        "the delay at 2000 ms, once every earlier restart left the window"
    );
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn never_more_than_the_maximum_within_a_window(
        max in 1u32..10,
        window in 1u64..1000,
        gaps in proptest::collection::vec(0u64..300, 1..60),
    ) {
        let mut restarts = Restarts::new(&policy(max, window, 1, 50));
        let start = Instant::now();
        let mut at = start;
        let mut granted: Vec<Instant> = Vec::new();
        for gap in gaps {
            at += Duration::from_millis(gap);
            if let Some(delay) = restarts.next(at) {
                prop_assert!(
                    delay >= Duration::from_millis(1) && delay <= Duration::from_millis(50),
                    "a delay of {:?}, outside the backoff's 1..=50 ms", delay
                );
                granted.push(at);
            }
            let in_window = granted.iter().filter(|&&g| at.duration_since(g) < Duration::from_millis(window)).count();
            prop_assert!(in_window <= max as usize, "{in_window} restarts within {window} ms, max {max}");
        }
    }

    #[test]
    fn the_delay_doubles_up_to_the_cap(base in 1u64..100, cap in 1u64..5000, n in 1usize..40) {
        let mut restarts = Restarts::new(&policy(1000, 3_600_000, base, cap));
        let now = Instant::now();
        for i in 0..n {
            let expected = Duration::from_millis(base.saturating_mul(1u64 << i.min(40)).min(cap));
            prop_assert_eq!(restarts.next(now), Some(expected), "the delay of restart {} with backoff {} ms, cap {} ms", i + 1, base, cap);
        }
    }
}
