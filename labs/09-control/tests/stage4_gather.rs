//! Stage 4: gather. A job's results aggregated as they come: counts by ending, hosts whose
//! output is identical grouped together (and output that differs in anything apart), stragglers
//! longest first, hosts not started yet, a stopped rollout, and a report that caps names and
//! lines and never panics on bytes that are not UTF-8. Events may be replayed (a job re-attached
//! after a master restart sees them again): a host ends once and the first ending counts, and
//! events for hosts the job did not name change nothing. As a property, for any sequence of
//! events the counts, groups, stragglers and hosts not started agree with one another and with a
//! simple model; and 50,000 hosts gather into one group.
//!
//! Then over real agents: a job started and followed through the master's operator socket (and
//! what the socket refuses), a host whose connection drops mid-command, and a master that stops
//! mid-job and is replaced: every host ends, none runs the command twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::{TestMaster, key, master_key, operator};
use control::Error;
use control::agent::{AgentConfig, AgentHandle, AllowList, spawn_agent};
use control::command::{Command, Refusal, SignedCommand};
use control::gather::{Gather, Group};
use control::keys::KeyStore;
use control::master::{Ending, JobEvent, JobOptions, Master, MasterConfig, Portion};
use control::operator::{Following, Operator};
use control::wire::Exit;
use proptest::prelude::*;
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------------
// Gathering

/// `web0000`, `web0001`, ...: names that sort in their numbers' order.
fn names(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("web{i:04}")).collect()
}

fn exit(code: i32, stdout: &str, stderr: &str) -> Exit {
    Exit { code: Some(code), stdout: stdout.into(), stderr: stderr.into(), ..Exit::default() }
}

fn done(stdout: &str) -> Ending {
    Ending::Done(exit(0, stdout, ""))
}

fn failed(code: i32, stderr: &str) -> Ending {
    Ending::Failed(exit(code, "", stderr))
}

fn sent(host: &str) -> JobEvent {
    JobEvent::Sent(host.to_owned())
}

fn ended(host: &str, ending: Ending) -> JobEvent {
    JobEvent::Ended(host.to_owned(), ending)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn group_sizes(gather: &Gather) -> Vec<usize> {
    gather.groups().iter().map(|group| group.hosts.len()).collect()
}

#[test]
fn counts_each_ending_in_a_fixed_order_and_only_the_ones_seen() {
    let start = Instant::now();
    let mut gather = Gather::new(names(12), start);
    assert_eq!(gather.named(), 12);
    assert_eq!(gather.ended(), 0);
    assert!(gather.counts().is_empty());
    assert!(!gather.is_complete());

    let endings = [
        Ending::Skipped,
        Ending::Unreachable,
        Ending::Lost("no reply, and no answer to find_job".into()),
        Ending::Refused(Refusal::Unsigned),
        Ending::TimedOut(Exit { signal: Some(9), timed_out: true, ..Exit::default() }),
        failed(1, "no"),
        done("ok"),
        done("ok"),
        done("ok"),
        failed(2, "no"),
        Ending::Skipped,
    ];
    for (host, ending) in names(12).iter().zip(endings) {
        gather.record(&ended(host, ending), start + secs(1));
    }
    assert_eq!(
        gather.counts(),
        [
            ("done", 3),
            ("failed", 2),
            ("timed out", 1),
            ("refused", 1),
            ("lost", 1),
            ("unreachable", 1),
            ("skipped", 2)
        ]
    );
    assert_eq!(gather.ended(), 11);
    assert!(!gather.is_complete(), "one host left");
    let labels: Vec<&str> = gather.counts().into_iter().map(|(label, _)| label).collect();
    assert_eq!(labels[0], done("").label());
    assert_eq!(labels[4], Ending::Lost(String::new()).label());

    gather.record(&ended("web0011", Ending::Unreachable), start + secs(2));
    assert!(gather.is_complete());
    assert_eq!(gather.counts().iter().map(|(_, count)| count).sum::<usize>(), 12);

    let mut only_done = Gather::new(names(2), start);
    only_done.record(&ended("web0000", done("")), start);
    assert_eq!(only_done.counts(), [("done", 1)], "no zero counts");
}

#[test]
fn a_thousand_hosts_with_three_outputs_make_three_groups_biggest_first() {
    let start = Instant::now();
    let hosts = names(1000);
    let mut gather = Gather::new(hosts.clone(), start);
    // Backwards, so that the order of the hosts in a group is the gatherer's doing.
    for (i, host) in hosts.iter().enumerate().rev() {
        let ending = match i % 10 {
            0..=6 => done("ok\n"),
            7 | 8 => failed(1, "disk full\n"),
            _ => done("ok, restarted\n"),
        };
        gather.record(&sent(host), start);
        gather.record(&ended(host, ending), start + secs(1));
    }
    assert!(gather.is_complete());
    let groups = gather.groups();
    assert_eq!(group_sizes(&gather), [700, 200, 100]);

    assert_eq!(groups[0].ending, "done");
    assert_eq!(groups[0].status, Some(0));
    assert_eq!(groups[0].stdout, b"ok\n");
    assert_eq!(groups[0].stderr, b"");
    assert_eq!(groups[0].reason, None);
    assert!(!groups[0].truncated);
    assert_eq!(groups[0].hosts[..3], ["web0000", "web0001", "web0002"]);
    assert!(groups[0].hosts.is_sorted());

    assert_eq!(
        groups[1],
        Group {
            ending: "failed",
            status: Some(1),
            reason: None,
            stdout: Vec::new(),
            stderr: b"disk full\n".to_vec(),
            truncated: false,
            hosts: hosts
                .iter()
                .enumerate()
                .filter(|(i, _)| matches!(i % 10, 7 | 8))
                .map(|(_, h)| h.clone())
                .collect(),
        }
    );
    assert_eq!(groups[2].stdout, b"ok, restarted\n");
    assert_eq!(groups[2].hosts.first().map(String::as_str), Some("web0009"));
    assert_eq!(groups[2].hosts.last().map(String::as_str), Some("web0999"));
    assert_eq!(gather.counts(), [("done", 800), ("failed", 200)]);
}

#[test]
fn groups_of_one_size_are_ordered_by_their_first_host() {
    let start = Instant::now();
    let mut gather = Gather::new(["d", "c", "b", "a"].map(String::from).to_vec(), start);
    gather.record(&ended("d", done("one")), start);
    gather.record(&ended("a", done("two")), start);
    gather.record(&ended("c", done("one")), start);
    gather.record(&ended("b", done("two")), start);
    let groups = gather.groups();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].hosts, ["a", "b"]);
    assert_eq!(groups[0].stdout, b"two");
    assert_eq!(groups[1].hosts, ["c", "d"]);
}

