//! Stage 5: the query side. The query string of a range query, checked and naming the parameter at
//! fault; Prometheus's text format for the agent's `/metrics`; and the HTTP API, driven in-process
//! through its router, over a stand-in source and over a real store.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use monitor::query::exposition::{
    escape_label_value, exposition_name, format_value, label_name, metric_name,
};
use monitor::query::{
    LatestPoints, MAX_POINTS, ParamError, Source, metrics_router, parse_range, render, router, serve_http,
};
use monitor::store::{Aggregate, RangeQuery, Store, StoreOptions};
use monitor::{Kind, Millis, Point, Sample, SeriesKey, Shutdown, Tags};
use proptest::prelude::*;
use serde_json::{Value, json};
use testkit::test;
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Parameters

fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
}

fn param_error(query: &[(&str, &str)]) -> ParamError {
    match parse_range(&pairs(query)) {
        Ok(parsed) => panic!("{query:?} should be refused, not parsed as {parsed:?}"),
        Err(err) => err,
    }
}

const GOOD: &[(&str, &str)] = &[
    ("host", "web1"),
    ("metric", "cpu.busy"),
    ("tag.cpu", "3"),
    ("start", "1764720000"),
    ("end", "1764723600.5"),
    ("step", "1m"),
    ("aggregate", "max"),
];

#[test]
fn a_range_query_is_parsed_with_its_tags_times_step_and_aggregate() {
    let query = parse_range(&pairs(GOOD)).unwrap();
    let tags: Tags = [("cpu".to_owned(), "3".to_owned())].into();
    assert_eq!(query.series, SeriesKey { host: "web1".into(), metric: "cpu.busy".into(), tags });
    assert_eq!((query.from, query.to), (1_764_720_000_000, 1_764_723_600_500), "Unix seconds, as ms");
    assert_eq!(query.step, Some(Duration::from_secs(60)));
    assert_eq!(query.aggregate, Aggregate::Max);

    let plain =
        parse_range(&pairs(&[("host", "h"), ("metric", "m"), ("start", "10"), ("end", "20")])).unwrap();
    assert_eq!(plain.step, None, "no step: the raw points");
    assert_eq!(plain.aggregate, Aggregate::Avg, "avg by default");
    assert!(plain.series.tags.is_empty());
    for (step, expected) in [
        ("15", 15_000),
        ("0.5", 500),
        ("500ms", 500),
        ("10s", 10_000),
        ("2h", 7_200_000),
        ("30d", 2_592_000_000),
    ] {
        let query = [("host", "h"), ("metric", "m"), ("start", "0"), ("end", "1"), ("step", step)];
        let parsed = parse_range(&pairs(&query)).unwrap();
        assert_eq!(parsed.step, Some(Duration::from_millis(expected)), "step {step}");
    }
    let aggregates = [
        ("avg", Aggregate::Avg),
        ("min", Aggregate::Min),
        ("max", Aggregate::Max),
        ("sum", Aggregate::Sum),
        ("count", Aggregate::Count),
        ("last", Aggregate::Last),
    ];
    for (name, expected) in aggregates {
        let query = [("host", "h"), ("metric", "m"), ("start", "0"), ("end", "1"), ("aggregate", name)];
        assert_eq!(parse_range(&pairs(&query)).unwrap().aggregate, expected, "aggregate={name}");
    }
    let instant = parse_range(&pairs(&[("host", "h"), ("metric", "m"), ("start", "10"), ("end", "10")]))
        .expect("a range of one instant");
    assert_eq!((instant.from, instant.to), (10_000, 10_000));
}

