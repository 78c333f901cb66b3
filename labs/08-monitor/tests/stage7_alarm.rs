//! Stage 7: the alarm. The exact sliding-log limit on the chapter's vectors and under any arrival
//! sequence (a property test), the summary of what it held back, dedup, priorities and the digest
//! of low-priority alerts, silences and maintenance windows, and recoveries that nothing holds back;
//! then the senders (a webhook, a log, SMTP to a local sink, Alertmanager's v2 API), retries, a
//! receiver that hangs, and the alarm running on its clock.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::FakeEndpoint;
use monitor::alarm::notify::rfc3339;
use monitor::alarm::{
    Alarm, AlarmConfig, AlertmanagerNotifier, DispatchSettings, Dispatcher, Entry, Journal, LogNotifier,
    Maintenance, Notification, Notifier, Outgoing, ReceiverConfig, RemoteAlarm, Silence, SlidingLimit,
    SmtpNotifier, WebhookNotifier, glob_matches, intake_router, parse_alarm, start_alarm,
};
use monitor::judge::{Alert, Event, EventSink, Selector, Status};
use monitor::{Millis, Sample, Shutdown};
use proptest::prelude::*;
use testkit::test;

const SECOND: Millis = 1000;

// ---------------------------------------------------------------------------------------------
// The limit

/// Which of `times` (in seconds) a limit of `max` a minute lets through.
fn let_through(max: usize, times: &[Millis]) -> Vec<Millis> {
    let mut limit = SlidingLimit::new(max, 60 * SECOND);
    times.iter().copied().filter(|&t| limit.try_send(t * SECOND)).collect()
}

#[test]
fn the_limit_is_exact_over_the_last_sixty_seconds() {
    // The chapter's vector, N = 3.
    assert_eq!(let_through(3, &[0, 10, 20, 30, 60, 61, 70]), [0, 10, 20, 60, 70]);
    // A fixed window reset at 60 would let 60, 61 and 62 through.
    assert_eq!(let_through(3, &[50, 55, 59, 60, 61, 62, 110, 111, 116]), [50, 55, 59, 110, 116]);
    let burst = vec![0; 100];
    assert_eq!(let_through(3, &burst).len(), 3);
    assert_eq!(let_through(0, &[0, 100, 1000]), Vec::<Millis>::new(), "a limit of 0 lets nothing through");
    assert_eq!(let_through(usize::MAX, &burst).len(), 100, "no limit at all");
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn no_sixty_seconds_ever_hold_more_than_n_sends(
        max in 1usize..6,
        gaps in prop::collection::vec(0i64..40_000, 1..200),
    ) {
        let mut limit = SlidingLimit::new(max, 60 * SECOND);
        let mut now = 0;
        let mut sent = Vec::new();
        let mut refused_with_room = false;
        for gap in gaps {
            now += gap;
            let in_window = sent.iter().filter(|&&t| t > now - 60 * SECOND).count();
            if limit.try_send(now) {
                sent.push(now);
            } else if in_window < max {
                refused_with_room = true;
            }
        }
        for (i, &start) in sent.iter().enumerate() {
            let within = sent[i..].iter().take_while(|&&t| t < start + 60 * SECOND).count();
            prop_assert!(within <= max, "{} sends in the 60 s from {}: {:?}", within, start, sent);
        }
        prop_assert!(!refused_with_room, "a send was refused with room in the window: {:?}", sent);
    }
}

// ---------------------------------------------------------------------------------------------
// The alarm

fn alert(host: &str, rule: u64, priority: u8, status: Status, at: Millis) -> Alert {
    Alert {
        rule,
        priority,
        expr: "cpu.busy all(#3) > 90".into(),
        series: Sample::gauge("cpu.busy", 0.0).tag("cpu", "total").at(host, 0).series(),
        status,
        value: 95.0,
        at,
        count: u32::from(status != Status::Ok),
        notify: true,
    }
}

fn problem(host: &str, priority: u8, at: Millis) -> Event {
    Event::Alert(alert(host, 1, priority, Status::Problem, at))
}

fn recovery(host: &str, priority: u8, at: Millis) -> Event {
    Event::Alert(alert(host, 1, priority, Status::Ok, at))
}

/// An alarm with one receiver `ops` limited to `limit` a minute, no digest.
fn ops(limit: usize) -> Alarm {
    let mut receiver = ReceiverConfig::new("ops");
    receiver.limit = limit;
    receiver.digest_from = 6;
    Alarm::new(AlarmConfig::new(vec![receiver]))
}

/// The hosts of the alerts in `out`, as the receiver sees them.
fn hosts(out: &[Outgoing]) -> Vec<String> {
    out.iter()
        .map(|o| match &o.notification {
            Notification::Alert(alert) => format!("{} {}", alert.status.as_str(), alert.series.host),
            other => other.subject(),
        })
        .collect()
}