#[test]
fn output_that_differs_in_anything_makes_another_group() {
    let start = Instant::now();
    let hosts = names(9);
    let mut gather = Gather::new(hosts.clone(), start);
    let endings = [
        failed(1, "oops"),
        failed(1, "oops"),
        failed(1, "oops!"),
        failed(2, "oops"),
        Ending::Failed(Exit { signal: Some(1), ..exit(1, "", "oops") }), // status 1 still
        Ending::Failed(Exit { code: None, signal: Some(9), stderr: b"oops".to_vec(), ..Exit::default() }),
        Ending::Failed(Exit { truncated: true, ..exit(1, "", "oops") }),
        Ending::Failed(exit(1, "oops", "")),
        Ending::TimedOut(Exit { timed_out: true, ..exit(1, "", "oops") }),
    ];
    for (host, ending) in hosts.iter().zip(endings) {
        gather.record(&ended(host, ending), start);
    }
    let groups = gather.groups();
    assert_eq!(group_sizes(&gather), [3, 1, 1, 1, 1, 1, 1], "{groups:#?}");
    assert_eq!(groups[0].hosts, ["web0000", "web0001", "web0004"], "the same status, 1, is alike");
    let signalled = groups.iter().find(|group| group.hosts == ["web0005"]).unwrap();
    assert_eq!(signalled.status, Some(137));
    let truncated = groups.iter().find(|group| group.hosts == ["web0006"]).unwrap();
    assert!(truncated.truncated);
    let timed_out = groups.iter().find(|group| group.hosts == ["web0008"]).unwrap();
    assert_eq!(timed_out.ending, "timed out");
}

#[test]
fn refusals_and_lost_hosts_are_grouped_by_their_reason() {
    let start = Instant::now();
    let hosts = names(7);
    let mut gather = Gather::new(hosts.clone(), start);
    let endings = [
        Ending::Refused(Refusal::Unsigned),
        Ending::Refused(Refusal::Unsigned),
        Ending::Refused(Refusal::BadSignature),
        Ending::Lost("no reply".into()),
        Ending::Lost("restarted".into()),
        Ending::Lost("no reply".into()),
        Ending::Unreachable,
    ];
    for (host, ending) in hosts.iter().zip(endings) {
        gather.record(&ended(host, ending), start);
    }
    let groups = gather.groups();
    assert_eq!(group_sizes(&gather), [2, 2, 1, 1, 1]);
    assert_eq!(groups[0].ending, "refused");
    assert_eq!(groups[0].reason, Some(Refusal::Unsigned.to_string()));
    assert_eq!(groups[0].status, None);
    assert_eq!(groups[1].ending, "lost");
    assert_eq!(groups[1].reason.as_deref(), Some("no reply"));
    assert_eq!(groups[1].hosts, ["web0003", "web0005"]);
    let unreachable = groups.iter().find(|group| group.ending == "unreachable").unwrap();
    assert_eq!((unreachable.status, &unreachable.reason), (None, &None));
    assert!(unreachable.stdout.is_empty() && unreachable.stderr.is_empty());
}