#[test]
fn every_refusal_names_the_parameter_at_fault() {
    let without =
        |name: &str| -> Vec<(&str, &str)> { GOOD.iter().copied().filter(|(n, _)| *n != name).collect() };
    let with = |name: &'static str, value: &'static str| -> Vec<(&str, &str)> {
        GOOD.iter().map(|&(n, v)| if n == name { (n, value) } else { (n, v) }).collect()
    };
    for name in ["host", "metric", "start", "end"] {
        assert_eq!(param_error(&without(name)).param, name, "missing {name}");
    }
    for (name, value) in [
        ("start", "yesterday"),
        ("start", "-5"),
        ("end", "NaN"),
        ("end", "1e300"),
        ("step", "10x"),
        ("step", "0"),
        ("step", "-1s"),
        ("aggregate", "median"),
        ("host", ""),
    ] {
        let err = param_error(&with(name, value));
        assert_eq!(err.param, name, "{name}={value:?} gave {err}");
        assert!(err.to_string().starts_with(&format!("{name}: ")), "the message names it: {err}");
    }
    let err = param_error(&with("end", "1764710000"));
    assert_eq!(err.param, "end", "an end before the start: {err}");
    let mut repeated = GOOD.to_vec();
    repeated.push(("start", "1764720001"));
    assert_eq!(param_error(&repeated).param, "start", "a parameter given twice");
    let mut unknown = GOOD.to_vec();
    unknown.push(("colour", "blue"));
    assert_eq!(param_error(&unknown).param, "colour");
    let mut nameless = GOOD.to_vec();
    nameless.push(("tag.", "x"));
    assert_eq!(param_error(&nameless).param, "tag.");
}

