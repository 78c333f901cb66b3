//! Stage 4: what a user of `crawler` sees. One JSON line per URL with a fixed schema, written as
//! results arrive, to standard output or to `--out`; pages mirrored to disk with `--save` in the
//! layout `wget` uses, never outside the directory; clear errors and exit codes.

mod common;

use std::path::{Component, Path};
use std::time::Duration;

use clap::Parser;
use common::{TEST_DEADLINE, client_config, page_linking, url};
use crawler::cli::Cli;
use crawler::{Config, Error, Outcome, save_path};
use proptest::prelude::*;
use serde_json::Value;
use testkit::test;
use testkit::web::{Fault, Route, Site, WebServer};

/// A run of `crawler URL ARGS…` as the command line would configure it.
fn config_for(args: &[&str]) -> Result<Config, Error> {
    let cli = Cli::try_parse_from(std::iter::once("crawler").chain(args.iter().copied()))
        .unwrap_or_else(|err| panic!("{args:?} should parse: {err}"));
    Config::try_from(cli)
}

/// Runs `config` in-process to its end; what it returned and what it wrote to standard output.
async fn run(config: &Config) -> (Result<Outcome, Error>, String) {
    run_until(config, std::future::pending()).await
}

async fn run_until(
    config: &Config,
    shutdown: impl std::future::Future<Output = ()>,
) -> (Result<Outcome, Error>, String) {
    let mut stdout = Vec::new();
    let result = tokio::time::timeout(TEST_DEADLINE, crawler::run(config, shutdown, &mut stdout))
        .await
        .expect("the run did not end in time");
    (result, String::from_utf8(stdout).expect("the output is UTF-8"))
}

/// The JSON objects of `text`, one per line.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}"))
        })
        .collect()
}