#[test]
fn the_alarm_sends_within_the_limit_and_a_summary_of_the_rest_a_window_after_the_first_held_back() {
    let mut alarm = ops(3);
    let mut sent = Vec::new();
    for (i, t) in [0, 10, 20, 30, 60, 61, 70].into_iter().enumerate() {
        let out = alarm.receive(problem(&format!("h{i}"), 1, t * SECOND), t * SECOND);
        if !out.is_empty() {
            sent.push(t);
        }
        sent.extend(alarm.tick(t * SECOND).iter().map(|_| -t));
    }
    assert_eq!(sent, [0, 10, 20, 60, 70], "30 and 61 are held back; no summary before 90");
    assert!(alarm.tick(89 * SECOND).is_empty());
    let out = alarm.tick(90 * SECOND);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].notification, Notification::Suppressed { count: 2, since: 30 * SECOND });
    assert!(alarm.tick(500 * SECOND).is_empty(), "one summary");
    assert_eq!(alarm.stats().suppressed, 2);
}

#[test]
fn a_burst_of_a_hundred_sends_three_and_one_summary_of_ninety_seven_at_sixty() {
    let mut alarm = ops(3);
    let mut sent = 0;
    for i in 0..100 {
        sent += alarm.receive(problem(&format!("h{i:03}"), 1, 0), 0).len();
    }
    assert_eq!(sent, 3);
    assert!(alarm.tick(59_999).is_empty());
    let out = alarm.tick(60 * SECOND);
    assert_eq!(
        out.iter().map(|o| o.notification.clone()).collect::<Vec<_>>(),
        [Notification::Suppressed { count: 97, since: 0 }]
    );
}

#[test]
fn the_recovery_of_a_problem_someone_was_told_of_is_never_held_back() {
    let mut alarm = ops(1);
    assert_eq!(hosts(&alarm.receive(problem("a", 1, 0), 0)), ["PROBLEM a"]);
    assert!(alarm.receive(problem("b", 1, 0), 0).is_empty(), "over the limit");
    // Past the limit, and under a silence made since: a's recovery still goes.
    alarm.set_silences(vec![Silence {
        id: 1,
        selectors: vec![Selector { name: "host".into(), equal: true, value: "a".into() }],
        starts: 0,
        ends: 3_600_000,
        comment: "made after the problem was sent".into(),
    }]);
    assert_eq!(hosts(&alarm.receive(recovery("a", 1, SECOND), SECOND)), ["OK a"]);
    // b's problem was held back: no one is told it is over.
    assert!(alarm.receive(recovery("b", 1, SECOND), SECOND).is_empty());
    assert_eq!(
        hosts(&alarm.receive(problem("c", 1, 2 * SECOND), 2 * SECOND)),
        Vec::<String>::new(),
        "the recovery did not take c's room, but a did"
    );
}

#[test]
fn the_same_event_twice_is_sent_once() {
    let mut alarm = ops(10);
    assert_eq!(alarm.receive(problem("a", 1, 0), 0).len(), 1);
    assert!(alarm.receive(problem("a", 1, 0), 5 * SECOND).is_empty(), "a judge's resend");
    let mut reminder = alert("a", 1, 1, Status::Problem, 300 * SECOND);
    reminder.count = 2;
    assert_eq!(alarm.receive(Event::Alert(reminder), 300 * SECOND).len(), 1, "a reminder is another event");
    assert_eq!(alarm.stats().duplicates, 1);
}

#[test]
fn an_alert_that_notifies_no_one_is_not_sent() {
    let mut alarm = ops(10);
    let mut quiet = alert("a", 1, 1, Status::Problem, 0);
    quiet.notify = false;
    assert!(alarm.receive(Event::Alert(quiet), 0).is_empty());
    assert!(alarm.receive(recovery("a", 1, SECOND), SECOND).is_empty(), "nor its recovery");
}

#[test]
fn each_receiver_is_told_of_the_priorities_it_takes_and_low_priorities_come_in_a_digest_a_minute() {
    let mut pager = ReceiverConfig::new("pager");
    pager.max_priority = 1;
    pager.digest_from = 6;
    let mail = ReceiverConfig::new("mail"); // every priority; 3 to 5 in digests
    let mut alarm = Alarm::new(AlarmConfig::new(vec![pager, mail]));
    let out = alarm.receive(problem("a", 0, 0), 0);
    assert_eq!(out.iter().map(|o| o.receiver).collect::<Vec<_>>(), [0, 1], "P0 to both, at once");
    assert!(alarm.receive(problem("b", 2, SECOND), SECOND).iter().all(|o| o.receiver == 1), "P2: mail only");
    for (i, t) in [2, 10, 30].into_iter().enumerate() {
        assert!(alarm.receive(problem(&format!("low{i}"), 4, t * SECOND), t * SECOND).is_empty(), "P4 waits");
    }
    assert!(alarm.tick(61 * SECOND).is_empty(), "a minute after the first low one");
    let out = alarm.tick(62 * SECOND);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].receiver, 1);
    let Notification::Digest { alerts } = &out[0].notification else { panic!("a digest: {out:?}") };
    assert_eq!(alerts.iter().map(|a| a.series.host.as_str()).collect::<Vec<_>>(), ["low0", "low1", "low2"]);
    assert!(alarm.tick(200 * SECOND).is_empty());
    // A recovery of a digested problem goes to mail; one that comes before its digest cancels it.
    assert_eq!(hosts(&alarm.receive(recovery("low1", 4, 201 * SECOND), 201 * SECOND)), ["OK low1"]);
    alarm.receive(problem("flap", 4, 300 * SECOND), 300 * SECOND);
    assert!(alarm.receive(recovery("flap", 4, 310 * SECOND), 310 * SECOND).is_empty());
    assert!(alarm.tick(400 * SECOND).is_empty(), "nothing left to digest");
}