#[test]
fn a_replayed_ending_changes_nothing_the_first_counts() {
    let start = Instant::now();
    let mut gather = Gather::new(names(3), start);
    gather.record(&sent("web0000"), start);
    gather.record(&ended("web0000", done("first")), start + secs(1));
    gather.record(&ended("web0001", failed(3, "bad")), start + secs(1));
    let before = (gather.counts(), gather.groups(), gather.ended());

    // A master restart: the same events, then others for the same hosts.
    gather.record(&sent("web0000"), start + secs(5));
    gather.record(&ended("web0000", done("first")), start + secs(5));
    gather.record(&ended("web0000", failed(1, "second")), start + secs(6));
    gather.record(&ended("web0001", Ending::Lost("replayed".into())), start + secs(6));
    gather.record(&JobEvent::StillRunning("web0001".into()), start + secs(6));
    assert_eq!((gather.counts(), gather.groups(), gather.ended()), before);
    assert!(gather.stragglers(start + secs(7), 10).is_empty(), "a Sent after the end makes no straggler");
    assert_eq!(gather.not_started(), ["web0002"]);
    assert!(!gather.is_complete());
}

#[test]
fn events_for_hosts_the_job_did_not_name_are_ignored() {
    let start = Instant::now();
    let mut gather = Gather::new(names(2), start);
    gather.record(&sent("intruder"), start);
    gather.record(&JobEvent::StillRunning("intruder".into()), start);
    gather.record(&ended("intruder", done("hi")), start);
    gather.record(&ended("web0000", done("hi")), start);
    assert_eq!(gather.named(), 2);
    assert_eq!(gather.ended(), 1);
    assert_eq!(gather.counts(), [("done", 1)]);
    assert_eq!(gather.groups().len(), 1);
    assert_eq!(gather.groups()[0].hosts, ["web0000"]);
    assert!(gather.stragglers(start, 10).is_empty());
    assert_eq!(gather.not_started(), ["web0001"]);
    assert!(!gather.report(start, 10, 10).contains("intruder"));
}

#[test]
fn stragglers_are_listed_longest_first_limited_and_gone_once_ended() {
    let start = Instant::now();
    let mut gather = Gather::new(names(6), start);
    gather.record(&sent("web0003"), start + secs(3));
    gather.record(&sent("web0001"), start + secs(1));
    gather.record(&sent("web0002"), start + secs(2));
    gather.record(&sent("web0004"), start + secs(4));
    // Still running keeps the time it was sent; a repeated Sent does too.
    gather.record(&JobEvent::StillRunning("web0001".into()), start + secs(8));
    gather.record(&sent("web0002"), start + secs(9));

    let now = start + secs(10);
    assert_eq!(
        gather.stragglers(now, 10),
        [
            ("web0001".to_owned(), secs(9)),
            ("web0002".to_owned(), secs(8)),
            ("web0003".to_owned(), secs(7)),
            ("web0004".to_owned(), secs(6)),
        ]
    );
    assert_eq!(gather.stragglers(now, 2), [("web0001".to_owned(), secs(9)), ("web0002".to_owned(), secs(8))]);
    assert!(gather.stragglers(now, 0).is_empty());

    gather.record(&ended("web0001", done("")), start + secs(10));
    let names: Vec<String> = gather.stragglers(now, 10).into_iter().map(|(host, _)| host).collect();
    assert_eq!(names, ["web0002", "web0003", "web0004"]);
    assert_eq!(gather.not_started(), ["web0000", "web0005"]);
}

#[test]
fn a_host_said_to_be_still_running_is_running_though_its_sent_was_missed() {
    let start = Instant::now();
    let mut gather = Gather::new(names(2), start);
    gather.record(&JobEvent::StillRunning("web0001".into()), start + secs(4));
    assert_eq!(gather.stragglers(start + secs(5), 10), [("web0001".to_owned(), secs(1))]);
    assert_eq!(gather.not_started(), ["web0000"]);
}