fn site() -> Site {
    Site::new()
        .page("/", page_linking(&["/a.html", "/dir/", "/missing", "/data.bin", "/dir/sub/page?x=1"]))
        .page("/a.html", "<p>a</p>")
        .page("/dir/", page_linking(&["../a.html"]))
        .route("/data.bin", Route::ok("application/octet-stream", vec![7u8; 3000]))
        .page("/dir/sub/page?x=1", "<p>with a query</p>")
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn prints_one_json_line_per_url_with_the_schema() {
    let server = WebServer::start(site());
    let config = config_for(&[&server.url("/"), "--depth", "2", "--quiet"]).unwrap();
    let (result, stdout) = run(&config).await;
    let outcome = result.unwrap_or_else(|err| panic!("the run failed: {err}"));
    assert_eq!(outcome.exit_code(), 0, "the exit code of a crawl to depth 2");
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 6, "one line per URL:\n{stdout}");
    for line in &lines {
        for key in ["url", "status", "depth", "bytes", "links", "ms", "error"] {
            assert!(line.get(key).is_some(), "no {key:?} in {line}");
        }
        assert!(
            line["url"].is_string() && line["depth"].is_u64() && line["bytes"].is_u64(),
            "url a string, depth and bytes numbers: {line}"
        );
        assert!(line["links"].is_u64() && line["ms"].is_u64(), "links and ms numbers: {line}");
    }
    let by_url = |path: &str| {
        let wanted = server.url(path);
        lines
            .iter()
            .find(|l| l["url"] == wanted.as_str())
            .unwrap_or_else(|| panic!("no line for {wanted}:\n{stdout}"))
    };
    let root = by_url("/");
    assert_eq!(
        (root["status"].as_u64(), root["depth"].as_u64(), root["links"].as_u64()),
        (Some(200), Some(0), Some(5)),
        "(status, depth, links) of the start page: {root}"
    );
    assert!(root["error"].is_null(), "error is null on success: {root}");
    assert_eq!(
        root["bytes"].as_u64(),
        Some(page_linking(&["/a.html", "/dir/", "/missing", "/data.bin", "/dir/sub/page?x=1"]).len() as u64),
        "bytes of the start page: {root}"
    );
    let missing = by_url("/missing");
    assert_eq!(missing["status"].as_u64(), Some(404), "an HTTP error is a status, not an error");
    assert!(missing["error"].is_null(), "error is null for a 404: {missing}");
    let data = by_url("/data.bin");
    assert_eq!(
        (data["bytes"].as_u64(), data["links"].as_u64()),
        (Some(3000), Some(0)),
        "(bytes, links) of /data.bin: {data}"
    );
    assert_eq!(by_url("/dir/")["depth"].as_u64(), Some(1), "the depth of /dir/: {}", by_url("/dir/"));
    assert_eq!(lines[0]["url"], server.url("/").as_str(), "the start page comes first");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_has_an_error_and_no_status() {
    let site = Site::new()
        .page("/", page_linking(&["/reset"]))
        .route("/reset", Route::html("x".repeat(5000)).with(Fault::ResetAfter(10)));
    let server = WebServer::start(site);
    let mut config = config_for(&[&server.url("/"), "--retries", "0", "-q"]).unwrap();
    config.crawl.client = client_config();
    let (result, stdout) = run(&config).await;
    assert_eq!(result.unwrap().exit_code(), 0, "a page that fails is a result, not a failed run");
    let lines = json_lines(&stdout);
    let reset = lines.iter().find(|l| l["url"] == server.url("/reset").as_str()).expect("a line for /reset");
    assert!(reset["status"].is_null(), "status is null for a reset fetch: {reset}");
    assert!(reset["error"].as_str().is_some_and(|e| !e.is_empty()), "the error says what happened: {reset}");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_the_out_file_instead_of_stdout() {
    let server = WebServer::start(site());
    let dir = testkit::scratch_dir();
    let out = dir.path().join("results.jsonl");
    let config =
        config_for(&[&server.url("/"), "--depth", "1", "--out", out.to_str().unwrap(), "-q"]).unwrap();
    let (result, stdout) = run(&config).await;
    result.unwrap();
    assert!(stdout.is_empty(), "nothing on stdout with --out: {stdout}");
    let text = std::fs::read_to_string(&out).expect("the --out file exists");
    assert_eq!(json_lines(&text).len(), 6, "lines in the --out file of a crawl to depth 1:\n{text}");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn saves_pages_in_the_wget_layout() {
    let server = WebServer::start(site());
    let dir = testkit::scratch_dir();
    let save = dir.path().join("mirror");
    let config =
        config_for(&[&server.url("/"), "--depth", "2", "--save", save.to_str().unwrap(), "-q"]).unwrap();
    let (result, _) = run(&config).await;
    result.unwrap();
    let host = save.join(server.addr().to_string());
    let read = |relative: &str| {
        std::fs::read(host.join(relative))
            .unwrap_or_else(|err| panic!("{relative} was not saved under {}: {err}", host.display()))
    };
    assert_eq!(
        read("index.html"),
        page_linking(&["/a.html", "/dir/", "/missing", "/data.bin", "/dir/sub/page?x=1"]).as_bytes(),
        "the saved index.html, \"{}\"",
        read("index.html").escape_ascii()
    );
    assert_eq!(read("a.html"), b"<p>a</p>", "the saved a.html, \"{}\"", read("a.html").escape_ascii());
    assert_eq!(
        read("dir/index.html"),
        page_linking(&["../a.html"]).as_bytes(),
        "a directory path is saved as index.html"
    );
    assert!(
        read("data.bin") == vec![7u8; 3000],
        "the saved data.bin: 3000 bytes of 7, read {}",
        read("data.bin").len()
    );
    assert_eq!(
        read("dir/sub/page?x=1"),
        b"<p>with a query</p>",
        "the saved dir/sub/page?x=1, \"{}\"",
        read("dir/sub/page?x=1").escape_ascii()
    );
    assert!(!host.join("missing").exists(), "a 404 is not saved");
    let mut files = Vec::new();
    let mut stack = vec![save.clone()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    assert_eq!(files.len(), 5, "exactly the five pages that answered 200: {files:?}");
}

#[test]
fn save_paths_never_leave_the_directory() {
    let dir = Path::new("/mirror");
    let cases = [
        ("http://h.test/", "/mirror/h.test/index.html"),
        ("http://H.test:80/a/b.html", "/mirror/h.test/a/b.html"),
        ("http://h.test:8080/a/", "/mirror/h.test:8080/a/index.html"),
        ("http://h.test/a/../../../etc/passwd", "/mirror/h.test/etc/passwd"),
        ("http://h.test/a/%2E%2E/b", "/mirror/h.test/a/%2E%2E/b"),
        ("http://h.test/q?x=1/2", "/mirror/h.test/q?x=1%2F2"),
        ("http://h.test//x//y", "/mirror/h.test/x/y"),
        ("http://../x", "/mirror/_/x"),
    ];
    for (input, expected) in cases {
        assert_eq!(save_path(dir, &url(input)), Path::new(expected), "the save path of {input}");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn no_url_saves_outside_the_directory(host in "[a-z.]{1,6}", path in "[a-z./%?=]{0,30}") {
        let dir = Path::new("/mirror");
        let Ok(u) = crawler::Url::parse(&format!("http://{host}/{path}")) else { return Ok(()) };
        let saved = save_path(dir, &u);
        prop_assert!(saved.starts_with(dir), "{} is under {}", saved.display(), dir.display());
        prop_assert!(saved.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_))), "{} has only plain components", saved.display());
        prop_assert!(saved.components().count() >= 4, "a host and a file under the directory: {}", saved.display());
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_and_an_unreachable_start_are_reported_clearly() {
    for (args, needle) in [
        (&["not a url"][..], "not a url"),
        (&["https://example.com/"][..], "TLS"),
        (&["ftp://example.com/"][..], "ftp"),
        (&["http://h.test:99999/"][..], "99999"),
        (&["http://127.0.0.1:1/", "--concurrency", "0"][..], "--concurrency"),
        (&["http://127.0.0.1:1/", "--per-host", "0"][..], "--per-host"),
    ] {
        let err = config_for(args).expect_err(&format!("{args:?} must be refused"));
        assert_eq!(err.exit_code(), 2, "{args:?}: a usage error exits 2");
        assert!(err.to_string().contains(needle), "{args:?}: the message should mention {needle:?}: {err}");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = config_for(&[&format!("http://127.0.0.1:{port}/"), "--retries", "0", "-q"]).unwrap();
    let (result, stdout) = run(&config).await;
    let err = result.expect_err("an unreachable start page fails the run");
    assert_eq!(err.exit_code(), 1, "the exit code when the start page is unreachable: {err}");
    let message = err.to_string();
    assert!(
        message.contains(&port.to_string()) && !message.contains('\n'),
        "one line naming the address: {message}"
    );
    assert_eq!(json_lines(&stdout).len(), 1, "its result line is still written");
}

/// An output that keeps what is written and says when its first whole line has come.
struct FirstLine {
    bytes: Vec<u8>,
    came: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::io::Write for FirstLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        if self.bytes.contains(&b'\n') {
            self.came.take().map(|came| came.send(()));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn each_line_is_written_as_its_result_arrives() {
    // The start page answers at once; the pages it links to send their heads and then nothing.
    // The run is stopped by its output's first line: only a line written while the others still
    // wait can stop it, and a run that keeps its lines until the crawl ends never writes one.
    let mut site = Site::new().page("/", page_linking(&["/stuck1", "/stuck2"]));
    for path in ["/stuck1", "/stuck2"] {
        site = site.route(path, Route::html("never all sent").with(Fault::Stall(0)));
    }
    let server = WebServer::start(site);
    let config = config_for(&[&server.url("/"), "-q"]).unwrap();
    let (came, first) = tokio::sync::oneshot::channel();
    let mut out = FirstLine { bytes: Vec::new(), came: Some(came) };
    let stop = async {
        let _ = first.await;
    };
    let result = tokio::time::timeout(TEST_DEADLINE, crawler::run(&config, stop, &mut out))
        .await
        .expect("a run stopped by its first line of output ends: no line came while pages were stuck");
    let outcome = result.expect("the interrupted run");
    assert_eq!(outcome.exit_code(), 130, "the exit code of a run stopped by its first line");
    let text = String::from_utf8(out.bytes).expect("the output is UTF-8");
    let lines = json_lines(&text);
    assert_eq!(
        lines.first().map(|line| line["url"].clone()),
        Some(Value::from(server.url("/"))),
        "the first line's URL"
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_flushes_what_it_has_and_exits_130() {
    let mut site = Site::new();
    let hrefs: Vec<String> = (0..20).map(|i| format!("/slow{i}")).collect();
    let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    site = site.page("/", page_linking(&refs));
    for href in &hrefs {
        site = site.route(href, Route::html("slow").with(Fault::Delay(Duration::from_millis(300))));
    }
    let server = WebServer::start(site);
    let config = config_for(&[&server.url("/"), "--per-host", "2", "-q"]).unwrap();
    let started = std::time::Instant::now();
    let (result, stdout) = run_until(&config, tokio::time::sleep(Duration::from_millis(700))).await;
    let outcome = result.unwrap();
    assert_eq!(outcome.exit_code(), 130, "interrupted");
    assert!(started.elapsed() < Duration::from_secs(3), "it stopped promptly: {:?}", started.elapsed());
    let lines = json_lines(&stdout);
    assert!(!lines.is_empty() && lines.len() < 21, "the results so far, each a whole line: {}", lines.len());
    assert!(stdout.ends_with('\n'), "the output of an interrupted run ends a line: {stdout:?}");
}