#[test]
fn a_digest_counts_as_one_message_against_the_limit() {
    let mut receiver = ReceiverConfig::new("mail");
    receiver.limit = 1;
    let mut alarm = Alarm::new(AlarmConfig::new(vec![receiver]));
    for i in 0..50 {
        alarm.receive(problem(&format!("h{i}"), 5, 0), 0);
    }
    let out = alarm.tick(60 * SECOND);
    assert!(
        matches!(&out[..], [Outgoing { notification: Notification::Digest { alerts }, .. }] if alerts.len() == 50)
    );
    assert_eq!(
        alarm.receive(problem("now", 1, 61 * SECOND), 61 * SECOND).len(),
        0,
        "the digest used the window's one send"
    );
}

#[test]
fn a_silence_keeps_the_alerts_it_covers_while_it_is_in_force() {
    let mut alarm = ops(100);
    alarm.set_silences(vec![Silence {
        id: 7,
        selectors: vec![
            Selector { name: "metric".into(), equal: true, value: "cpu.busy".into() },
            Selector { name: "host".into(), equal: false, value: "db1".into() },
            Selector { name: "cpu".into(), equal: true, value: "total".into() },
        ],
        starts: 100 * SECOND,
        ends: 200 * SECOND,
        comment: "deploying web".into(),
    }]);
    assert_eq!(alarm.receive(problem("web1", 1, 99 * SECOND), 99 * SECOND).len(), 1, "before it");
    assert!(alarm.receive(problem("web2", 1, 100 * SECOND), 100 * SECOND).is_empty(), "from its start");
    assert_eq!(alarm.receive(problem("db1", 1, 150 * SECOND), 150 * SECOND).len(), 1, "db1 is not covered");
    assert!(alarm.receive(problem("web3", 1, 199 * SECOND), 199 * SECOND).is_empty());
    assert_eq!(
        alarm.receive(problem("web4", 1, 200 * SECOND), 200 * SECOND).len(),
        1,
        "its end is not in it"
    );
    assert_eq!(alarm.stats().silenced, 2);
    let rule = Silence {
        id: 8,
        selectors: vec![Selector { name: "rule".into(), equal: true, value: "1".into() }],
        starts: 0,
        ends: Millis::MAX,
        comment: String::new(),
    };
    assert!(rule.covers(&alert("x", 1, 1, Status::Problem, 0)));
    assert!(!rule.covers(&alert("x", 2, 1, Status::Problem, 0)));
}

#[test]
fn a_maintenance_window_keeps_every_alert_of_its_hosts() {
    let mut alarm = ops(100);
    alarm.set_maintenance(vec![Maintenance {
        id: 1,
        hosts: vec!["web-*".into(), "db1".into()],
        starts: 0,
        ends: 600 * SECOND,
        comment: "rack reboot".into(),
    }]);
    assert!(alarm.receive(problem("web-01", 0, SECOND), SECOND).is_empty());
    assert!(alarm.receive(problem("db1", 0, SECOND), SECOND).is_empty());
    assert_eq!(alarm.receive(problem("db10", 0, SECOND), SECOND).len(), 1);
    assert_eq!(alarm.receive(problem("web-02", 0, 600 * SECOND), 600 * SECOND).len(), 1, "after it");
}

#[test]
fn host_patterns_match_with_stars() {
    let cases = [
        ("web-*", "web-01", true),
        ("web-*", "web-", true),
        ("web-*", "db-01", false),
        ("*-01", "web-01", true),
        ("w*b*1", "web-01", true),
        ("w*b*1", "web-02", false),
        ("*", "", true),
        ("db1", "db10", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("a*bc*bc", "abc", false),
        ("a*bc*bc", "abcbc", true),
        ("a*bc*d", "abcbcd", true),
    ];
    for (pattern, host, expected) in cases {
        assert_eq!(glob_matches(pattern, host), expected, "{pattern} against {host}");
    }
}

#[test]
fn a_pipeline_down_goes_to_every_receiver_past_the_limit() {
    let mut alarm = Alarm::new(AlarmConfig::new(vec![ReceiverConfig::new("a"), ReceiverConfig::new("b")]));
    let out = alarm.receive(Event::PipelineDown { silent: 40, watched: 90, at: 0 }, 0);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.notification == Notification::PipelineDown { silent: 40, watched: 90 }));
}

// ---------------------------------------------------------------------------------------------
// Senders and delivery