#[test]
fn hosts_not_started_are_those_neither_sent_nor_ended_in_the_jobs_order() {
    let start = Instant::now();
    let hosts: Vec<String> = ["zeta", "alpha", "mid", "beta"].map(String::from).to_vec();
    let mut gather = Gather::new(hosts.clone(), start);
    assert_eq!(gather.not_started(), hosts);
    gather.record(&sent("alpha"), start);
    gather.record(&ended("beta", Ending::Unreachable), start);
    assert_eq!(gather.not_started(), ["zeta", "mid"]);
    gather.record(&ended("zeta", Ending::Skipped), start);
    gather.record(&ended("mid", Ending::Skipped), start);
    assert_eq!(gather.not_started(), Vec::<String>::new());
    assert!(!gather.is_complete(), "alpha is still running");
}

#[test]
fn a_stop_is_kept_and_a_replayed_one_does_not_replace_it() {
    let start = Instant::now();
    let mut gather = Gather::new(names(4), start);
    assert_eq!(gather.stopped(), None);
    gather.record(&JobEvent::Stopped { failures: 2, budget: 1 }, start);
    assert_eq!(gather.stopped(), Some((2, 1)));
    gather.record(&JobEvent::Stopped { failures: 3, budget: 1 }, start);
    assert_eq!(gather.stopped(), Some((2, 1)));
    assert_eq!(gather.ended(), 0, "a stop ends no host by itself");
    assert!(gather.progress_line().contains("stopped"), "{}", gather.progress_line());
    let report = gather.report(start, 10, 10);
    assert!(report.lines().last().unwrap().starts_with("stopped: the failure budget"), "{report}");
}

#[test]
fn a_job_of_no_hosts_is_complete_at_once() {
    let start = Instant::now();
    let gather = Gather::new(Vec::new(), start);
    assert!(gather.is_complete());
    assert!(gather.groups().is_empty());
    assert!(gather.report(start, 5, 5).starts_with("0/0 "));
}

#[test]
fn a_host_named_twice_is_gathered_once() {
    let start = Instant::now();
    let mut gather = Gather::new(["a", "b", "a"].map(String::from).to_vec(), start);
    assert_eq!(gather.named(), 2);
    gather.record(&ended("a", done("")), start);
    gather.record(&ended("b", done("")), start);
    assert!(gather.is_complete());
}

#[test]
fn the_progress_line_is_one_short_line_of_totals() {
    let start = Instant::now();
    let hosts = names(1000);
    let mut gather = Gather::new(hosts.clone(), start);
    for host in &hosts[..442] {
        gather.record(&sent(host), start);
    }
    for host in &hosts[..400] {
        gather.record(&ended(host, done("")), start);
    }
    for host in &hosts[400..410] {
        gather.record(&ended(host, failed(1, "")), start);
    }
    for host in &hosts[410..412] {
        gather.record(&ended(host, Ending::Lost("gone".into())), start);
    }
    let line = gather.progress_line();
    assert!(!line.contains('\n'), "{line:?}");
    assert!(line.len() < 100, "{line:?}");
    for part in ["412/1000", "400 done", "10 failed", "2 lost", "30 running"] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
    assert!(!line.contains("stopped"), "{line:?}");
}

#[test]
fn the_report_gives_the_totals_then_each_group_with_its_hosts_and_output() {
    let start = Instant::now();
    let hosts = names(20);
    let mut gather = Gather::new(hosts.clone(), start);
    for host in &hosts[..18] {
        gather.record(&sent(host), start + secs(1));
    }
    for host in &hosts[..12] {
        gather.record(&ended(host, done("all good\n")), start + secs(2));
    }
    for host in &hosts[12..15] {
        gather.record(&ended(host, failed(2, "e1\ne2\ne3\ne4\ne5\n")), start + secs(2));
    }
    gather.record(&ended(&hosts[15], Ending::Refused(Refusal::BadSignature)), start + secs(2));
    let report = gather.report(start + secs(4), 5, 3);
    let mut lines = report.lines();

    let totals = lines.next().unwrap();
    for part in ["16/20", "4.0s", "12 done", "3 failed", "1 refused", "2 running", "2 not started"] {
        assert!(totals.contains(part), "{part:?} in {totals:?}\n{report}");
    }
    assert!(!totals.contains("lost"), "only the non-zero counts: {totals:?}");

    let done_group = lines.next().unwrap();
    for part in ["done", "status 0", "12 hosts", "web0000, web0001, web0002, web0003, web0004 and 7 more"] {
        assert!(done_group.contains(part), "{part:?} in {done_group:?}\n{report}");
    }
    assert!(!done_group.contains("web0005"), "at most 5 names: {done_group:?}");
    assert!(report.contains("    all good\n"), "output indented:\n{report}");

    let failed_at = report.find("status 2").unwrap();
    let failed_group = &report[failed_at..];
    assert!(failed_group.contains("3 hosts"), "{report}");
    assert!(failed_group.contains("web0012, web0013, web0014\n"), "no \"and 0 more\":\n{report}");
    assert!(failed_group.contains("e1\n") && failed_group.contains("e3\n"), "{report}");
    assert!(!report.contains("e4"), "at most 3 lines:\n{report}");
    assert!(failed_group.contains("2 more lines"), "{report}");

    assert!(report.contains(&Refusal::BadSignature.to_string()), "a refusal's reason:\n{report}");
    assert!(report.contains("web0016") && report.contains("web0017"), "the stragglers:\n{report}");
    assert!(report.contains("3.0s"), "how long they have been running:\n{report}");
    assert!(report.contains("web0018") && report.contains("web0019"), "those not started:\n{report}");
    assert!(!report.contains("stopped"), "{report}");
}

