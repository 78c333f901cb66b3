//! Stage 5: availability. Two servers share the records and the data directory; a lease says
//! which leads (a lock file on one machine, a key in etcd across machines), each leadership has a
//! greater fencing token, the records refuse the writes of a leader that was deposed, and a
//! standby takes over, on the same addresses, within seconds of the leader's death.
//!
//! etcd's tests run on a stand-in for its JSON gateway, always, and on a real etcd too when
//! `PLATFORM_ETCD_URL` names one (`HOST:PORT`; CI starts Debian's `etcd-server`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use common::etcd::{etcds, fresh_key, revoke_lease_of, stand_in};
use common::servers::{Addresses, AgentProcess, Remote, ServerProcess, records_path, status_of};
use platform::availability::{Attempt, Leadership, LeaseConfig, try_lead};
use platform::records::{RecordError, Records, RuleRecord};
use platform::releases::{PackFile, pack_files};
use proptest::prelude::*;
use serde_json::{Value, json};
use testkit::test;

/// The leadership `attempt` won, or a failure naming who holds the lease.
fn led(attempt: Attempt) -> Leadership {
    match attempt {
        Attempt::Led(leadership) => leadership,
        Attempt::Held(holder) => panic!("the lease is held by {holder:?}"),
    }
}

/// Who holds the lease, or a failure when `attempt` won it.
fn held(attempt: Attempt) -> String {
    match attempt {
        Attempt::Held(holder) => holder,
        Attempt::Led(leadership) => panic!("won a lease another holds: {leadership:?}"),
    }
}