fn problem_notification(host: &str) -> Notification {
    Notification::Alert(alert(host, 1, 1, Status::Problem, 1_764_720_120_000))
}

/// Settings that retry at once, for tests.
fn quick(max_tries: u32) -> DispatchSettings {
    DispatchSettings {
        queue: 100,
        backoff_min: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        max_tries,
    }
}

fn outgoing(receiver: usize, host: &str) -> Outgoing {
    Outgoing { receiver, notification: problem_notification(host) }
}

#[test]
fn a_webhook_is_posted_the_notifications_json() {
    let endpoint = FakeEndpoint::start(&[200]);
    let mut webhook =
        WebhookNotifier::new(&format!("http://{}/hook", endpoint.addr), Duration::from_secs(5)).unwrap();
    webhook.send(&problem_notification("web1"), 0).unwrap();
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].line, "POST /hook HTTP/1.1");
    assert_eq!(requests[0].headers.get("content-type").map(String::as_str), Some("application/json"));
    let body: Notification = serde_json::from_slice(&requests[0].body).expect("the notification's JSON");
    assert_eq!(body, problem_notification("web1"));
    let json: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(json["kind"], "alert");
    assert_eq!(json["status"], "PROBLEM");
    assert_eq!(json["series"]["host"], "web1");
    let refused = FakeEndpoint::start(&[500]);
    let mut webhook =
        WebhookNotifier::new(&format!("http://{}/hook", refused.addr), Duration::from_secs(5)).unwrap();
    assert!(webhook.send(&problem_notification("web1"), 0).is_err(), "a 500 is a failure");
    assert!(WebhookNotifier::new("https://example.com/hook", Duration::from_secs(1)).is_err());
}

#[test]
fn a_failed_send_is_tried_again_until_it_goes_and_given_up_after_its_tries() {
    let shutdown = Shutdown::new();
    let flaky = FakeEndpoint::start(&[500, 503, 200]);
    let broken = FakeEndpoint::start(&[500; 50]);
    let notifiers: Vec<Box<dyn Notifier>> = vec![
        Box::new(WebhookNotifier::new(&format!("http://{}/", flaky.addr), Duration::from_secs(5)).unwrap()),
        Box::new(WebhookNotifier::new(&format!("http://{}/", broken.addr), Duration::from_secs(5)).unwrap()),
    ];
    let dispatcher = Dispatcher::start(notifiers, quick(4), &shutdown).unwrap();
    dispatcher.dispatch(vec![outgoing(0, "a"), outgoing(1, "b"), outgoing(1, "c")]);
    testkit::eventually("a delivered, b and c given up", || {
        let stats = dispatcher.stats();
        stats[0].sent == 1 && stats[1].given_up == 2
    });
    let stats = dispatcher.stats();
    assert_eq!((stats[0].failures, stats[0].queued), (2, 0));
    assert_eq!((stats[1].sent, stats[1].failures), (0, 8), "four tries each");
    assert_eq!(flaky.requests().len(), 3, "the same message, three times");
    shutdown.stop();
    dispatcher.join();
}

#[test]
fn a_receiver_that_hangs_holds_up_no_other() {
    let shutdown = Shutdown::new();
    let hanging = FakeEndpoint::start(&[0; 10]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alerts.log");
    let notifiers: Vec<Box<dyn Notifier>> = vec![
        Box::new(
            WebhookNotifier::new(&format!("http://{}/", hanging.addr), Duration::from_secs(30)).unwrap(),
        ),
        Box::new(LogNotifier::new(&log)),
    ];
    let dispatcher = Dispatcher::start(notifiers, quick(10), &shutdown).unwrap();
    let batch: Vec<Outgoing> =
        (0..5).flat_map(|i| [outgoing(0, &format!("h{i}")), outgoing(1, &format!("h{i}"))]).collect();
    dispatcher.dispatch(batch);
    testkit::eventually("every message in the log while the webhook hangs", || {
        dispatcher.stats()[1].sent == 5
    });
    assert_eq!(dispatcher.stats()[0].sent, 0);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["notification"]["series"]["host"], "h0");
    assert!(lines[0]["subject"].as_str().unwrap().starts_with("[PROBLEM P1] h0 cpu.busy"), "{}", lines[0]);
    shutdown.stop();
}

#[test]
fn a_full_queue_drops_its_oldest_message() {
    let shutdown = Shutdown::new();
    let hanging = FakeEndpoint::start(&[0; 10]);
    let notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(
        WebhookNotifier::new(&format!("http://{}/", hanging.addr), Duration::from_secs(30)).unwrap(),
    )];
    let mut settings = quick(10);
    settings.queue = 3;
    let dispatcher = Dispatcher::start(notifiers, settings, &shutdown).unwrap();
    dispatcher.dispatch((0..10).map(|i| outgoing(0, &format!("h{i}"))).collect());
    let stats = &dispatcher.stats()[0];
    assert_eq!((stats.queued, stats.dropped), (3, 7));
    shutdown.stop();
}