#[test]
fn the_report_never_panics_on_output_that_is_not_utf8() {
    let start = Instant::now();
    let mut gather = Gather::new(names(2), start);
    let bytes = vec![b'o', b'k', 0xff, 0xfe, b'\n', 0xe2, 0x82, b'\n', 0xc3];
    let exit = Exit { code: Some(0), stdout: bytes.clone(), stderr: bytes, ..Exit::default() };
    gather.record(&ended("web0000", Ending::Done(exit)), start);
    gather.record(
        &ended("web0001", Ending::Failed(Exit { code: Some(1), stdout: vec![0x80; 64], ..Exit::default() })),
        start,
    );
    for max_lines in [0, 1, 2, 100] {
        let report = gather.report(start, 0, max_lines);
        assert!(report.contains("2/2"), "{report}");
    }
    let report = gather.report(start, 10, 10);
    assert!(report.contains("ok\u{fffd}\u{fffd}"), "{report}");
}

#[test]
fn a_finished_job_reports_no_running_no_waiting_and_no_more_than_it_has() {
    let start = Instant::now();
    let hosts = names(5);
    let mut gather = Gather::new(hosts.clone(), start);
    for host in &hosts {
        gather.record(&sent(host), start);
        gather.record(&ended(host, done("one\ntwo\n")), start);
    }
    let line = gather.progress_line();
    assert!(!line.contains("running"), "{line:?}");
    // Five names, five shown; two lines of output, two shown.
    let report = gather.report(start, 5, 2);
    for absent in ["running", "not started", "more", "stopped"] {
        assert!(!report.contains(absent), "{absent:?} in\n{report}");
    }
    assert!(report.contains("web0004"), "{report}");
    assert!(report.contains("    one\n    two\n"), "{report}");
}

#[test]
fn the_report_escapes_what_would_drive_a_terminal_and_keeps_the_rest() {
    let start = Instant::now();
    let mut gather = Gather::new(names(2), start);
    let text = "plain\tcolumns \u{1b}[31mred\u{1b}[0m\rback \u{7}bell é";
    gather.record(&ended("web0000", done(text)), start);
    gather.record(&ended("web0001", done("\u{1b}[1mbold, and no tab")), start);
    let report = gather.report(start, 5, 5);
    assert!(!report.contains('\u{1b}') && !report.contains('\r') && !report.contains('\u{7}'), "{report:?}");
    assert!(report.contains("plain\tcolumns "), "a tab is kept: {report:?}");
    assert!(
        report.contains("red") && report.contains("bell é") && report.contains("bold, and no tab"),
        "{report:?}"
    );
    gather = Gather::new(names(1), start);
    gather.record(&ended("web0000", done("nothing to escape here\n")), start);
    assert!(gather.report(start, 5, 5).contains("    nothing to escape here\n"));
}

#[test]
fn fifty_thousand_hosts_with_one_output_gather_into_one_group() {
    let start = Instant::now();
    let hosts: Vec<String> = (0..50_000).map(|i| format!("host{i:05}.example.net")).collect();
    let mut gather = Gather::new(hosts.clone(), start);
    for (i, host) in hosts.iter().enumerate() {
        gather.record(&sent(host), start + Duration::from_millis(i as u64));
    }
    assert_eq!(gather.stragglers(start + secs(60), 3)[0].0, "host00000.example.net");
    for host in hosts.iter().rev() {
        gather.record(&ended(host, done("Linux 6.1.0 x86_64\n")), start + secs(60));
    }
    assert!(gather.is_complete());
    assert_eq!(gather.counts(), [("done", 50_000)]);
    let groups = gather.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].hosts, hosts);
    assert!(gather.stragglers(start + secs(60), 10).is_empty());
    let report = gather.report(start + secs(61), 3, 3);
    assert!(report.contains("and 49997 more"), "{report}");
}

