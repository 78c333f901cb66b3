//! Support shared by the stage tests: URLs, client and crawl configurations with short timeouts,
//! running a crawl to the end, and reading what the fixture server saw.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crawler::{ClientConfig, CrawlConfig, CrawlSummary, PageResult, Url};
use testkit::web::{RequestRecord, WebServer};

/// Every test of a network exchange must end within this, hang or not.
pub const TEST_DEADLINE: Duration = Duration::from_secs(20);

/// Parses a URL the test knows is valid.
#[track_caller]
pub fn url(text: &str) -> Url {
    Url::parse(text).unwrap_or_else(|err| panic!("{text:?} should parse: {err}"))
}

/// A client configuration with timeouts short enough for tests (but far above a loopback
/// round trip, so a loaded machine does not fail them).
pub fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(5),
        header_timeout: Duration::from_secs(5),
        body_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

/// A crawl of `server` from `/` with the defaults and short waits: backoff 10 ms, no delay.
pub fn crawl_config(server: &WebServer) -> CrawlConfig {
    let mut config = CrawlConfig::new(url(&server.url("/")));
    config.client = client_config();
    config.backoff = Duration::from_millis(10);
    config
}

/// Runs a crawl to its end (the shutdown never comes) and returns its results in order of
/// arrival, and its summary. Fails the test if it takes longer than [`TEST_DEADLINE`].
pub async fn crawl_all(config: &CrawlConfig) -> (Vec<PageResult>, CrawlSummary) {
    crawl_until(config, std::future::pending()).await
}

/// Like [`crawl_all`], with a shutdown future.
pub async fn crawl_until(
    config: &CrawlConfig,
    shutdown: impl Future<Output = ()>,
) -> (Vec<PageResult>, CrawlSummary) {
    let mut results = Vec::new();
    let crawl = crawler::crawl(config, shutdown, |page| {
        results.push(page.clone());
        ControlFlow::Continue(())
    });
    let summary = tokio::time::timeout(TEST_DEADLINE, crawl)
        .await
        .unwrap_or_else(|_| panic!("the crawl did not end within {TEST_DEADLINE:?}"));
    (results, summary)
}

/// The path (and query) of a result's URL.
pub fn target_of(result: &PageResult) -> String {
    url(&result.url).request_target()
}

/// The pages a crawl fetched, by path (`/index.html` counted as `/`, which it is on the fixture),
/// with how many times each was reported.
pub fn fetched_paths(results: &[PageResult]) -> BTreeMap<String, usize> {
    let mut paths = BTreeMap::new();
    for result in results {
        let path = target_of(result);
        let path = if path == "/index.html" { "/".to_owned() } else { path };
        *paths.entry(path).or_default() += 1;
    }
    paths
}

/// The requests the server saw for pages, leaving out `robots.txt`.
pub fn page_requests(server: &WebServer) -> Vec<RequestRecord> {
    server.requests().into_iter().filter(|r| r.target != "/robots.txt").collect()
}

/// How many times the server was asked for each target.
pub fn request_counts(server: &WebServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in server.requests() {
        *counts.entry(request.target).or_default() += 1;
    }
    counts
}

/// The gaps between the starts of consecutive requests, in the order they started.
pub fn start_gaps(requests: &[RequestRecord]) -> Vec<Duration> {
    let mut starts: Vec<Instant> = requests.iter().map(|r| r.started).collect();
    starts.sort();
    starts.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

/// Checks that requests started at least `gap` apart, as the server saw them. The server notes a
/// request when it has read its head, which on a loaded machine (tests run in parallel) can be late
/// by a hundred milliseconds: one late request makes its gap before it longer and the one after it
/// shorter. So every pair `i < j` must be at least `(j - i) * gap - slack` apart: one late request
/// cannot break that, and a crawler without the delay (all gaps near 0) cannot pass it.
#[track_caller]
pub fn assert_spaced(requests: &[RequestRecord], gap: Duration, slack: Duration) {
    let mut starts: Vec<Instant> = requests.iter().map(|r| r.started).collect();
    starts.sort();
    for i in 0..starts.len() {
        for j in i + 1..starts.len() {
            let apart = starts[j] - starts[i];
            let least = gap * (j - i) as u32 - slack;
            assert!(
                apart >= least,
                "requests {i} and {j} to one host started {apart:?} apart, less than {least:?}; gaps: {:?}",
                start_gaps(requests)
            );
        }
    }
}

/// A page of HTML whose links are `hrefs`.
pub fn page_linking(hrefs: &[&str]) -> String {
    let links: String = hrefs.iter().map(|href| format!("<a href=\"{href}\">{href}</a>\n")).collect();
    format!("<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
}
