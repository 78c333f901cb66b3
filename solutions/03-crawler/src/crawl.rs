//! The crawl: a breadth-first walk of a site by many concurrent tasks, each URL fetched once,
//! within a depth and a page budget, with limits per host and overall, a politeness delay, retries
//! with backoff, `robots.txt`, and a shutdown that keeps the results so far.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::error::HttpError;
use crate::frontier::Frontier;
use crate::host::Host;
use crate::http::{Client, ClientConfig, Response};
use crate::links::extract_links;
use crate::page::PageResult;
use crate::robots::Robots;
use crate::save::save_page;
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
    mut on_page: impl FnMut(&PageResult) -> ControlFlow<()>,
) -> CrawlSummary {
    // ANCHOR: crawl
    let shared = Arc::new(Shared {
        client: Client::new(config.client.clone()),
        config: config.clone(),
        hosts: Mutex::new(HashMap::new()),
    });
    let start = config.start.normalize();
    let mut frontier = Frontier::new();
    frontier.offer(start.clone(), 0);
    let mut tasks = JoinSet::new();
    let mut in_flight: BTreeMap<usize, usize> = BTreeMap::new();
    let mut started = 0;
    let mut summary = CrawlSummary::default();
    tokio::pin!(shutdown);
    loop {
        while tasks.len() < config.concurrency.max(1) && started < config.max_pages {
            let Some(depth) = frontier.next_depth() else { break };
            // A URL's depth is final once no page two or more levels above it is still being
            // fetched: only such a page could find it by a shorter path.
            if in_flight.range(..depth.saturating_sub(1)).any(|(_, &n)| n > 0) {
                break;
            }
            let Some((url, depth)) = frontier.pop() else { break };
            started += 1;
            *in_flight.entry(depth).or_default() += 1;
            tasks.spawn(visit(Arc::clone(&shared), url, depth));
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            biased;
            () = &mut shutdown => {
                summary.interrupted = true;
                break;
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let (depth, visited) = match joined {
            Ok(done) => done,
            Err(err) => std::panic::resume_unwind(err.into_panic()),
        };
        *in_flight.entry(depth).or_default() -= 1;
        let Visited::Page { result, links, redirected } = visited else {
            started -= 1;
            summary.disallowed += 1;
            continue;
        };
        if let Some(target) = redirected {
            frontier.mark_taken(target);
        }
        if depth < config.max_depth {
            for link in links {
                if shared.in_scope(&link, &start) {
                    frontier.offer(link, depth + 1);
                }
            }
        }
        summary.pages += 1;
        summary.errors += usize::from(result.error.is_some());
        if on_page(&result).is_break() {
            summary.interrupted = true;
            break;
        }
    }
    tasks.abort_all();
    summary
    // ANCHOR_END: crawl
}

/// What every task shares.
struct Shared {
    client: Client,
    config: CrawlConfig,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

/// What one task found.
enum Visited {
    /// `robots.txt` forbids the URL: nothing was fetched.
    Disallowed,
    /// The URL was fetched (or failed).
    Page {
        result: Box<PageResult>,
        /// Its links, normalised, when it was HTML.
        links: Vec<Url>,
        /// Where redirects led, normalised, so that it is not fetched again.
        redirected: Option<Url>,
    },
}

impl Shared {
    /// The state of `url`'s host, made on first use.
    fn host(&self, url: &Url) -> Arc<Host> {
        let key = format!("{}:{}", url.host().unwrap_or_default(), url.port_or_default().unwrap_or(80));
        let mut hosts = self.hosts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(hosts.entry(key).or_insert_with(|| Arc::new(Host::new(self.config.per_host))))
    }

    /// Whether a link should be followed.
    fn in_scope(&self, link: &Url, start: &Url) -> bool {
        link.scheme() == "http"
            && (self.config.all_hosts || (link.host() == start.host() && link.port() == start.port()))
    }
}

/// Fetches one URL: robots, politeness, retries; extracts links and saves the page.
async fn visit(shared: Arc<Shared>, url: Url, depth: usize) -> (usize, Visited) {
    // ANCHOR: visit
    let config = &shared.config;
    let host = shared.host(&url);
    let mut delay = config.delay;
    let mut result = PageResult {
        url: url.to_string(),
        status: None,
        depth,
        bytes: 0,
        links: 0,
        ms: 0,
        error: None,
        content_type: None,
        attempts: 0,
        redirected_to: None,
    };
    if config.obey_robots && url.host().is_some() {
        match host.robots.get_or_init(|| fetch_robots(&shared, &host, &url)).await {
            Ok(robots) if robots.is_allowed(&url.request_target()) => {
                delay = delay.max(robots.crawl_delay().unwrap_or_default());
            }
            Ok(_) => return (depth, Visited::Disallowed),
            Err(err) => {
                result.error = Some(format!("cannot fetch robots.txt: {err}"));
                return (
                    depth,
                    Visited::Page { result: Box::new(result), links: Vec::new(), redirected: None },
                );
            }
        }
    }
    let mut attempts = 0;
    let mut first_start = None;
    let outcome = loop {
        let permit = host.turn(delay).await;
        let started = Instant::now();
        first_start.get_or_insert(started);
        attempts += 1;
        let outcome = shared.client.get(&url).await;
        drop(permit);
        let transient = match &outcome {
            Ok(response) => (500..600).contains(&response.status()),
            Err(err) => err.is_transient(),
        };
        if !transient || attempts > config.retries {
            break outcome;
        }
        tokio::time::sleep(config.backoff * 2u32.saturating_pow(attempts - 1)).await;
    };
    result.ms = first_start.map_or(0, |start| start.elapsed().as_millis() as u64);
    result.attempts = attempts;
    let response = match outcome {
        Ok(response) => response,
        Err(err) => {
            result.error = Some(err.to_string());
            return (depth, Visited::Page { result: Box::new(result), links: Vec::new(), redirected: None });
        }
    };
    let html = response.is_html();
    let Response { url: final_url, head, body } = response;
    let final_url = final_url.normalize();
    let links = if html { extract_links(&body, &final_url) } else { Vec::new() };
    result.status = Some(head.status);
    result.bytes = body.len() as u64;
    result.links = links.len();
    result.content_type = head.header("content-type").map(str::to_owned);
    let redirected = (final_url != url).then(|| final_url.clone());
    result.redirected_to = redirected.as_ref().map(Url::to_string);
    if let (Some(dir), 200..=299) = (&config.save, head.status) {
        if let Err(err) = save_page(dir, &final_url, body).await {
            result.error = Some(format!("cannot save {final_url}: {err}"));
        }
    }
    (depth, Visited::Page { result: Box::new(result), links, redirected })
    // ANCHOR_END: visit
}

/// Fetches `robots.txt` for `url`'s host: 2xx is parsed, 4xx allows everything, 5xx disallows
/// everything, as Google's crawler does. When the host cannot be reached at all the error is
/// returned, to be reported on each of its pages.
async fn fetch_robots(shared: &Shared, host: &Host, url: &Url) -> Result<Robots, String> {
    let Ok(robots_url) = url.join("/robots.txt") else { return Ok(Robots::allow_all()) };
    let permit = host.turn(shared.config.delay).await;
    let response = shared.client.get(&robots_url).await;
    drop(permit);
    match response {
        Ok(response) if (200..300).contains(&response.status()) => {
            Ok(Robots::parse(&String::from_utf8_lossy(&response.body), &shared.config.client.user_agent))
        }
        Ok(response) if (400..500).contains(&response.status()) => Ok(Robots::allow_all()),
        Ok(_) => Ok(Robots::disallow_all()),
        Err(err @ (HttpError::Connect { .. } | HttpError::ConnectTimeout { .. })) => Err(err.to_string()),
        Err(_) => Ok(Robots::disallow_all()),
    }
}