// A model: each named host's first ending, and the hosts sent. Of the endings drawn below, two
// are alike exactly when they are equal.

/// The named hosts of the property: `h0` to `h5`; `h6` and `h7` are not named.
const NAMED: usize = 6;

fn any_ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", ""]).prop_map(done),
        (1..3i32, prop::sample::select(vec!["x", "y"])).prop_map(|(code, stderr)| failed(code, stderr)),
        Just(Ending::TimedOut(Exit { signal: Some(9), timed_out: true, ..Exit::default() })),
        Just(Ending::Refused(Refusal::Unsigned)),
        prop::sample::select(vec!["no reply", "restarted"]).prop_map(|why| Ending::Lost(why.into())),
        Just(Ending::Unreachable),
        Just(Ending::Skipped),
    ]
}

fn any_host() -> impl Strategy<Value = String> {
    (0..NAMED + 2).prop_map(|i| format!("h{i}"))
}

fn any_event() -> impl Strategy<Value = JobEvent> {
    prop_oneof![
        2 => any_host().prop_map(JobEvent::Sent),
        1 => any_host().prop_map(JobEvent::StillRunning),
        4 => (any_host(), any_ending()).prop_map(|(host, ending)| JobEvent::Ended(host, ending)),
        1 => (0..5usize, 0..5usize).prop_map(|(failures, budget)| JobEvent::Stopped { failures, budget }),
    ]
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    /// Any events, replays and unknown hosts included: the counts, groups, stragglers and hosts
    /// not started agree with a model that keeps each named host's first ending.
    #[test]
    fn any_events_gather_consistently(
        events in prop::collection::vec((any_event(), 0..100u64), 0..60),
    ) {
        let start = Instant::now();
        let named: Vec<String> = (0..NAMED).map(|i| format!("h{i}")).collect();
        let mut gather = Gather::new(named.clone(), start);
        let mut first_ending: BTreeMap<String, Ending> = BTreeMap::new();
        let mut sent: BTreeSet<String> = BTreeSet::new();
        let mut stopped = None;
        for (event, at) in &events {
            gather.record(event, start + Duration::from_millis(*at));
            match event {
                JobEvent::Sent(host) | JobEvent::StillRunning(host) => {
                    sent.insert(host.clone());
                }
                JobEvent::Ended(host, ending) => {
                    first_ending.entry(host.clone()).or_insert_with(|| ending.clone());
                }
                JobEvent::Stopped { failures, budget } => {
                    stopped.get_or_insert((*failures, *budget));
                }
            }
        }
        first_ending.retain(|host, _| named.contains(host));
        sent.retain(|host| named.contains(host));

        prop_assert_eq!(gather.named(), NAMED);
        prop_assert_eq!(gather.ended(), first_ending.len());
        prop_assert_eq!(gather.is_complete(), first_ending.len() == NAMED);
        prop_assert_eq!(gather.stopped(), stopped);

        let counts = gather.counts();
        prop_assert_eq!(counts.iter().map(|(_, count)| count).sum::<usize>(), gather.ended());
        for (label, count) in &counts {
            prop_assert!(*count > 0);
            prop_assert_eq!(*count, first_ending.values().filter(|ending| ending.label() == *label).count());
        }

        let groups = gather.groups();
        prop_assert_eq!(groups.iter().map(|group| group.hosts.len()).sum::<usize>(), gather.ended());
        let mut group_of: BTreeMap<String, usize> = BTreeMap::new();
        for (i, group) in groups.iter().enumerate() {
            prop_assert!(!group.hosts.is_empty());
            prop_assert!(group.hosts.is_sorted());
            if i > 0 {
                prop_assert!(groups[i - 1].hosts.len() >= group.hosts.len(), "biggest first");
            }
            for host in &group.hosts {
                prop_assert!(group_of.insert(host.clone(), i).is_none(), "{} in two groups", host);
                prop_assert_eq!(first_ending[host].label(), group.ending, "{}", host);
            }
        }
        prop_assert_eq!(group_of.keys().collect::<Vec<_>>(), first_ending.keys().collect::<Vec<_>>());
        for (a, ending_a) in &first_ending {
            for (b, ending_b) in &first_ending {
                prop_assert_eq!(
                    group_of[a] == group_of[b],
                    ending_a == ending_b,
                    "{} {:?} and {} {:?}", a, ending_a, b, ending_b
                );
            }
        }

        let stragglers: BTreeSet<String> =
            gather.stragglers(start + Duration::from_secs(1), usize::MAX).into_iter().map(|(host, _)| host).collect();
        let running: BTreeSet<String> =
            sent.iter().filter(|host| !first_ending.contains_key(*host)).cloned().collect();
        prop_assert_eq!(&stragglers, &running);
        let not_started: BTreeSet<String> = gather.not_started().into_iter().collect();
        for host in &not_started {
            prop_assert!(!sent.contains(host) && !first_ending.contains_key(host), "{}", host);
        }
        prop_assert_eq!(not_started.len() + running.len() + first_ending.len(), NAMED);
        let _ = gather.report(start + Duration::from_secs(1), 2, 1);
        prop_assert!(!gather.progress_line().contains('\n'));
    }
}