#[test]
fn a_lease_is_a_lock_file_or_a_key_in_etcd() {
    let dir = std::path::Path::new("data");
    assert_eq!(
        LeaseConfig::parse("embedded", dir).unwrap(),
        LeaseConfig::Embedded { path: dir.join("leader.lock") }
    );
    assert_eq!(
        LeaseConfig::parse("etcd://127.0.0.1:2379", dir).unwrap(),
        LeaseConfig::Etcd {
            endpoint: "127.0.0.1:2379".into(),
            key: "/platform/leader".into(),
            ttl: Duration::from_secs(2)
        }
    );
    assert_eq!(
        LeaseConfig::parse("etcd://etcd.internal:2379/prod/leader?ttl=5", dir).unwrap(),
        LeaseConfig::Etcd {
            endpoint: "etcd.internal:2379".into(),
            key: "/prod/leader".into(),
            ttl: Duration::from_secs(5)
        }
    );
    assert_eq!(
        LeaseConfig::parse("etcd://[::1]:2379/a", dir).unwrap(),
        LeaseConfig::Etcd { endpoint: "[::1]:2379".into(), key: "/a".into(), ttl: Duration::from_secs(2) },
        "the shortest key"
    );
    for bad in [
        "",
        "zookeeper://h:2181",
        "etcd://",
        "etcd://h",
        "etcd://h:0",
        "etcd://h:port",
        "etcd://:2379",
        "etcd://h:2379?ttl=0",
        "etcd://h:2379?ttl=soon",
        "etcd://h:2379/",
    ] {
        assert!(LeaseConfig::parse(bad, dir).is_err(), "{bad:?} was taken");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_a_lease_or_a_refusal_never_a_panic(text in "(etcd://)?[a-z0-9:/?=.@ \\[\\]-]{0,40}") {
        let _ = LeaseConfig::parse(&text, std::path::Path::new("data"));
    }

    #[test]
    fn an_etcd_lease_written_out_is_parsed_back_as_it_was(
        host in "[a-z][a-z0-9-]{0,12}(\\.[a-z][a-z0-9-]{0,8}){0,2}",
        port in 1u16..,
        key in proptest::option::of("(/[A-Za-z0-9_.-]{1,10}){1,3}"),
        ttl in proptest::option::of(1u64..=3600),
    ) {
        let mut text = format!("etcd://{host}:{port}");
        if let Some(key) = &key {
            text.push_str(key);
        }
        if let Some(ttl) = ttl {
            text.push_str(&format!("?ttl={ttl}"));
        }
        let parsed = LeaseConfig::parse(&text, std::path::Path::new("data"));
        let expected = LeaseConfig::Etcd {
            endpoint: format!("{host}:{port}"),
            key: key.unwrap_or_else(|| "/platform/leader".into()),
            ttl: Duration::from_secs(ttl.unwrap_or(2)),
        };
        prop_assert_eq!(parsed, Ok(expected), "{}", text);
    }
}

#[test(tokio)]
async fn a_lock_file_has_one_holder_and_each_new_holder_a_greater_token() {
    let dir = testkit::scratch_dir();
    let lease = LeaseConfig::Embedded { path: dir.path().join("data").join("leader.lock") };
    let a = led(try_lead(&lease, "a").await.unwrap());
    assert_eq!(held(try_lead(&lease, "b").await.unwrap()), "a", "a second holder while a holds it");
    assert_eq!(held(try_lead(&lease, "b").await.unwrap()), "a", "asking again changes nothing");
    assert!(!a.lost().is_cancelled(), "a lock file's lease is lost only with its process");
    let first = a.token;
    a.resign().await;
    let b = led(try_lead(&lease, "b").await.unwrap());
    assert!(b.token > first, "b's token {} is not greater than a's {first}", b.token);
    assert_eq!(held(try_lead(&lease, "a").await.unwrap()), "b");
    let second = b.token;
    // Dropped without a word, as a process that dies lets it go.
    drop(b);
    let c = led(try_lead(&lease, "c").await.unwrap());
    assert!(c.token > second, "c's token {} is not greater than b's {second}", c.token);
}

#[test(tokio)]
async fn a_key_in_etcd_has_one_holder_and_its_create_revision_is_the_token() {
    for etcd in etcds().await {
        let key = fresh_key("one-holder");
        let lease = LeaseConfig::Etcd { endpoint: etcd.endpoint.clone(), key, ttl: Duration::from_secs(5) };
        let a = led(try_lead(&lease, "a").await.unwrap());
        assert_eq!(held(try_lead(&lease, "b").await.unwrap()), "a", "{}: a second holder", etcd.name);
        assert!(!a.lost().is_cancelled(), "{}: lost at once", etcd.name);
        let first = a.token;
        // A leader that stops gives the lease up: the next need not wait out its time to live.
        a.resign().await;
        let b = led(try_lead(&lease, "b").await.unwrap());
        assert!(b.token > first, "{}: b's token {} is not greater than a's {first}", etcd.name, b.token);
        assert_eq!(held(try_lead(&lease, "c").await.unwrap()), "b", "{}", etcd.name);
        b.resign().await;
    }
}

#[test(tokio)]
async fn a_leader_keeps_its_etcd_lease_past_its_time_to_live() {
    for etcd in etcds().await {
        let key = fresh_key("kept");
        let lease = LeaseConfig::Etcd { endpoint: etcd.endpoint.clone(), key, ttl: Duration::from_secs(1) };
        let a = led(try_lead(&lease, "a").await.unwrap());
        // Two and a half times its time to live: only renewals keep it.
        let lost = tokio::time::timeout(Duration::from_millis(2_500), a.lost().cancelled()).await;
        assert!(lost.is_err(), "{}: a leader whose renewals succeed stepped down", etcd.name);
        assert_eq!(held(try_lead(&lease, "b").await.unwrap()), "a", "{}: the lease ran out", etcd.name);
        a.resign().await;
    }
}

#[test(tokio)]
async fn a_leader_cut_off_from_etcd_steps_down_before_its_lease_can_end() {
    // Only the stand-in can be stopped under a leader.
    let etcd = stand_in().await;
    let ttl = Duration::from_secs(3);
    let lease = LeaseConfig::Etcd { endpoint: etcd.endpoint.clone(), key: fresh_key("cut-off"), ttl };
    let a = led(try_lead(&lease, "a").await.unwrap());
    // Renewed a few times first, so the lease's end counts from a renewal, not from the grant.
    let early = tokio::time::timeout(Duration::from_millis(2_500), a.lost().cancelled()).await;
    assert!(early.is_err(), "a leader whose renewals succeed stepped down");
    let cut = std::time::Instant::now();
    drop(etcd);
    // etcd may end the lease a time to live after the last renewal it took, which came before the
    // cut: the leader must know before then, or two could lead.
    let lost = tokio::time::timeout(ttl, a.lost().cancelled()).await;
    assert!(lost.is_ok(), "a leader cut off from etcd still leads {ttl:?} later, when its lease may be gone");
    assert!(cut.elapsed() < ttl);
}

#[test(tokio)]
async fn a_leader_whose_etcd_lease_is_gone_is_told_and_another_leads() {
    for etcd in etcds().await {
        let key = fresh_key("lost");
        let lease = LeaseConfig::Etcd {
            endpoint: etcd.endpoint.clone(),
            key: key.clone(),
            ttl: Duration::from_secs(3),
        };
        let a = led(try_lead(&lease, "a").await.unwrap());
        // What etcd does when a leader stops renewing: the lease and its key are gone.
        assert!(revoke_lease_of(&etcd.endpoint, &key).await, "{}: no lease on the key", etcd.name);
        let lost = a.lost();
        testkit::tokio::within(&format!("{}: a told its leadership is lost", etcd.name), lost.cancelled())
            .await;
        let b = led(try_lead(&lease, "b").await.unwrap());
        assert!(
            b.token > a.token,
            "{}: b's token {} is not greater than a's {}",
            etcd.name,
            b.token,
            a.token
        );
        b.resign().await;
    }
}

#[test(tokio)]
async fn the_records_refuse_every_write_of_a_deposed_leader() {
    for db in common::databases().await {
        let name = db.name;
        let tags = BTreeMap::from([("dc".to_string(), "bj".to_string())]);
        let a = db.records.lead(1, "a", 1_000).await.unwrap();
        assert_eq!(a.fence(), Some(1));
        a.add_host("web1", &tags, 1_000)
            .await
            .unwrap_or_else(|err| panic!("{name}: the leader's write: {err}"));
        let leader = db.records.leader().await.unwrap().unwrap();
        assert_eq!((leader.token, leader.holder.as_str()), (1, "a"), "{name}");

        let b = db.records.lead(2, "b", 2_000).await.unwrap();
        assert_eq!(b.fence(), Some(2), "{name}: the new leader's fence");
        let fenced = |what: &str, result: Result<(), RecordError>| match result {
            Err(RecordError::Fenced { token: 1, current: 2 }) => {}
            other => panic!("{name}: a deposed leader's {what}: {other:?}"),
        };
        fenced("new host", a.add_host("web2", &tags, 2_100).await.map(|_| ()));
        fenced("host removed", a.remove_host("web1").await);
        let rule = RuleRecord { id: 1, expr: "cpu > 90".into(), priority: 2, note: String::new() };
        fenced("rule", a.put_rule(&rule).await);
        fenced("user", a.delete_role("viewer").await);
        fenced("sessions swept", a.delete_expired_sessions(9_999).await.map(|_| ()));
        assert_eq!(db.records.hosts().await.unwrap().len(), 1, "{name}: a deposed leader's host was written");

        b.add_host("web2", &tags, 2_200)
            .await
            .unwrap_or_else(|err| panic!("{name}: the new leader's write: {err}"));
        b.put_rule(&rule).await.unwrap();
        assert!(
            matches!(db.records.lead(1, "a", 3_000).await, Err(RecordError::Fenced { token: 1, current: 2 })),
            "{name}: a deposed leader led again with its old token"
        );
        assert!(db.records.lead(0, "z", 3_000).await.is_err(), "{name}: a token of 0");
        let leader = db.records.leader().await.unwrap().unwrap();
        assert_eq!((leader.token, leader.holder.as_str(), leader.since), (2, "b", 2_000), "{name}");
        // Leading again with the token the fence holds (b's records opened again) is allowed.
        let again = db.records.lead(2, "b", 4_000).await.unwrap();
        again.remove_host("web1").await.unwrap();
    }
}

/// Two servers sharing `dir` and `addresses` with `lease`: a leads, b stands by; a is killed and
/// b must serve on the same addresses within five seconds. Returns how long that took.
async fn kill_the_leader(dir: &std::path::Path, lease: &str) -> Duration {
    let addresses = Addresses::free();
    let mut a = ServerProcess::spawn("a", dir, &addresses, lease);
    a.line("platform on", Duration::from_secs(30)).await;
    let mut b = ServerProcess::spawn("b", dir, &addresses, lease);
    assert_eq!(
        b.line("standing by", Duration::from_secs(30)).await,
        "standing by: a leads; b takes over when it stops"
    );
    assert_eq!(status_of(addresses.http, "/api/me").await, Some(401), "a serves the API");
    let a_token: i64 = a.line("a leads", Duration::ZERO).await.rsplit(' ').next().unwrap().parse().unwrap();

    let killed = std::time::Instant::now();
    a.kill();
    b.line("platform on", Duration::from_secs(5)).await;
    let mut status = None;
    while killed.elapsed() < Duration::from_secs(5) && status != Some(401) {
        status = status_of(addresses.http, "/api/me").await;
        if status != Some(401) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let took = killed.elapsed();
    assert_eq!(status, Some(401), "b does not serve the API on a's address 5 s after a died");
    let b_token: i64 = b.line("b leads", Duration::ZERO).await.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(b_token > a_token, "b's token {b_token} is not greater than a's {a_token}");
    let records = Records::open(&format!("sqlite://{}", records_path(dir).display())).await.unwrap();
    let leader = records.leader().await.unwrap().expect("no leader recorded");
    assert_eq!((leader.holder.as_str(), leader.token), ("b", b_token), "the records' fence");
    assert_eq!(b.ended(), None, "b stopped");
    took
}

#[test(tokio)]
async fn a_standby_on_a_lock_file_serves_within_seconds_of_the_leaders_death() {
    let dir = testkit::scratch_dir();
    let took = kill_the_leader(dir.path(), "embedded").await;
    eprintln!("lock file: the standby served {took:?} after the leader was killed");
}

#[test(tokio)]
async fn a_standby_on_etcd_serves_within_seconds_of_the_leaders_death() {
    for etcd in etcds().await {
        let dir = testkit::scratch_dir();
        let lease = format!("etcd://{}{}?ttl=1", etcd.endpoint, fresh_key("failover"));
        let took = kill_the_leader(dir.path(), &lease).await;
        eprintln!("{}: the standby served {took:?} after the leader was killed", etcd.name);
    }
}

/// Two servers on the lock file's lease in `dir`: `a` leading, `b` standing by.
struct Pair {
    addresses: Addresses,
    printed: common::servers::Printed,
    a: ServerProcess,
    b: ServerProcess,
}

impl Pair {
    async fn start(dir: &std::path::Path) -> Pair {
        let addresses = Addresses::free();
        let mut a = ServerProcess::spawn("a", dir, &addresses, "embedded");
        let printed = a.printed().await;
        let mut b = ServerProcess::spawn("b", dir, &addresses, "embedded");
        b.line("standing by", Duration::from_secs(30)).await;
        Pair { addresses, printed, a, b }
    }
}

/// The hello service at `version`: each hook writes what it did to `events` in the host's
/// directory (four levels above the version's files), and the start takes a moment, so that a
/// leader killed during a batch is killed while hosts are deploying.
fn hello(version: &str) -> Vec<u8> {
    let head = format!(
        "name = \"hello\"\nversion = \"{version}\"\nhook_timeout_secs = 10\nhealthy_within_secs = 0\n\n\
         [hooks]\nstart = \"bin/start\"\nstop = \"bin/stop\"\nstatus = \"bin/status\"\n"
    );
    let hook = |name: &str, extra: &str| {
        let script = format!(
            "#!/bin/sh\nroot=../../../..\necho \"{name} $RELEASE_VERSION\" >> $root/events\n{extra}\nexit 0\n"
        );
        PackFile::new(&format!("bin/{name}"), script, true)
    };
    pack_files(&head, &[hook("start", "sleep 0.3"), hook("stop", ""), hook("status", "")])
}

/// Rollout `id` as `remote` sees it, once `done` says it is what the test waits for.
async fn deployment_when(remote: &Remote, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let (status, body) = remote.get(&format!("/api/deployments/{id}")).await;
        if status == 200 && done(&body["data"]) {
            return body["data"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no {what} within 45 s: {status} {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test(tokio)]
async fn a_rollout_resumes_on_the_new_leader_and_no_host_deploys_twice() {
    let dir = testkit::scratch_dir();
    let Pair { addresses, printed, mut a, mut b } = Pair::start(dir.path()).await;
    let hosts: Vec<AgentProcess> =
        (1..=6).map(|n| AgentProcess::spawn(&format!("web-{n}"), dir.path(), &addresses, &printed)).collect();
    let admin = Remote::login(addresses.http, "admin", &printed.password).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while admin.get("/api/hosts").await.1["data"]["connected"] != json!(6) {
        assert!(tokio::time::Instant::now() < deadline, "the six hosts did not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let package = base64::engine::general_purpose::STANDARD.encode(hello("1.0"));
    let (status, body) = admin.post("/api/releases", json!({ "package": package })).await;
    assert!(status == 200 || status == 201, "upload: {status} {body}");
    let start = json!({ "target": "web-*", "canary": 1, "batch": 1, "bake_secs": 0 });
    let (status, body) = admin.post("/api/releases/hello/1.0/deployments", start).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_i64().unwrap();

    // Killed while the third batch's host is deploying: its run was sent by a's master.
    let deploying_third = |data: &Value| {
        data["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|host| host["batch"] == json!(2) && host["state"] == "deploying")
    };
    deployment_when(&admin, id, "third batch deploying", deploying_third).await;
    a.kill();
    b.line("platform on", Duration::from_secs(5)).await;

    let ended = |data: &Value| !matches!(data["deployment"]["state"].as_str(), Some("running" | "paused"));
    let data = deployment_when(&admin, id, "the rollout's end on b", ended).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    for host in data["hosts"].as_array().unwrap() {
        assert_eq!(host["state"], "done", "{host}");
    }
    for host in &hosts {
        let starts = host.events().iter().filter(|event| *event == "start 1.0").count();
        assert_eq!(starts, 1, "{}: started {starts} times: {:?}", host.id, host.events());
        assert_eq!(host.current("hello").as_deref(), Some("1.0"), "{}", host.id);
    }
}

/// `host`'s `cpu.busy` at 99, a second ago.
fn hot(host: &str) -> monitor::Point {
    monitor::Point {
        host: host.into(),
        metric: "cpu.busy".into(),
        tags: Default::default(),
        timestamp: platform::now_millis() - 1_000,
        value: 99.0,
        kind: monitor::Kind::Gauge,
    }
}

/// Sends `points` to the relay at `relay` as lab 08's agents do, spooling them while it cannot be
/// reached, until every one was taken.
async fn send_until_taken(
    relay: std::net::SocketAddr,
    spool: std::path::PathBuf,
    points: Vec<monitor::Point>,
) {
    tokio::task::spawn_blocking(move || {
        let spool = monitor::wire::Spool::open(&spool, 16 << 20).unwrap();
        let mut sender = monitor::wire::Sender::new(monitor::wire::SenderConfig::new(vec![relay]), spool);
        sender.send(points).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while sender.stats().spooled > 0 {
            assert!(std::time::Instant::now() < deadline, "the relay did not take the points in 30 s");
            std::thread::sleep(Duration::from_millis(50));
            sender.send(Vec::new()).unwrap();
        }
    })
    .await
    .unwrap();
}

#[test(tokio)]
async fn alerts_fired_across_a_failover_are_each_written_once() {
    let dir = testkit::scratch_dir();
    let Pair { addresses, printed, mut a, mut b } = Pair::start(dir.path()).await;
    let admin = Remote::login(addresses.http, "admin", &printed.password).await;
    let rule = json!({ "id": 1, "expr": "cpu.busy all(#1) > 90", "priority": 0 });
    let (status, body) = admin.post("/api/rules", rule).await;
    assert_eq!(status, 201, "{body}");

    // A storm: sixty hosts hot at once, the first thirty judged by a, which is killed while its
    // alarm writes their messages; the other thirty reach b, their agent's points held meanwhile.
    let hosts: Vec<String> = (1..=60).map(|n| format!("storm-{n:02}")).collect();
    let first = hosts[..30].iter().map(|host| hot(host)).collect();
    send_until_taken(addresses.relay, dir.path().join("spool-1"), first).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, alerts) = admin.get("/api/alerts").await;
        if alerts["data"].as_array().is_some_and(|alerts| alerts.len() == 30) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "a did not judge the first thirty: {alerts}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.kill();
    let rest = hosts[30..].iter().map(|host| hot(host)).collect();
    send_until_taken(addresses.relay, dir.path().join("spool-2"), rest).await;
    b.line("platform on", Duration::from_secs(5)).await;

    let log = dir.path().join("data").join("monitoring").join("alerts.log");
    let count = |host: &str| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().filter(|line| line.contains(&format!("\"{host}\""))).count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while hosts.iter().any(|host| count(host) == 0) {
        let missing: Vec<&String> = hosts.iter().filter(|host| count(host) == 0).collect();
        assert!(tokio::time::Instant::now() < deadline, "no alert for {missing:?} in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The alarm writes to the log in order: once a last alert is there, anything it sent again
    // after the failover is there too.
    send_until_taken(addresses.relay, dir.path().join("spool-3"), vec![hot("storm-last")]).await;
    while count("storm-last") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no alert for storm-last in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for host in &hosts {
        assert_eq!(count(host), 1, "{host}'s alert written {} times", count(host));
    }
}