/// A local SMTP server that takes every mail and keeps its text.
struct SmtpSink {
    port: u16,
    mails: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let kept = kept.clone();
                thread::spawn(move || smtp_session(stream, &kept));
            }
        });
        SmtpSink { port, mails }
    }
}

fn smtp_session(stream: TcpStream, mails: &Mutex<Vec<String>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let _ = writer.write_all(b"220 sink ESMTP\r\n");
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let command = line.trim_end().to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command == "DATA" {
            let _ = writer.write_all(b"354 go on\r\n");
            let mut mail = String::new();
            loop {
                let mut data = String::new();
                if reader.read_line(&mut data).unwrap_or(0) == 0 || data == ".\r\n" {
                    break;
                }
                mail.push_str(&data);
            }
            mails.lock().unwrap().push(mail);
            b"250 kept\r\n"
        } else if command == "QUIT" {
            let _ = writer.write_all(b"221 bye\r\n");
            return;
        } else {
            b"250 ok\r\n"
        };
        let _ = writer.write_all(answer);
        line.clear();
    }
}

#[test]
fn a_mail_goes_through_an_smtp_server_with_the_alert_in_its_subject_and_body() {
    let sink = SmtpSink::start();
    let to = vec!["ops@example.com".to_owned(), "oncall@example.com".to_owned()];
    let mut smtp =
        SmtpNotifier::new("127.0.0.1", sink.port, "monitor@example.com", &to, Duration::from_secs(5))
            .unwrap();
    smtp.send(&problem_notification("web1"), 0).unwrap();
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.contains("Subject: [PROBLEM P1] web1 cpu.busy{cpu=total}: cpu.busy all(#3) > 90 (95)"),
        "{mail}"
    );
    assert!(mail.contains("To: ops@example.com, oncall@example.com"), "{mail}");
    assert!(mail.contains("rule 1: cpu.busy all(#3) > 90"), "{mail}");
    assert!(
        SmtpNotifier::new("127.0.0.1", sink.port, "not an address", &to, Duration::from_secs(1)).is_err()
    );
    assert!(SmtpNotifier::new("127.0.0.1", sink.port, "a@b.c", &[], Duration::from_secs(1)).is_err());
}

#[test]
fn alertmanager_is_posted_its_v2_alerts_with_labels_and_an_end_for_a_recovery() {
    let endpoint = FakeEndpoint::start(&[200, 200]);
    let mut manager =
        AlertmanagerNotifier::new(&format!("http://{}/", endpoint.addr), Duration::from_secs(5)).unwrap();
    manager.send(&problem_notification("web1"), 1_764_720_130_000).unwrap();
    let mut ok = alert("web1", 1, 1, Status::Ok, 1_764_720_180_000);
    ok.value = 80.0;
    manager.send(&Notification::Alert(ok), 1_764_720_181_000).unwrap();
    manager.send(&Notification::Suppressed { count: 3, since: 0 }, 0).unwrap();
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 2, "a summary is not an alert");
    assert_eq!(requests[0].line, "POST /api/v2/alerts HTTP/1.1");
    let firing: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(firing[0]["labels"]["alertname"], "rule_1");
    assert_eq!(firing[0]["labels"]["host"], "web1");
    assert_eq!(firing[0]["labels"]["metric"], "cpu.busy");
    assert_eq!(firing[0]["labels"]["cpu"], "total");
    assert_eq!(firing[0]["labels"]["priority"], "P1");
    assert_eq!(firing[0]["startsAt"], "2025-12-03T00:02:00.000Z");
    assert!(firing[0].get("endsAt").is_none());
    let resolved: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(resolved[0]["endsAt"], "2025-12-03T00:03:01.000Z");
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
    // Centuries: 2100 is not a leap year, 2400 is, and 1900 was not.
    assert_eq!(rfc3339(4_107_456_000_000), "2100-02-28T00:00:00.000Z");
    assert_eq!(rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    assert_eq!(rfc3339(13_574_608_496_000), "2400-02-29T12:34:56.000Z");
    assert_eq!(rfc3339(-2_203_891_200_000), "1900-03-01T00:00:00.000Z");
}

#[test]
fn the_running_alarm_takes_the_judges_events_and_its_clock_sends_the_summary() {
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alerts.log");
    let mut receiver = ReceiverConfig::new("log");
    receiver.limit = 2;
    let mut config = AlarmConfig::new(vec![receiver]);
    config.window = Duration::from_millis(300);
    let server =
        start_alarm(config, vec![Box::new(LogNotifier::new(&log))], quick(3), None, &shutdown).unwrap();
    let sink = server.core();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis;
    let events: Vec<Event> = (0..5).map(|i| problem(&format!("h{i}"), 1, now)).collect();
    sink.deliver(&events);
    let lines =
        || std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>();
    testkit::eventually("two alerts and a summary of three", || lines().len() == 3);
    assert!(lines()[2].contains("\"count\":3"), "{:?}", lines());
    assert_eq!(sink.stats().suppressed, 3);
    shutdown.stop();
    server.join();
}