// ---------------------------------------------------------------------------------------------
// The operator's socket, and hosts that come and go

/// A command for `target` that runs `/bin/sh -c script`, signed by the operator.
fn sh(target: &str, script: &str) -> SignedCommand {
    let args = ["-c".to_string(), script.to_string()];
    let command = Command::new(target, "/bin/sh", &args, Duration::from_secs(60), Duration::from_secs(10));
    SignedCommand::sign(&command, &operator())
}

/// Job options that ask after a late host within 300 ms and give it `probe` to answer.
fn options(batch: Option<Portion>, probe: Duration) -> JobOptions {
    JobOptions { batch, failure_budget: None, wait: Duration::from_millis(300), probe }
}

/// Enrolls `count` agents `web01`, `web02`, … with `master` and starts them, dialing `addr`.
fn agents(master: &TestMaster, count: u8, shutdown: &CancellationToken) -> Vec<(String, AgentHandle)> {
    (1..=count)
        .map(|n| {
            let id = format!("web{n:02}");
            let handle = master.enrolled_agent(&id, n, shutdown);
            (id, handle)
        })
        .collect()
}

/// Follows `following` to its end into a [`Gather`].
async fn gather(mut following: Following) -> Gather {
    let mut gather = Gather::new(following.hosts.clone(), Instant::now());
    while let Some(event) = within("the job's next event", following.next()).await.unwrap() {
        gather.record(&event, Instant::now());
    }
    gather
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_job_run_through_the_operator_socket_tells_of_every_host() {
    let dir = testkit::scratch_dir();
    let socket = dir.path().join("control.sock");
    let api = socket.clone();
    let master = TestMaster::start(move |config| config.api = Some(api)).await;
    let shutdown = CancellationToken::new();
    let fleet = agents(&master, 12, &shutdown);
    eventually("every agent to connect", || fleet.iter().all(|(id, _)| master.has(id))).await;
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o600);

    let listed = Operator::connect(&socket).await.unwrap().agents().await.unwrap();
    assert_eq!(
        listed.iter().map(|agent| agent.id.as_str()).collect::<Vec<_>>(),
        fleet.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
    );

    let operator = Operator::connect(&socket).await.unwrap();
    let following = operator
        .run(
            sh("web*", "echo hello"),
            options(Some(Portion::Count(5)), Duration::from_millis(300)),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(following.hosts.len(), 12);
    let gather = gather(following).await;
    assert!(gather.is_complete());
    assert_eq!(gather.counts(), [("done", 12)]);
    let groups = gather.groups();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].stdout, b"hello\n");
    assert_eq!(groups[0].hosts.len(), 12);

    // A command the master does not trust is refused on the socket, with the reason.
    let stranger = SignedCommand::sign(
        &Command::new("*", "/bin/sh", &[], Duration::from_secs(60), Duration::from_secs(1)),
        &key(99),
    );
    let refused = Operator::connect(&socket)
        .await
        .unwrap()
        .run(stranger, options(None, Duration::from_millis(300)), Duration::from_secs(1))
        .await;
    assert!(matches!(&refused, Err(Error::Api(why)) if why.contains("not an operator")), "{refused:?}");
    // So is garbage, and the socket still answers afterwards.
    let mut raw = tokio::net::UnixStream::connect(&socket).await.unwrap();
    raw.write_all(b"{\"run\": 17}\n").await.unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut raw, &mut answer).await.unwrap();
    assert!(answer.contains("error"), "{answer}");
    assert_eq!(Operator::connect(&socket).await.unwrap().agents().await.unwrap().len(), 12);
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_host_whose_connection_drops_mid_command_still_reports_once() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let fleet = agents(&master, 3, &shutdown);
    eventually("every agent to connect", || fleet.iter().all(|(id, _)| master.has(id))).await;

    let mut job = master
        .handle
        .start(&sh("web*", "sleep 0.5; echo through"), &options(None, Duration::from_secs(2)))
        .unwrap();
    let mut gather = Gather::new(job.hosts.clone(), Instant::now());
    while let Some(event) = within("the job's next event", job.next()).await {
        // Once web02 runs the command, its connection drops; the command goes on.
        if event == JobEvent::Sent("web02".into()) {
            eventually("web02 to start the command", || fleet[1].1.status().ran == 1).await;
            fleet[1].1.cut_connection();
        }
        gather.record(&event, Instant::now());
    }
    assert_eq!(gather.counts(), [("done", 3)], "{}", gather.report(Instant::now(), 10, 5));
    assert!(fleet[1].1.status().sessions >= 2, "web02's connection was never cut");
    for (id, handle) in &fleet {
        assert_eq!(handle.status().ran, 1, "{id} ran the command {} times", handle.status().ran);
    }
    shutdown.cancel();
}

