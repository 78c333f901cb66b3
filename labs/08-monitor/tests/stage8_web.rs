//! Stage 8: the web console. The API over rules, alerts, silences and host records, driven
//! in-process through its router: create, read, update and delete, a 4xx that names the field for
//! every bad body (and never a 500, for any body), rules that reach a running judge, silences that
//! reach the alarm, the board of alerts, and the state kept across a restart.

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use monitor::alarm::{AlarmConfig, DispatchSettings, LogNotifier, ReceiverConfig, start_alarm};
use monitor::judge::{
    Alert, Event, EventSink, Expr, JudgeConfig, JudgeShard, Rule, RuleSpec, Status, serve_judge,
};
use monitor::query::Source;
use monitor::store::RangeQuery;
use monitor::web::{Console, console_router};
use monitor::wire::{FrameReader, Message, write_message};
use monitor::{Millis, Point, Sample, SeriesKey, Shutdown};
use proptest::prelude::*;
use serde_json::{Value, json};
use testkit::test;

/// A source with two hosts and no points.
struct Hosts;

impl Source for Hosts {
    fn hosts(&self) -> Vec<String> {
        vec!["web1".into(), "web2".into()]
    }
    fn series(&self, _host: Option<&str>, _metric: Option<&str>) -> Vec<SeriesKey> {
        Vec::new()
    }
    fn query(&self, _query: &RangeQuery) -> Vec<(Millis, f64)> {
        Vec::new()
    }
}

fn console(rules: Vec<Rule>) -> Arc<Console> {
    Arc::new(Console::open(Arc::new(Hosts), Vec::new(), None, rules, None).unwrap())
}

/// Sends a request to the console's router: its status and JSON body (null when empty).
fn call(console: &Arc<Console>, method: Method, uri: &str, body: &str) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response =
            tower::ServiceExt::oneshot(console_router(Arc::clone(console)), request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let json =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("a JSON body") };
        (status, json)
    })
}