#[test]
fn a_step_too_small_for_the_range_is_refused_at_the_limit() {
    // A day at 10 s is 8,640 steps: fine. A day at 1 s is 86,400: over the limit.
    let day = |step: &'static str| {
        [("host", "h"), ("metric", "m"), ("start", "0"), ("end", "86400"), ("step", step)]
    };
    assert!(parse_range(&pairs(&day("10s"))).is_ok());
    assert_eq!(param_error(&day("1s")).param, "step");
    // Exactly MAX_POINTS steps is allowed, one more is not.
    let end = (MAX_POINTS).to_string();
    let at_limit = [("host", "h"), ("metric", "m"), ("start", "0"), ("end", end.as_str()), ("step", "1")];
    assert!(parse_range(&pairs(&at_limit)).is_ok(), "{MAX_POINTS} steps");
    let end = (MAX_POINTS + 1).to_string();
    let over = [("host", "h"), ("metric", "m"), ("start", "0"), ("end", end.as_str()), ("step", "1")];
    assert_eq!(param_error(&over).param, "step");
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn no_query_string_panics_the_parser(
        query in proptest::collection::vec(
            (prop::sample::select(vec!["host", "metric", "start", "end", "step", "aggregate", "tag.x", "tag.", "?"]), ".{0,12}"),
            0..8,
        )
    ) {
        let query: Vec<(String, String)> = query.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
        if let Ok(parsed) = parse_range(&query) {
            prop_assert!(parsed.from <= parsed.to);
            prop_assert!(!parsed.series.host.is_empty() && !parsed.series.metric.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The text format

fn point(metric: &str, tags: &[(&str, &str)], value: f64, kind: Kind) -> Point {
    let mut sample = Sample { metric: metric.into(), tags: Tags::new(), value, kind };
    for (name, tag) in tags {
        sample = sample.tag(*name, *tag);
    }
    sample.at("web1", 1_764_720_000_000)
}

#[test]
fn names_and_label_values_follow_prometheus_rules() {
    assert_eq!(metric_name("cpu.busy"), "cpu_busy");
    assert_eq!(metric_name("net.if.in-bytes"), "net_if_in_bytes");
    assert_eq!(metric_name("node:load1"), "node:load1", "colons are allowed in metric names");
    assert_eq!(metric_name("5xx.rate"), "_5xx_rate", "no leading digit");
    assert_eq!(label_name("node:x"), "node_x", "but not in label names");
    assert_eq!(label_name("1st"), "_1st");
    assert_eq!(exposition_name("nginx.requests", Kind::Counter), "nginx_requests_total");
    assert_eq!(exposition_name("http.requests_total", Kind::Counter), "http_requests_total", "not twice");
    assert_eq!(exposition_name("cpu.busy", Kind::Gauge), "cpu_busy");
    for (gauge, shown) in [
        ("mem.total", "mem_total_value"),
        ("proc.count", "proc_count_value"),
        ("a.sum", "a_sum_value"),
        ("b.bucket", "b_bucket_value"),
    ] {
        assert_eq!(
            exposition_name(gauge, Kind::Gauge),
            shown,
            "a gauge may not end in a counter's or a histogram's suffix"
        );
    }
    assert_eq!(escape_label_value(r#"a\b "c" d"#), r#"a\\b \"c\" d"#);
    assert_eq!(escape_label_value("two\nlines"), r"two\nlines");
    assert_eq!(format_value(f64::NAN), "NaN");
    assert_eq!(format_value(f64::INFINITY), "+Inf");
    assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
    assert_eq!(format_value(12.5), "12.5");
    assert_eq!(format_value(0.1 + 0.2).parse::<f64>().unwrap(), 0.1 + 0.2, "reads back exactly");
}

#[test]
fn the_text_format_groups_each_name_under_one_help_and_type() {
    let points = [
        point("cpu.busy", &[("cpu", "1")], 20.0, Kind::Gauge),
        point("nginx.requests", &[], 10234.0, Kind::Counter),
        point("cpu.busy", &[], 12.5, Kind::Gauge),
        point("cpu.busy", &[("cpu", "0")], 10.0, Kind::Gauge),
        point("disk.io.util", &[("device", "sda"), ("path", "a \"b\"")], 3.0, Kind::Gauge),
    ];
    let text = render(&points);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "# HELP cpu_busy monitor metric cpu.busy",
            "# TYPE cpu_busy gauge",
            "cpu_busy 12.5",
            "cpu_busy{cpu=\"0\"} 10",
            "cpu_busy{cpu=\"1\"} 20",
            "# HELP disk_io_util monitor metric disk.io.util",
            "# TYPE disk_io_util gauge",
            "disk_io_util{device=\"sda\",path=\"a \\\"b\\\"\"} 3",
            "# HELP nginx_requests_total monitor metric nginx.requests",
            "# TYPE nginx_requests_total counter",
            "nginx_requests_total 10234",
        ],
        "{text}"
    );
    assert!(text.ends_with('\n'), "every line ends with a line feed");
}

#[test]
fn the_latest_points_keep_the_newest_value_of_each_series() {
    let latest = LatestPoints::new();
    assert_eq!(latest.render(), "", "nothing yet");
    let mut old = point("load.1min", &[], 1.0, Kind::Gauge);
    let mut new = old.clone();
    new.value = 2.0;
    new.timestamp += 10_000;
    latest.update(&[new.clone(), point("mem.used", &[], 5.0, Kind::Gauge)]);
    old.timestamp -= 10_000;
    latest.update(&[old]);
    let text = latest.render();
    assert!(text.contains("\nload_1min 2\n"), "the older reading came later and is not kept: {text}");
    assert!(text.contains("\nmem_used 5\n"), "{text}");
    new.value = 3.0;
    new.timestamp += 10_000;
    latest.update(&[new.clone()]);
    assert!(latest.render().contains("\nload_1min 3\n"));
    new.value = 4.0;
    latest.update(&[new]);
    assert!(latest.render().contains("\nload_1min 4\n"), "no kept point is newer: the last one wins");
}

/// Reads the text format back: name with labels → value. A reader of the format's rules, written
/// here so that the test does not trust the code under test to read its own output.
fn read_back(text: &str) -> BTreeMap<String, (String, f64)> {
    let mut types = BTreeMap::new();
    let mut values = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        let kind = types.get(name).unwrap_or_else(|| panic!("{name} has no # TYPE before it"));
        let value = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap(),
        };
        assert!(values.insert(series.to_owned(), (kind.clone(), value)).is_none(), "{series} twice");
    }
    values
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn any_points_render_to_text_that_reads_back_to_their_values(
        points in proptest::collection::vec(
            ("[a-z][a-z0-9.]{0,8}", "[a-z]{1,3}", "[ -~]{0,6}", any::<f64>(), any::<bool>()),
            1..20,
        )
    ) {
        // One point per series, so that each line's value is known.
        let mut by_series = BTreeMap::new();
        for (metric, tag, value, number, counter) in points {
            let kind = if counter { Kind::Counter } else { Kind::Gauge };
            // Distinct metric names stay distinct once sanitised: dots only.
            let sanitised = metric.replace('.', "_");
            by_series.insert((sanitised, tag.clone(), value.clone()), point(&metric, &[(&tag, &value)], number, kind));
        }
        let points: Vec<Point> = by_series.into_values().collect();
        let text = render(&points);
        let read = read_back(&text);
        // Two metrics that sanitise alike share one name (and the first one's kind): count names.
        prop_assert!(read.len() <= points.len());
        for point in &points {
            let name = exposition_name(&point.metric, point.kind);
            let (tag, value) = point.tags.iter().next().unwrap();
            let series = format!("{name}{{{}=\"{}\"}}", label_name(tag), escape_label_value(value));
            if let Some((_, read)) = read.get(&series) {
                prop_assert!(read.to_bits() == point.value.to_bits() || (read.is_nan() && point.value.is_nan()),
                    "{series}: {read} for {}", point.value);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The API, in-process

/// A source that answers from a list of points and remembers the last query it was asked.
#[derive(Default)]
struct FakeSource {
    points: Vec<Point>,
    asked: Mutex<Option<RangeQuery>>,
}

impl Source for FakeSource {
    fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.points.iter().map(|p| p.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    fn series(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        let mut series: Vec<SeriesKey> = self
            .points
            .iter()
            .filter(|p| host.is_none_or(|h| p.host == h) && metric.is_none_or(|m| p.metric == m))
            .map(Point::series)
            .collect();
        series.sort();
        series.dedup();
        series
    }

    fn query(&self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        *self.asked.lock().unwrap() = Some(query.clone());
        self.points
            .iter()
            .filter(|p| p.series() == query.series && (query.from..=query.to).contains(&p.timestamp))
            .map(|p| (p.timestamp, p.value))
            .collect()
    }
}

fn fake() -> Arc<FakeSource> {
    let mut points = Vec::new();
    for (host, t) in [("web2", 0), ("web1", 0), ("web1", 10_000), ("db1", 0)] {
        let mut p = point("cpu.busy", &[("cpu", "0")], 10.0 + t as f64 / 1000.0, Kind::Gauge);
        p.host = host.into();
        p.timestamp = 1_764_720_000_000 + t;
        points.push(p);
    }
    let mut load = point("load.1min", &[], 0.5, Kind::Gauge);
    load.host = "web1".into();
    points.push(load);
    Arc::new(FakeSource { points, asked: Mutex::new(None) })
}

/// GETs `uri` from `app`: the status, the content type and the body.
async fn get(app: axum::Router, uri: &str) -> (StatusCode, String, String) {
    let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(app: axum::Router, uri: &str) -> (StatusCode, Value) {
    let (status, content_type, body) = get(app, uri).await;
    assert!(content_type.starts_with("application/json"), "{uri}: {content_type}");
    (status, serde_json::from_str(&body).unwrap_or_else(|err| panic!("{uri}: {err}: {body}")))
}

#[test(tokio)]
async fn the_api_lists_hosts_and_series() {
    let source = fake();
    let app = router(source.clone());
    let (status, body) = get_json(app.clone(), "/api/v1/hosts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "success", "data": ["db1", "web1", "web2"]}));

    let (status, body) = get_json(app.clone(), "/api/v1/series?host=web1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!([
            {"host": "web1", "metric": "cpu.busy", "tags": {"cpu": "0"}},
            {"host": "web1", "metric": "load.1min", "tags": {}},
        ])
    );
    let (_, body) = get_json(app.clone(), "/api/v1/series?metric=cpu.busy").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 3, "{body}");
    let (_, body) = get_json(app.clone(), "/api/v1/series").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 4, "{body}");
    let (status, body) = get_json(app, "/api/v1/series?hots=web1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown parameter: {body}");
    assert_eq!(body["errorType"], "bad_data");
    assert!(body["error"].as_str().unwrap().starts_with("hots"), "{body}");
}

#[test(tokio)]
async fn a_range_query_asks_the_source_and_answers_its_points() {
    let source = fake();
    let app = router(source.clone());
    let uri = "/api/v1/query_range?host=web1&metric=cpu.busy&tag.cpu=0&start=1764720000&end=1764720060&step=30s&aggregate=min";
    let (status, body) = get_json(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    let data = &body["data"];
    assert_eq!(data["series"], json!({"host": "web1", "metric": "cpu.busy", "tags": {"cpu": "0"}}));
    assert_eq!(data["step"], json!(30.0));
    assert_eq!(data["aggregate"], "min");
    assert_eq!(data["points"], json!([[1_764_720_000_000i64, 10.0], [1_764_720_010_000i64, 20.0]]));
    let asked = source.asked.lock().unwrap().clone().expect("the source was asked");
    assert_eq!((asked.from, asked.to), (1_764_720_000_000, 1_764_720_060_000));
    assert_eq!(asked.step, Some(Duration::from_secs(30)));
    assert_eq!(asked.aggregate, Aggregate::Min);
}

#[test(tokio)]
async fn bad_requests_get_a_json_error_naming_the_parameter() {
    let app = router(fake());
    for (uri, param) in [
        ("/api/v1/query_range?metric=cpu.busy&start=1&end=2", "host"),
        ("/api/v1/query_range?host=a&metric=b&start=soon&end=2", "start"),
        ("/api/v1/query_range?host=a&metric=b&start=1&end=2&step=0", "step"),
        ("/api/v1/query_range?host=a&metric=b&start=5&end=2", "end"),
    ] {
        let (status, body) = get_json(app.clone(), uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["status"], "error", "{uri}");
        assert_eq!(body["errorType"], "bad_data", "{uri}");
        assert!(body["error"].as_str().unwrap().starts_with(&format!("{param}: ")), "{uri}: {body}");
    }
    let (status, body) = get_json(app, "/api/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], "error");
    assert_eq!(body["errorType"], "not_found");
}

#[test(tokio)]
async fn the_metrics_page_serves_the_text_format() {
    let latest = Arc::new(LatestPoints::new());
    latest.update(&[
        point("cpu.busy", &[], 12.5, Kind::Gauge),
        point("nginx.requests", &[], 7.0, Kind::Counter),
    ]);
    let (status, content_type, body) = get(metrics_router(latest), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "Prometheus's content type: {content_type}"
    );
    assert!(body.contains("# TYPE cpu_busy gauge\ncpu_busy 12.5\n"), "{body}");
    assert!(body.contains("# TYPE nginx_requests_total counter\nnginx_requests_total 7\n"), "{body}");
}

#[test(tokio)]
async fn the_api_answers_from_a_real_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(StoreOptions::new(dir.path())).unwrap());
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as Millis;
    let start = now - now % 60_000 - 600_000;
    let points: Vec<Point> = (0..60)
        .map(|i| {
            let mut p = point("mem.used.percent", &[], i as f64, Kind::Gauge);
            p.timestamp = start + i * 10_000;
            p
        })
        .collect();
    store.append(&points).unwrap();
    let app = router(store);
    let (_, body) = get_json(app.clone(), "/api/v1/hosts").await;
    assert_eq!(body["data"], json!(["web1"]));
    let (_, body) = get_json(app.clone(), "/api/v1/series?metric=mem.used.percent").await;
    assert_eq!(body["data"], json!([{"host": "web1", "metric": "mem.used.percent", "tags": {}}]));
    let seconds = |ms: Millis| format!("{}", ms as f64 / 1000.0);
    let uri = format!(
        "/api/v1/query_range?host=web1&metric=mem.used.percent&start={}&end={}&step=60s&aggregate=max",
        seconds(start),
        seconds(start + 599_999)
    );
    let (status, body) = get_json(app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let points = body["data"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 10, "ten minutes at a one-minute step: {body}");
    assert_eq!(points[0], json!([start, 5.0]), "the first minute's max");
    assert_eq!(points[9], json!([start + 540_000, 59.0]));
}

// ---------------------------------------------------------------------------------------------
// Serving over TCP

#[test]
fn the_metrics_page_is_served_over_http_until_the_shutdown() {
    let latest = Arc::new(LatestPoints::new());
    latest.update(&[point("load.1min", &[], 0.75, Kind::Gauge)]);
    let shutdown = Shutdown::new();
    let server = serve_http("127.0.0.1:0".parse().unwrap(), metrics_router(latest), &shutdown).unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0, "port 0 is resolved");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\r\n\r\n# HELP load_1min"), "{answer}");
    assert!(answer.contains("\nload_1min 0.75\n"), "{answer}");
    shutdown.stop();
    server.join().unwrap();
    assert!(TcpStream::connect(addr).is_err(), "the listener is closed after the shutdown");
}