// ---------------------------------------------------------------------------------------------
// Configuration, and events across processes

#[test]
fn an_alarm_configuration_names_each_receivers_limits_and_sender() {
    let text = r#"
        window = 30
        digest_every = 120

        [[receiver]]
        name = "oncall"
        max_priority = 1
        limit = 5
        digest_from = 6
        webhook = "http://127.0.0.1:8080/hooks/alerts"

        [[receiver]]
        name = "mail"
        smtp = { server = "127.0.0.1:25", from = "monitor@example.com", to = ["ops@example.com"] }

        [[receiver]]
        name = "archive"
        log = "/var/log/monitor/alerts.log"

        [[receiver]]
        name = "manager"
        alertmanager = "http://127.0.0.1:9093"
    "#;
    let (config, notifiers) = parse_alarm(text).unwrap();
    assert_eq!(config.window, Duration::from_secs(30));
    assert_eq!(config.digest_every, Duration::from_secs(120));
    let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["oncall", "mail", "archive", "manager"]);
    assert_eq!(
        (config.receivers[0].max_priority, config.receivers[0].limit, config.receivers[0].digest_from),
        (1, 5, 6)
    );
    assert_eq!(config.receivers[1], ReceiverConfig::new("mail"), "the defaults");
    let (defaults, _) = parse_alarm("[[receiver]]\nname = \"a\"\nlog = \"x\"\n").unwrap();
    assert_eq!((defaults.window, defaults.digest_every), (Duration::from_secs(60), Duration::from_secs(60)));
    let senders: Vec<String> = notifiers.iter().map(|n| n.describe()).collect();
    assert!(senders[0].starts_with("webhook") && senders[1].starts_with("smtp"), "{senders:?}");
    assert!(senders[2].starts_with("log") && senders[3].starts_with("alertmanager"), "{senders:?}");
}

#[test]
fn a_bad_alarm_configuration_names_the_receiver_and_the_field() {
    let cases = [
        (
            "[[receiver]]\nname = \"a\"\n",
            "receiver \"a\": log, webhook, smtp, alertmanager: needs exactly one, has 0",
        ),
        ("[[receiver]]\nname = \"a\"\nlog = \"x\"\nwebhook = \"http://h:1/\"\n", "needs exactly one, has 2"),
        ("[[receiver]]\nname = \"a\"\nwebhook = \"https://h/\"\n", "receiver \"a\": webhook:"),
        (
            "[[receiver]]\nname = \"a\"\nlog = \"x\"\n[[receiver]]\nname = \"a\"\nlog = \"y\"\n",
            "receiver \"a\": name: used twice",
        ),
        (
            "[[receiver]]\nname = \"m\"\nsmtp = { server = \"localhost\", from = \"a@b.c\", to = [\"d@e.f\"] }\n",
            "receiver \"m\": smtp.server:",
        ),
        (
            "[[receiver]]\nname = \"m\"\nsmtp = { server = \"h:25\", from = \"nobody\", to = [\"d@e.f\"] }\n",
            "receiver \"m\": smtp: from",
        ),
        ("[[receiver]]\nname = \"a\"\nlog = \"x\"\ncolour = \"red\"\n", "colour"),
        ("window = 0\n", "window"),
    ];
    for (text, expected) in cases {
        let err = parse_alarm(text).map(|_| ()).unwrap_err();
        assert!(err.contains(expected), "{text:?}: {err:?} should contain {expected:?}");
    }
}

