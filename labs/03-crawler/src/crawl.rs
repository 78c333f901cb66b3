//! The crawl: a breadth-first walk of a site by many concurrent tasks, each URL fetched once,
//! within a depth and a page budget, with limits per host and overall, a politeness delay, retries
//! with backoff, `robots.txt`, and a shutdown that keeps the results so far.

use std::future::Future;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::ClientConfig;
use crate::page::PageResult;
use crate::url::Url;

/// What to crawl and how politely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlConfig {
    /// Where to start (depth 0).
    pub start: Url,
    /// The deepest page to fetch, in links from the start page.
    pub max_depth: usize,
    /// The most URLs to fetch (each result counts, errors included; `robots.txt` does not).
    pub max_pages: usize,
    /// The most requests in flight over all hosts.
    pub concurrency: usize,
    /// The most requests in flight to one host.
    pub per_host: usize,
    /// The least time between the starts of two requests to one host. A `Crawl-delay` in the
    /// host's `robots.txt` raises it (never lowers it).
    pub delay: Duration,
    /// Follow links to every host, not only the start page's host and port.
    pub all_hosts: bool,
    /// Fetch and obey each host's `robots.txt`.
    pub obey_robots: bool,
    /// How many times to retry a URL that answered 5xx or whose connection failed (reset, closed,
    /// timed out); 0 for never.
    pub retries: u32,
    /// The wait before the first retry; it doubles for each one after.
    pub backoff: Duration,
    /// Save each successful (2xx) response under this directory, as [`crate::save::save_path`] says.
    pub save: Option<PathBuf>,
    /// The HTTP client's timeouts, limits and user agent.
    pub client: ClientConfig,
}

impl CrawlConfig {
    /// The defaults: depth 3, 1,000 pages, 16 requests in flight, 4 per host, no delay, the start
    /// host only, `robots.txt` obeyed, 2 retries from 200 ms.
    pub fn new(start: Url) -> CrawlConfig {
        CrawlConfig {
            start,
            max_depth: 3,
            max_pages: 1000,
            concurrency: 16,
            per_host: 4,
            delay: Duration::ZERO,
            all_hosts: false,
            obey_robots: true,
            retries: 2,
            backoff: Duration::from_millis(200),
            save: None,
            client: ClientConfig::default(),
        }
    }
}

/// How a crawl went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlSummary {
    /// URLs fetched (results reported).
    pub pages: usize,
    /// Results whose `error` is set.
    pub errors: usize,
    /// URLs not fetched because `robots.txt` disallows them.
    pub disallowed: usize,
    /// The shutdown future completed (or the callback asked to stop) before the crawl was done.
    pub interrupted: bool,
}

/// Crawls from `config.start`, calling `on_page` with each result as it arrives, until every URL in
/// scope and within the limits has been fetched, or `shutdown` completes, or `on_page` returns
/// [`ControlFlow::Break`]. On shutdown the requests in flight are abandoned and the results already
/// reported are all there is.
///
/// Pages are fetched breadth-first: a page's depth is always its shortest link distance from the
/// start. Only `http` links are followed, on the start URL's host and port unless
/// [`CrawlConfig::all_hosts`]. Only `text/html` responses are searched for links. Bodies are
/// dropped once their links are extracted (and the page saved), so memory follows the frontier.
pub async fn crawl(
    config: &CrawlConfig,
    shutdown: impl Future<Output = ()>,
    on_page: impl FnMut(&PageResult) -> ControlFlow<()>,
) -> CrawlSummary {
    todo!("stage 3: a loop that starts tasks from the frontier within the limits and handles each as it ends")
}

// TODO(stage 3): what the tasks share (the Client, the config, a map of Hosts), and the task
// itself: robots.txt, the host's turn, the request, retries with backoff, links, saving.