/// A master on `addr` over the key store, audit log and socket in `dir`.
async fn master_in(
    dir: &std::path::Path,
    addr: SocketAddr,
) -> (SocketAddr, CancellationToken, tokio::task::JoinHandle<()>) {
    let mut config = MasterConfig::new(master_key(), KeyStore::open(&dir.join("keys")).unwrap());
    config.operators = vec![operator().public()];
    config.heartbeat = Duration::from_millis(100);
    config.audit = Some(dir.join("audit.log"));
    config.api = Some(dir.join("control.sock"));
    // In one process, the port a master just let go of can be refused for a moment: try again
    // within a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let master = loop {
        match Master::bind(addr, config.clone()).await {
            Ok(master) => break master,
            Err(err) if std::time::Instant::now() < deadline => {
                eprintln!("{err}: trying again");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("{err}"),
        }
    };
    let addr = master.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(master.run(shutdown.clone()));
    (addr, shutdown, task)
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_master_restart_mid_job_loses_no_host_and_runs_none_twice() {
    let dir = testkit::scratch_dir();
    let (addr, stop_first, mut first) = master_in(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let keys = KeyStore::open(&dir.path().join("keys")).unwrap();
    let shutdown = CancellationToken::new();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    let mut fleet = Vec::new();
    for n in 1..=6u8 {
        let id = format!("web{n:02}");
        keys.enroll(&id, &key(n).public()).unwrap();
        let mut config = AgentConfig::new(&id, key(n), addr, master_key().public());
        config.operators = vec![operator().public()];
        config.allow = AllowList::parse("/bin/sh\n");
        config.backoff_base = Duration::from_millis(20);
        config.backoff_cap = Duration::from_millis(100);
        fleet.push(spawn_agent(config, shutdown.clone()));
    }
    let socket = dir.path().join("control.sock");
    eventually("every agent to connect", || fleet.iter().all(|agent| agent.status().connected)).await;

    // Two at a time, each run leaving a file behind: six files in the end, or a host ran twice.
    let script = format!("sleep 0.4; mktemp {}/run.XXXXXX", runs.display());
    let operator = Operator::connect(&socket).await.unwrap();
    let mut following = operator
        .run(
            sh("web*", &script),
            options(Some(Portion::Count(2)), Duration::from_secs(2)),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    let mut gather = Gather::new(following.hosts.clone(), Instant::now());
    let mut restarted = None;
    while let Some(event) = within("the job's next event", following.next()).await.unwrap() {
        gather.record(&event, Instant::now());
        // Once two hosts are running, the master stops, and another takes its place.
        if restarted.is_none() && gather.stragglers(Instant::now(), 10).len() == 2 {
            stop_first.cancel();
            (&mut first).await.unwrap();
            restarted = Some(master_in(dir.path(), addr).await);
        }
    }
    assert!(restarted.is_some(), "the master never had two hosts running");
    assert!(gather.is_complete());
    assert_eq!(gather.counts(), [("done", 6)], "{}", gather.report(Instant::now(), 10, 5));
    for (n, agent) in fleet.iter().enumerate() {
        assert_eq!(agent.status().ran, 1, "web{:02} ran the command {} times", n + 1, agent.status().ran);
    }
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 6);
    if let Some((_, stop, task)) = restarted {
        stop.cancel();
        task.await.unwrap();
    }
    shutdown.cancel();
}