#[test]
fn the_intake_takes_a_json_array_of_events_and_refuses_a_bad_body_with_400() {
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let server = start_alarm(
        AlarmConfig::new(vec![ReceiverConfig::new("log")]),
        vec![Box::new(LogNotifier::new(&dir.path().join("a.log")))],
        quick(3),
        None,
        &shutdown,
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let post = |body: &str| {
        let request = axum::http::Request::post("/api/v1/events")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap();
        runtime.block_on(async {
            let response = tower::ServiceExt::oneshot(intake_router(server.core()), request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap())
        })
    };
    let events = serde_json::to_string(&[problem("a", 1, 0), problem("b", 1, 0)]).unwrap();
    let (status, body) = post(&events);
    assert_eq!((status, body["data"]["taken"].as_u64()), (200, Some(2)));
    assert_eq!(server.core().stats().events, 2);
    let (status, body) = post(r#"[{"event":"alert","rule":1}]"#);
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().starts_with("events: "), "{body}");
    shutdown.stop();
    server.join();
}

#[test]
fn a_judge_posts_its_events_to_a_remote_alarm_in_order_until_it_takes_them() {
    let shutdown = Shutdown::new();
    let alarm = FakeEndpoint::start(&[503, 500, 200, 200]);
    let remote = RemoteAlarm::start(&format!("http://{}", alarm.addr), &shutdown).unwrap();
    remote.deliver(&[problem("a", 1, 0), problem("b", 1, 0)]);
    testkit::eventually("the events taken", || alarm.requests().len() >= 3);
    remote.deliver(&[problem("c", 1, 0)]);
    testkit::eventually("the next event taken", || alarm.requests().len() == 4);
    let requests = alarm.requests();
    assert!(requests.iter().all(|r| r.line == "POST /api/v1/events HTTP/1.1"));
    let bodies: Vec<Vec<Event>> = requests.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(bodies[0], bodies[2], "the same events again after a failure");
    assert_eq!(bodies[2].len(), 2);
    assert_eq!(bodies[3], [problem("c", 1, 0)], "then only what is new");
    shutdown.stop();
    remote.join();
}

// ---------------------------------------------------------------------------------------------
// Restarts

/// An alarm journaled in `dir` with a log receiver and a webhook receiver, no digest.
fn journaled(
    dir: &std::path::Path,
    webhook: &FakeEndpoint,
    shutdown: &Shutdown,
) -> monitor::alarm::AlarmServer {
    let mut log = ReceiverConfig::new("log");
    log.digest_from = 6;
    let mut hook = ReceiverConfig::new("hook");
    hook.digest_from = 6;
    let notifiers: Vec<Box<dyn Notifier>> = vec![
        Box::new(LogNotifier::new(&dir.join("alerts.log"))),
        Box::new(WebhookNotifier::new(&format!("http://{}/", webhook.addr), Duration::from_secs(1)).unwrap()),
    ];
    let journal = dir.join("alarm.journal");
    start_alarm(AlarmConfig::new(vec![log, hook]), notifiers, quick(1000), Some(&journal), shutdown).unwrap()
}

fn log_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("alerts.log")).unwrap_or_default();
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn posted(endpoint: &FakeEndpoint) -> Vec<String> {
    endpoint
        .requests()
        .iter()
        .map(|r| {
            let notification: Notification = serde_json::from_slice(&r.body).unwrap();
            match notification {
                Notification::Alert(alert) => format!("{} {}", alert.status.as_str(), alert.series.host),
                other => other.subject(),
            }
        })
        .collect()
}

#[test]
fn a_restarted_alarm_sends_what_it_had_not_delivered_once_and_keeps_what_it_told_whom() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis;
    // First run: the log takes both problems; the webhook hangs, so it takes neither.
    let hanging = FakeEndpoint::start(&[0; 10]);
    {
        let shutdown = Shutdown::new();
        let server = journaled(dir.path(), &hanging, &shutdown);
        server.core().deliver(&[problem("a", 1, now), problem("b", 1, now)]);
        testkit::eventually("both problems in the log", || log_lines(dir.path()).len() == 2);
        shutdown.stop();
        server.join();
    }
    // Second run: the webhook works. It gets the two problems it never had, and the log nothing again.
    let working = FakeEndpoint::start(&[]);
    let shutdown = Shutdown::new();
    let server = journaled(dir.path(), &working, &shutdown);
    testkit::eventually("the undelivered problems sent", || posted(&working).len() == 2);
    assert_eq!(posted(&working), ["PROBLEM a", "PROBLEM b"]);
    // The same event again is still a duplicate; a's recovery goes to both, as both were told of it.
    let sink = server.core();
    sink.deliver(&[problem("a", 1, now)]);
    sink.deliver(&[recovery("a", 1, now + 60_000)]);
    testkit::eventually("the recovery at both", || {
        posted(&working).len() == 3 && log_lines(dir.path()).len() == 3
    });
    assert_eq!(posted(&working)[2], "OK a");
    assert_eq!(log_lines(dir.path())[2]["notification"]["status"], "OK");
    assert_eq!(log_lines(dir.path()).len(), 3, "nothing sent twice to the log");
    shutdown.stop();
    server.join();
}

#[test]
fn a_journal_torn_by_a_crash_is_cut_at_its_last_whole_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alarm.journal");
    let (mut journal, entries) = Journal::open(&path).unwrap();
    assert!(entries.is_empty());
    let written =
        [Entry::Event { at: 5, event: problem("a", 1, 5) }, Entry::Tick { at: 6 }, Entry::Done { seq: 0 }];
    journal.append(&written, true).unwrap();
    drop(journal);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"done\":{\"se");
    std::fs::write(&path, &bytes).unwrap();
    let (mut journal, entries) = Journal::open(&path).unwrap();
    assert_eq!(entries, written);
    journal.append(&[Entry::Done { seq: 1 }], true).unwrap();
    drop(journal);
    let (_, entries) = Journal::open(&path).unwrap();
    assert_eq!(entries.len(), 4, "the torn line is gone, the new one after the last whole one");
}

// ---------------------------------------------------------------------------------------------
// Counters, texts and accessors