fn rule(id: u64, text: &str) -> Rule {
    Rule::new(id, Expr::parse(text).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Rules

#[test]
fn rules_are_created_read_replaced_and_deleted() {
    let console = console(vec![rule(1, "cpu.busy all(#3) > 90")]);
    let (status, body) = call(&console, Method::GET, "/api/v1/rules", "");
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"][0]["expr"], "cpu.busy all(#3) > 90");

    let (status, body) = call(
        &console,
        Method::POST,
        "/api/v1/rules",
        r#"{"id":2,"expr":"mem.used min(#2)>6e9","priority":1}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["expr"], "mem.used min(#2) > 6000000000", "written back in its canonical form");
    assert_eq!(body["data"]["max_alerts"], 3, "the defaults filled in");
    let (status, _) = call(&console, Method::POST, "/api/v1/rules", r#"{"id":2,"expr":"m max(#1) > 1"}"#);
    assert_eq!(status, 409, "the number is in use");

    let (status, body) = call(&console, Method::GET, "/api/v1/rules/2", "");
    assert_eq!((status, body["data"]["priority"].as_u64()), (200, Some(1)));
    let (status, body) = call(
        &console,
        Method::PUT,
        "/api/v1/rules/2",
        r#"{"id":2,"expr":"mem.used min(#2) > 7e9","priority":0}"#,
    );
    assert_eq!((status, body["data"]["priority"].as_u64()), (200, Some(0)), "{body}");
    let (status, body) = call(&console, Method::PUT, "/api/v1/rules/2", r#"{"id":3,"expr":"m max(#1) > 1"}"#);
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().starts_with("id: "), "{body}");
    let (status, _) = call(&console, Method::PUT, "/api/v1/rules/9", r#"{"id":9,"expr":"m max(#1) > 1"}"#);
    assert_eq!(status, 404, "replacing needs the rule");

    assert_eq!(call(&console, Method::DELETE, "/api/v1/rules/2", "").0, 204);
    assert_eq!(call(&console, Method::GET, "/api/v1/rules/2", "").0, 404);
    assert_eq!(call(&console, Method::DELETE, "/api/v1/rules/2", "").0, 404);
    let (status, body) = call(&console, Method::GET, "/api/v1/rules/two", "");
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().starts_with("id: "), "{body}");
    assert_eq!(console.rules().len(), 1);
}

#[test]
fn a_bad_rule_body_gets_a_400_that_names_the_field() {
    let console = console(vec![]);
    let cases = [
        (r#"{"id":1}"#, "missing field `expr`"),
        (r#"{"id":1,"expr":"cpu.busy sum(#3) > 90"}"#, "expr: column 10: expected a function"),
        (r#"{"id":1,"expr":"m max(#1) > 1","priority":"high"}"#, "priority: invalid type: string \"high\""),
        (r#"{"id":1,"expr":"m max(#1) > 1","priority":7}"#, "priority: 7 is not a priority from 0 to 5"),
        (r#"{"id":1,"expr":"m max(#1) > 1","colour":"red"}"#, "unknown field `colour`"),
        (r#"{"id":-1,"expr":"m max(#1) > 1"}"#, "id: invalid value"),
        ("not json", "body: expected"),
        ("", "body: EOF"),
    ];
    for (body, expected) in cases {
        let (status, answer) = call(&console, Method::POST, "/api/v1/rules", body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["status"], "error");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(expected), "{body}: {error:?} should contain {expected:?}");
    }
    assert!(console.rules().is_empty());
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn no_body_gets_a_500_or_a_panic(
        body in prop_oneof![
            "[ -~]{0,80}",
            r#"\{"id":[0-9]{1,3},"expr":"[ -~]{0,30}"(,"priority":[0-9]{1,3})?\}"#,
            r#"\{"matchers":"[ -~]{0,20}","ends":-?[0-9]{1,14}\}"#,
        ],
        path in prop::sample::select(vec!["/api/v1/rules", "/api/v1/silences", "/api/v1/rules/1", "/api/v1/hosts/web1"]),
    ) {
        let console = console(vec![rule(1, "m max(#1) > 1")]);
        let method = if path.ends_with("s") { Method::POST } else { Method::PUT };
        let (status, _) = call(&console, method, path, &body);
        prop_assert!(status < 500, "{} {} gave {}", path, body, status);
    }
}

/// A judge shard whose events go to `sink`, and a connection to it.
fn judge(
    dir: &std::path::Path,
    sink: Arc<dyn EventSink>,
    shutdown: &Shutdown,
) -> (monitor::judge::JudgeServer, FrameReader<TcpStream>) {
    let shard = JudgeShard {
        listen: "127.0.0.1:0".parse().unwrap(),
        config: JudgeConfig::new(Duration::from_secs(60)),
        rules: Vec::new(),
        log: dir.join("events.log"),
        store: None,
        tick: Duration::from_secs(3600),
    };
    let server = serve_judge(shard, sink, shutdown).unwrap();
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    (server, FrameReader::new(stream))
}

fn send(judge: &mut FrameReader<TcpStream>, seq: u64, points: Vec<Point>) {
    write_message(judge.get_mut(), &Message::Batch { seq, points }).unwrap();
    assert!(matches!(judge.read_message().unwrap(), Some(Message::Ack { .. })));
}

fn recent(steps_ago: Millis) -> Millis {
    let now = monitor::point::now_millis();
    now - now % 60_000 - steps_ago * 60_000
}

#[test]
fn a_rule_created_through_the_api_reaches_the_running_judges_and_its_alerts_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let shutdown = Shutdown::new();
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    // The judge's events go through the console (its board), as in the demo.
    let slot: Arc<Mutex<Option<Arc<Console>>>> = Arc::default();
    struct Through(Arc<Mutex<Option<Arc<Console>>>>, Arc<Mutex<Vec<Event>>>);
    impl EventSink for Through {
        fn deliver(&self, events: &[Event]) {
            self.1.lock().unwrap().extend_from_slice(events);
            if let Some(console) = &*self.0.lock().unwrap() {
                console.deliver(events);
            }
        }
    }
    let (server, mut connection) =
        judge(dir.path(), Arc::new(Through(slot.clone(), events.clone())), &shutdown);
    let console =
        Arc::new(Console::open(Arc::new(Hosts), vec![server.handle()], None, vec![], None).unwrap());
    *slot.lock().unwrap() = Some(console.clone());

    let at = recent(1);
    send(&mut connection, 1, vec![Sample::gauge("load.1min", 7.0).at("web1", at)]);
    assert!(events.lock().unwrap().is_empty(), "no rule yet");
    let (status, _) = call(
        &console,
        Method::POST,
        "/api/v1/rules",
        r#"{"id":5,"expr":"load.1min max(#1) > 4","priority":1}"#,
    );
    assert_eq!(status, 201);
    assert_eq!(server.handle().rules().len(), 1, "the judge has the rule");
    send(&mut connection, 2, vec![Sample::gauge("load.1min", 8.0).at("web1", at + 60_000)]);
    let (_, body) = call(&console, Method::GET, "/api/v1/alerts", "");
    let firing = body["data"].as_array().unwrap();
    assert_eq!(firing.len(), 1, "{body}");
    assert_eq!((firing[0]["rule"].as_u64(), firing[0]["status"].as_str()), (Some(5), Some("PROBLEM")));
    assert_eq!(firing[0]["series"]["host"], "web1");
    let (_, host) = call(&console, Method::GET, "/api/v1/hosts/web1", "");
    assert_eq!((host["data"]["seen"].as_bool(), host["data"]["firing"].as_u64()), (Some(true), Some(1)));

    // Deleting the rule stops it in the judge and takes its alert off the board.
    assert_eq!(call(&console, Method::DELETE, "/api/v1/rules/5", "").0, 204);
    assert!(server.handle().rules().is_empty());
    assert_eq!(call(&console, Method::GET, "/api/v1/alerts", "").1["data"], json!([]));
    shutdown.stop();
    server.join().unwrap();
}

fn alert(host: &str, rule: u64, priority: u8, status: Status, at: Millis) -> Alert {
    Alert {
        rule,
        priority,
        expr: "cpu.busy all(#3) > 90".into(),
        series: Sample::gauge("cpu.busy", 0.0).at(host, 0).series(),
        status,
        value: 95.0,
        at,
        count: 1,
        notify: true,
    }
}

#[test]
fn the_board_lists_the_alerts_not_ok_the_most_urgent_first() {
    let console = console(vec![]);
    console.deliver(&[
        Event::Alert(alert("a", 1, 3, Status::Problem, 10)),
        Event::Alert(alert("b", 1, 1, Status::Problem, 20)),
        Event::Alert(alert("c", 2, 1, Status::NoData, 30)),
        Event::Alert(alert("d", 1, 0, Status::Problem, 5)),
    ]);
    console.deliver(&[
        Event::Alert(alert("d", 1, 0, Status::Ok, 40)),
        Event::PipelineDown { silent: 3, watched: 9, at: 50 },
    ]);
    let (_, body) = call(&console, Method::GET, "/api/v1/alerts", "");
    let order: Vec<(&str, &str)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["series"]["host"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [("c", "NODATA"), ("b", "PROBLEM"), ("a", "PROBLEM")],
        "P1 newest first, then P3; d is OK"
    );
}

// ---------------------------------------------------------------------------------------------
// Silences, hosts, and the state across a restart

#[test]
fn a_silence_made_through_the_api_reaches_the_alarm_and_ends_when_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let shutdown = Shutdown::new();
    let alarm = start_alarm(
        AlarmConfig::new(vec![ReceiverConfig::new("log")]),
        vec![Box::new(LogNotifier::new(&dir.path().join("alerts.log")))],
        DispatchSettings::default(),
        None,
        &shutdown,
    )
    .unwrap();
    let console = Arc::new(Console::open(Arc::new(Hosts), vec![], Some(alarm.core()), vec![], None).unwrap());
    let (status, body) = call(
        &console,
        Method::POST,
        "/api/v1/silences",
        r#"{"matchers":"host=web1, cpu!=total","ends":4102444800000,"comment":"deploying"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_u64().unwrap();
    assert!(body["data"]["starts"].as_i64().unwrap() > 1_700_000_000_000, "starts now when left out");
    let silences = alarm.core().with_alarm(|alarm| alarm.silences().to_vec());
    assert_eq!(silences.len(), 1);
    assert_eq!(
        (silences[0].id, silences[0].selectors.len(), silences[0].comment.as_str()),
        (id, 2, "deploying")
    );
    assert_eq!(
        call(&console, Method::GET, "/api/v1/silences", "").1["data"][0]["matchers"],
        "host=web1, cpu!=total"
    );

    let cases = [
        (r#"{"matchers":"host web1","ends":4102444800000}"#, "matchers: column 6: expected '=' or '!='"),
        (r#"{"matchers":"host=web1","starts":2000,"ends":1000}"#, "ends: must be after starts"),
        (r#"{"matchers":"host=web1"}"#, "missing field `ends`"),
        (r#"{"matchers":"host=web1","ends":"tomorrow"}"#, "ends: invalid type"),
    ];
    for (body, expected) in cases {
        let (status, answer) = call(&console, Method::POST, "/api/v1/silences", body);
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            status == 400 && error.contains(expected),
            "{body}: {status} {error:?} should contain {expected:?}"
        );
    }
    assert_eq!(call(&console, Method::DELETE, &format!("/api/v1/silences/{id}"), "").0, 204);
    assert!(alarm.core().with_alarm(|alarm| alarm.silences().is_empty()));
    assert_eq!(call(&console, Method::DELETE, &format!("/api/v1/silences/{id}"), "").0, 404);
    shutdown.stop();
    alarm.join();
}

#[test]
fn host_records_are_put_read_and_deleted_and_a_host_with_points_is_seen() {
    let console = console(vec![]);
    let (status, body) =
        call(&console, Method::PUT, "/api/v1/hosts/db1", r#"{"note":"primary","tags":{"rack":"b4"}}"#);
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&console, Method::GET, "/api/v1/hosts/db1", "");
    assert_eq!(status, 200);
    assert_eq!(body["data"]["record"]["tags"]["rack"], "b4");
    assert_eq!(body["data"]["seen"], false, "registered, but no points");
    let (status, body) = call(&console, Method::GET, "/api/v1/hosts/web2", "");
    assert_eq!((status, body["data"]["seen"].as_bool()), (200, Some(true)), "points, no record");
    assert_eq!(call(&console, Method::GET, "/api/v1/hosts/nowhere", "").0, 404);
    let (status, body) = call(&console, Method::PUT, "/api/v1/hosts/db1", r#"{"tags":{"rack":4}}"#);
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().starts_with("tags.rack: "), "{body}");
    assert_eq!(call(&console, Method::DELETE, "/api/v1/hosts/db1", "").0, 204);
    assert_eq!(call(&console, Method::GET, "/api/v1/hosts/db1", "").0, 404);
}

#[test]
fn rules_silences_and_hosts_are_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("console.json");
    let open = || {
        Arc::new(
            Console::open(Arc::new(Hosts), vec![], None, vec![rule(1, "a max(#1) > 1")], Some(&path))
                .unwrap(),
        )
    };
    let first = open();
    assert_eq!(call(&first, Method::POST, "/api/v1/rules", r#"{"id":2,"expr":"b max(#1) > 2"}"#).0, 201);
    assert_eq!(
        call(&first, Method::POST, "/api/v1/silences", r#"{"matchers":"host=web1","ends":4102444800000}"#).0,
        201
    );
    assert_eq!(call(&first, Method::PUT, "/api/v1/hosts/db1", r#"{"note":"primary"}"#).0, 200);
    assert_eq!(call(&first, Method::DELETE, "/api/v1/rules/1", "").0, 204);
    drop(first);
    let second = open();
    let ids: Vec<u64> = second.rules().iter().map(|spec: &RuleSpec| spec.id).collect();
    assert_eq!(ids, [2], "the file's rules, not the defaults");
    assert_eq!(second.silences().len(), 1);
    assert_eq!(second.host("db1").map(|h| h.note), Some("primary".to_owned()));
    let (_, body) =
        call(&second, Method::POST, "/api/v1/silences", r#"{"matchers":"host=web2","ends":4102444800000}"#);
    assert_eq!(body["data"]["id"], 2, "silence numbers go on from where they were");
}

// ---------------------------------------------------------------------------------------------
// The dashboard

/// A store with web1's and web2's cpu.busy every 10 s over the last 14 minutes (and web1's
/// mem.used), ending a minute ago: `count` points a series.
fn store_with_points(dir: &std::path::Path) -> (Arc<monitor::store::Store>, usize) {
    let store = monitor::store::Store::open(monitor::store::StoreOptions::new(dir.join("store"))).unwrap();
    let now = monitor::point::now_millis();
    let first = now - 14 * 60_000;
    let count = 13 * 6;
    let mut points = Vec::new();
    for i in 0..count {
        let at = first + i as Millis * 10_000;
        points.push(Sample::gauge("cpu.busy", 50.0 + (i % 7) as f64).at("web1", at));
        points.push(Sample::gauge("cpu.busy", 20.0).at("web2", at));
        points.push(Sample::gauge("mem.used", 4e9 + i as f64).tag("kind", "rss").at("web1", at));
    }
    store.append(&points).unwrap();
    (Arc::new(store), count)
}

fn get_text(console: &Arc<Console>, uri: &str) -> (u16, String, String) {
    let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let app = monitor::web::dashboard_router(Arc::clone(console));
        let response = tower::ServiceExt::oneshot(app, request).await.unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        (status, kind, String::from_utf8(bytes.to_vec()).unwrap())
    })
}

/// The numbers in each `data-points="N"` of `html`, in order.
fn drawn(html: &str) -> Vec<usize> {
    html.split("data-points=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn the_page_lists_the_hosts_and_draws_every_point_of_the_chosen_hosts_series() {
    let dir = tempfile::tempdir().unwrap();
    let (store, count) = store_with_points(dir.path());
    let console = Arc::new(Console::open(store, vec![], None, vec![], None).unwrap());
    console.put_host(monitor::web::HostRecord { name: "db1".into(), ..Default::default() }).unwrap();
    console.deliver(&[Event::Alert(alert("web1", 1, 1, Status::Problem, 10))]);

    let (status, kind, html) = get_text(&console, "/?host=web1&range=15m");
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    for host in ["web1", "web2", "db1"] {
        assert!(html.contains(&format!(">{host}</a>")), "{host} is listed");
    }
    assert!(!html.contains("src=\"http"), "nothing is fetched from elsewhere");
    assert_eq!(drawn(&html), [count, count], "cpu.busy and mem.used{{kind=rss}}, every point drawn");
    assert!(html.contains("mem.used{kind=rss}"));
    assert!(html.contains("cpu.busy all(#3) &gt; 90"), "the firing alert, escaped");
    assert!(html.contains(r#"id="rule-form""#), "the form to add a rule");

    let (status, kind, svg) =
        get_text(&console, "/ui/graph.svg?host=web1&metric=mem.used&tag.kind=rss&range=15m");
    assert_eq!((status, kind.as_str()), (200, "image/svg+xml"));
    assert_eq!(drawn(&svg), [count]);
    let (_, _, svg) = get_text(&console, "/ui/graph.svg?host=web1&metric=mem.used&range=15m");
    assert!(
        drawn(&svg).is_empty() && svg.contains("no points"),
        "mem.used without its tag is another series"
    );
    assert_eq!(get_text(&console, "/ui/graph.svg?host=web1").0, 400);
    let (_, _, table) = get_text(&console, "/ui/alerts");
    assert!(table.contains("<td>PROBLEM</td>") && table.contains("web1 cpu.busy"), "{table}");
}

#[test]
fn the_svg_graph_puts_every_point_inside_its_frame() {
    let points: Vec<(Millis, f64)> = (0..50).map(|i| (1_000 + i * 1_000, (i as f64).sin() * 1e9)).collect();
    let svg = monitor::web::render_graph(&points, 0, 60_000);
    assert_eq!(drawn(&svg), [50]);
    assert!(svg.contains(r#"data-from="0" data-to="60000""#), "the range, for a script to ask the API");
    let coordinates = svg.split(" points=\"").nth(1).unwrap().split('"').next().unwrap();
    for pair in coordinates.split(' ') {
        let (x, y) = pair.split_once(',').unwrap();
        let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
        assert!((56.0..=600.0).contains(&x) && (0.0..=142.0).contains(&y), "{pair} is outside the frame");
    }
    let flat = monitor::web::render_graph(&[(10, 5.0), (20, 5.0)], 0, 30);
    assert_eq!(drawn(&flat), [2], "a flat series is drawn too");
    let none = monitor::web::render_graph(&[(10, f64::NAN)], 0, 30);
    assert!(drawn(&none).is_empty() && none.contains("no points"));
}

#[test]
fn text_from_the_data_is_escaped_on_the_page() {
    use monitor::web::dashboard::{escape, url_encode};
    assert_eq!(
        escape(r#"<script>"a"&'b'</script>"#),
        "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
    );
    assert_eq!(url_encode("web 1&x=/é"), "web%201%26x%3D%2F%C3%A9");
    let console = console(vec![]);
    console.deliver(&[Event::Alert(Alert {
        expr: "m{path=\"<b>\"} max(#1) > 1".into(),
        ..alert("web1", 1, 1, Status::Problem, 10)
    })]);
    let (_, _, html) = get_text(&console, "/");
    assert!(html.contains("&lt;b&gt;") && !html.contains("\"<b>\""), "the expression is escaped");
}