#[test]
fn the_alarm_counts_what_it_did_with_every_event() {
    let mut receiver = ReceiverConfig::new("mail");
    receiver.limit = 1;
    let mut alarm = Alarm::new(AlarmConfig::new(vec![receiver]));
    alarm.set_silences(vec![Silence {
        id: 1,
        selectors: vec![Selector { name: "host".into(), equal: true, value: "quiet".into() }],
        starts: 0,
        ends: Millis::MAX,
        comment: String::new(),
    }]);
    assert_eq!(alarm.silences().len(), 1);
    let s = SECOND;
    for host in ["x", "y", "z"] {
        assert!(alarm.receive(problem(host, 4, 35 * s), 35 * s).is_empty(), "digested");
    }
    assert_eq!(alarm.receive(problem("a", 1, 36 * s), 36 * s).len(), 1);
    assert!(alarm.receive(problem("a", 1, 36 * s), 37 * s).is_empty(), "a duplicate");
    assert!(alarm.receive(problem("b", 1, 38 * s), 38 * s).is_empty(), "over the limit");
    assert!(alarm.receive(problem("quiet", 1, 39 * s), 39 * s).is_empty(), "silenced");
    let mut untold = alert("c", 1, 1, Status::Problem, 40 * s);
    untold.notify = false;
    assert!(alarm.receive(Event::Alert(untold), 40 * s).is_empty(), "notifies no one");
    assert!(alarm.receive(recovery("b", 1, 41 * s), 41 * s).is_empty(), "no one was told of b");
    assert_eq!(alarm.receive(recovery("a", 1, 42 * s), 42 * s).len(), 1);
    // At 95 s the digest is due, and held back: a's send at 36 s is in the window (35, 95].
    assert!(alarm.tick(95 * s).is_empty());
    let out = alarm.tick(98 * s);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].notification,
        Notification::Suppressed { count: 4, since: 38 * s },
        "b, and the digest's three"
    );
    assert!(alarm.tick(200 * s).is_empty());
    assert_eq!(alarm.receive(Event::PipelineDown { silent: 5, watched: 9, at: 0 }, 201 * s).len(), 1);
    let stats = alarm.stats();
    assert_eq!(
        (stats.events, stats.duplicates, stats.quiet, stats.silenced, stats.suppressed, stats.sent),
        (11, 1, 2, 1, 4, 4),
        "{stats:?}"
    );
}

#[test]
fn an_event_is_remembered_for_the_dedup_window_and_then_forgotten() {
    let mut config = AlarmConfig::new(vec![ReceiverConfig::new("ops")]);
    config.receivers[0].digest_from = 6;
    config.dedup_for = Duration::from_secs(3600);
    let mut alarm = Alarm::new(config);
    assert_eq!(alarm.receive(problem("a", 1, 0), 0).len(), 1);
    assert!(alarm.receive(problem("a", 1, 0), 3_600_000).is_empty(), "an hour later: still the same event");
    assert_eq!(alarm.receive(problem("a", 1, 0), 3_600_001).len(), 1, "past the hour: forgotten");
}

#[test]
fn a_digest_says_what_it_holds_and_only_a_recovery_is_one() {
    let ok = alert("b", 1, 4, Status::Ok, 0);
    let digest = Notification::Digest {
        alerts: vec![alert("a", 1, 4, Status::Problem, 0), ok.clone(), alert("c", 2, 5, Status::NoData, 0)],
    };
    assert_eq!(digest.subject(), "[DIGEST] 3 alerts, 2 of them problems");
    let body = digest.body();
    for line in
        ["PROBLEM P4 a cpu.busy{cpu=total}", "OK P4 b cpu.busy{cpu=total}", "NODATA P5 c cpu.busy{cpu=total}"]
    {
        assert!(body.contains(line), "{body}");
    }
    assert!(Notification::Alert(ok).is_recovery());
    assert!(!problem_notification("a").is_recovery());
    assert!(!digest.is_recovery());
    assert!(Notification::Suppressed { count: 2, since: 0 }.body().starts_with("[SUPPRESSED] 2 alerts"));
    assert_eq!(SlidingLimit::new(3, 60_000).max(), 3);
}

#[test]
fn the_running_alarm_reports_each_receivers_deliveries() {
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alerts.log");
    let endpoint = FakeEndpoint::start(&[]);
    let mut hook = ReceiverConfig::new("hook");
    hook.digest_from = 6;
    let mut archive = ReceiverConfig::new("archive");
    archive.digest_from = 6;
    let notifiers: Vec<Box<dyn Notifier>> = vec![
        Box::new(
            WebhookNotifier::new(&format!("http://{}/alerts", endpoint.addr), Duration::from_secs(5))
                .unwrap(),
        ),
        Box::new(LogNotifier::new(&log)),
    ];
    let server =
        start_alarm(AlarmConfig::new(vec![hook, archive]), notifiers, quick(3), None, &shutdown).unwrap();
    server.core().deliver(&[problem("a", 1, 0), problem("b", 1, 0)]);
    testkit::eventually("both delivered to both", || server.core().deliveries().iter().all(|d| d.sent == 2));
    let deliveries = server.core().deliveries();
    assert_eq!(deliveries[0].receiver, format!("webhook http://{}/alerts", endpoint.addr));
    assert_eq!(deliveries[1].receiver, format!("log {}", log.display()));
    assert!(deliveries.iter().all(|d| d.failures == 0 && d.queued == 0 && d.dropped == 0));
    shutdown.stop();
    server.join();
}
