//! Stage 3: the crawl. `robots.txt` rules, then whole crawls of fixture sites: exactly the pages
//! within the depth, each fetched once, limits per host and overall, the politeness delay,
//! retries with backoff, robots obeyed, other hosts left alone, and a shutdown that keeps the
//! results so far.

mod common;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use common::{
    TEST_DEADLINE, assert_spaced, crawl_all, crawl_config, crawl_until, fetched_paths, page_linking,
    page_requests, request_counts, start_gaps, target_of,
};
use crawler::Robots;
use proptest::prelude::*;
use testkit::test;
use testkit::web::{Fault, Route, Site, SiteSpec, WebServer};

const UA: &str = "crawler-lab/0.1 (+https://example.invalid)";

#[test]
fn robots_picks_the_most_specific_group() {
    let text = "\
User-agent: *
Disallow: /

User-agent: crawler
Disallow: /generic

User-agent: Crawler-Lab
User-agent: other-bot
Disallow: /private
Allow: /private/open

user-agent: CRAWLER-LAB
disallow: /merged
";
    let ours = Robots::parse(text, UA);
    assert!(!ours.is_allowed("/private/x"), "our group disallows /private");
    assert!(ours.is_allowed("/private/open/x"), "and allows /private/open");
    assert!(!ours.is_allowed("/merged/y"), "two groups for the same agent are merged");
    assert!(ours.is_allowed("/generic"), "a less specific group does not apply");
    assert!(ours.is_allowed("/"), "nor does the * group");

    let other = Robots::parse(text, "other-bot/2.0");
    assert!(!other.is_allowed("/private/x") && other.is_allowed("/merged/y"), "a group with two agents");
    let generic = Robots::parse(text, "crawler/9");
    assert!(
        !generic.is_allowed("/generic/1") && generic.is_allowed("/private/x"),
        "crawler/9 follows the crawler group: /generic/1 disallowed, /private/x allowed"
    );
    let ours_first =
        Robots::parse("User-agent: crawler-lab\nDisallow: /a\n\nUser-agent: *\nDisallow: /\n", UA);
    assert!(
        !ours_first.is_allowed("/a") && ours_first.is_allowed("/b"),
        "a less specific group after ours does not replace it"
    );
    let anyone = Robots::parse(text, "someone-else/1.0");
    assert!(!anyone.is_allowed("/") && !anyone.is_allowed("/a/b"), "the * group disallows everything");
    assert!(anyone.is_allowed("/robots.txt"), "robots.txt itself is always allowed");
}

#[test]
fn robots_rules_take_the_longest_match_and_allow_wins_ties() {
    let text = "\
# a comment line
User-agent: *
Disallow: /private        # a comment after a value
Allow: /private/public
DISALLOW: /*.pdf$
Disallow: /search?
Allow: /page
Disallow: /page
Disallow: /a*b*c
Disallow:
Crawl-delay: 1.5
Sitemap: http://h.test/sitemap.xml
";
    let robots = Robots::parse(text, UA);
    let cases = [
        ("/", true),
        ("/private", false),
        ("/private/x", false),
        ("/privateer", false),
        ("/private/public/x", true),
        ("/doc.pdf", false),
        ("/dir/doc.pdf", false),
        ("/doc.pdf?download=1", true),
        ("/doc.pdfx", true),
        ("/search?q=1", false),
        ("/search", true),
        ("/page", true),
        ("/a-x-b-y-c", false),
        ("/a-x-c", true),
    ];
    for (target, allowed) in cases {
        assert_eq!(robots.is_allowed(target), allowed, "is_allowed({target:?})");
    }
    assert_eq!(
        robots.crawl_delay(),
        Some(Duration::from_millis(1500)),
        "the crawl delay of \"Crawl-delay: 1.5\""
    );

    // The order of the rules does not matter: the longest match wins wherever it stands, and Allow
    // wins a tie whether it comes first or last.
    let text = "\
User-agent: *
Allow: /x/y
Disallow: /x
Disallow: /tie
Allow: /tie
Allow: /p
Disallow: /p/q
Disallow: /w*y*y
Disallow: /*.pdf$
";
    let robots = Robots::parse(text, UA);
    let cases = [
        ("/x/y/z", true),
        ("/x/z", false),
        ("/tie", true),
        ("/p/q", false),
        ("/p/r", true),
        ("/w-y", true),
        ("/w-y-y", false),
        ("/a.pdf.pdf", false),
        ("/a.pdf.pdfx", true),
    ];
    for (target, allowed) in cases {
        assert_eq!(robots.is_allowed(target), allowed, "is_allowed({target:?}) with the longer rules first");
    }
    for delay in ["-1", "inf", "NaN", "soon"] {
        let robots = Robots::parse(&format!("User-agent: *\nCrawl-delay: {delay}\n"), UA);
        assert_eq!(robots.crawl_delay(), None, "\"Crawl-delay: {delay}\" is no delay");
    }

    assert!(Robots::parse("", UA).is_allowed("/anything"), "an empty robots.txt allows everything");
    assert!(
        Robots::parse("Disallow: /x\n", UA).is_allowed("/x"),
        "rules before any User-agent belong to no group"
    );
    assert!(Robots::allow_all().is_allowed("/x"), "allow_all() allows /x");
    assert!(!Robots::disallow_all().is_allowed("/x"), "disallow_all() disallows /x");
    assert!(Robots::disallow_all().is_allowed("/robots.txt"), "disallow_all() allows /robots.txt");
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn no_robots_txt_makes_the_parser_panic(
        lines in proptest::collection::vec(
            (prop::sample::select(vec!["User-agent", "Allow", "Disallow", "Crawl-delay", "user-AGENT", "x", ""]),
             "[ -~]{0,12}"),
            0..12,
        ),
        target in "/[ -~]{0,12}",
    ) {
        let text: String = lines.iter().map(|(field, value)| format!("{field}: {value}\n")).collect();
        let robots = Robots::parse(&text, UA);
        let _ = robots.is_allowed(&target);
        prop_assert!(robots.is_allowed("/robots.txt"), "/robots.txt is allowed by {:?}", text);
    }
}

/// Pages `/p0` … `/p{n-1}`, each answering after `delay`, all linked from `/`.
fn fan_out_site(n: usize, delay: Duration) -> Site {
    let hrefs: Vec<String> = (0..n).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    let mut site = Site::new().page("/", page_linking(&refs));
    for href in &hrefs {
        site = site.route(href, Route::html(page_linking(&["/"])).with(Fault::Delay(delay)));
    }
    site
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn crawls_exactly_the_pages_within_the_depth() {
    let site = SiteSpec { pages: 300, links_per_page: 6, page_bytes: 1500, seed: 7 }.generate();
    for max_depth in [0, 1, 2, 100] {
        let server = WebServer::start(site.to_site());
        let mut config = crawl_config(&server);
        config.max_depth = max_depth;
        config.max_pages = 100_000;
        config.concurrency = 8;
        config.per_host = 8;
        let (results, summary) = crawl_all(&config).await;
        assert!(!summary.interrupted, "a crawl to depth {max_depth} ran to its end: {summary:?}");
        let html: Vec<_> = results
            .iter()
            .filter(|r| {
                r.status == Some(200) && r.content_type.as_deref().is_some_and(|t| t.starts_with("text/html"))
            })
            .collect();
        let found: BTreeSet<String> =
            fetched_paths(&html.iter().map(|r| (*r).clone()).collect::<Vec<_>>()).into_keys().collect();
        let expected: BTreeSet<String> = site.pages_within(max_depth).into_iter().collect();
        assert_eq!(
            found.len(),
            expected.len(),
            "depth {max_depth}: found {} pages, expected {}; missing {:?}, extra {:?}",
            found.len(),
            expected.len(),
            expected.difference(&found).take(5).collect::<Vec<_>>(),
            found.difference(&expected).take(5).collect::<Vec<_>>()
        );
        assert_eq!(found, expected, "depth {max_depth}");
        for result in &html {
            let path = target_of(result);
            let path = if path == "/index.html" { "/".to_owned() } else { path };
            assert_eq!(
                Some(&result.depth),
                site.depth.get(&path),
                "{path}: the depth is the shortest link distance"
            );
        }
        for (target, count) in request_counts(&server) {
            assert_eq!(count, 1, "depth {max_depth}: {target} was requested {count} times");
        }
        assert_eq!(
            summary.pages,
            results.len(),
            "the summary's page count against the results, depth {max_depth}"
        );
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_page_a_longer_path_finds_first_still_gets_its_shortest_depth() {
    // `/slow` (depth 1) links to `/x`, and answers late. Meanwhile the quick path `/fast` →
    // `/fast/next` → `/x` finds `/x` at depth 3. Its depth is 2 all the same: a URL waits while a
    // page that could still find it by a shorter path is being fetched.
    let site = Site::new()
        .page("/", page_linking(&["/slow", "/fast"]))
        .route("/slow", Route::html(page_linking(&["/x"])).with(Fault::Delay(Duration::from_millis(500))))
        .page("/fast", page_linking(&["/fast/next"]))
        .page("/fast/next", page_linking(&["/x"]))
        .page("/x", "x");
    let server = WebServer::start(site);
    let mut config = crawl_config(&server);
    config.concurrency = 4;
    config.per_host = 4;
    let (results, _) = crawl_all(&config).await;
    let depths: Vec<(String, usize)> = results.iter().map(|r| (target_of(r), r.depth)).collect();
    let x = results.iter().find(|r| target_of(r) == "/x").unwrap_or_else(|| panic!("no /x in {depths:?}"));
    assert_eq!(x.depth, 2, "the depth of /x, one link below /slow: {depths:?}");
    assert_eq!(server.requests_for("/x").len(), 1, "/x is requested once");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn disallowed_urls_and_failures_are_counted_and_disallowed_ones_cost_no_budget() {
    // Four links forbidden by robots.txt come first; a budget of 4 still fetches 4 pages.
    let site = Site::new()
        .robots("User-agent: *\nDisallow: /private\n")
        .page("/", page_linking(&["/private1", "/private2", "/private3", "/private4", "/a", "/b", "/gone"]))
        .page("/a", "a")
        .page("/b", "b")
        .route("/gone", Route::html("never").with(Fault::ResetTimes(100)));
    let server = WebServer::start(site);
    let mut config = crawl_config(&server);
    config.max_pages = 4;
    config.retries = 0;
    let (results, summary) = crawl_all(&config).await;
    let fetched: BTreeSet<String> = fetched_paths(&results).into_keys().collect();
    let expected: BTreeSet<String> = ["/", "/a", "/b", "/gone"].map(str::to_owned).into();
    assert_eq!(fetched, expected, "--max-pages 4 with 4 disallowed links: the 4 allowed URLs are fetched");
    assert_eq!(summary.disallowed, 4, "the URLs robots.txt forbids: {summary:?}");
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    assert_eq!(failed, 1, "the one result with an error, /gone's reset: {results:?}");
    assert_eq!(summary.errors, failed, "the summary counts the results with an error: {summary:?}");
    assert_eq!(summary.pages, results.len(), "the summary counts the results: {summary:?}");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn each_url_is_fetched_once_however_it_is_spelled() {
    let server = WebServer::start(Site::new());
    let base = server.url("");
    let spellings = [
        "/a".to_owned(),
        "a".to_owned(),
        "./a".to_owned(),
        "/a#section".to_owned(),
        "/b/../a".to_owned(),
        format!("{base}/a"),
        format!("{}/a", base.replace("http://", "HTTP://")),
        "/".to_owned(),
        "/./".to_owned(),
    ];
    let refs: Vec<&str> = spellings.iter().map(String::as_str).collect();
    server.set_route("/", Route::html(page_linking(&refs)));
    server.set_route("/a", Route::html(page_linking(&["/", "a", "/a?"])));
    let mut config = crawl_config(&server);
    config.concurrency = 4;
    let (results, _) = crawl_all(&config).await;
    let counts = request_counts(&server);
    assert_eq!(counts.get("/"), Some(&1), "requests for / under many spellings: {counts:?}");
    assert_eq!(counts.get("/a"), Some(&1), "requests for /a under many spellings: {counts:?}");
    assert_eq!(counts.get("/a?"), Some(&1), "a query, even empty, makes another URL: {counts:?}");
    assert_eq!(results.len(), 3, "one result per URL: {results:?}");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_per_host_limit_holds_and_is_used() {
    for per_host in [1, 2, 6] {
        let server = WebServer::start(fan_out_site(18, Duration::from_millis(40)));
        let mut config = crawl_config(&server);
        config.per_host = per_host;
        config.concurrency = 16;
        let (results, _) = crawl_all(&config).await;
        assert_eq!(
            results.len(),
            19,
            "results of / and 18 pages, --per-host {per_host}: {:?}",
            fetched_paths(&results)
        );
        let max = server.max_in_flight();
        assert!(max <= per_host, "--per-host {per_host}: the server saw {max} requests at once");
        if per_host > 1 {
            assert!(max > 1, "--per-host {per_host}: requests should overlap, the server saw at most {max}");
        }
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn each_host_has_a_limit_of_its_own() {
    // Two hosts (two ports), eight slow pages on each, all linked from the first one's start page:
    // with --per-host 1 each host sees one request at a time, and the two hosts are crawled side
    // by side, not one after the other as under a single limit shared by every host.
    let slow = Duration::from_millis(100);
    let other = WebServer::start(fan_out_site(8, slow));
    let mut hrefs: Vec<String> = (0..8).map(|i| format!("/p{i}")).collect();
    hrefs.extend((0..8).map(|i| other.url(&format!("/p{i}"))));
    let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    let mut site = Site::new().page("/", page_linking(&refs));
    for i in 0..8 {
        site = site.route(&format!("/p{i}"), Route::html(page_linking(&["/"])).with(Fault::Delay(slow)));
    }
    let server = WebServer::start(site);
    let mut config = crawl_config(&server);
    config.all_hosts = true;
    config.per_host = 1;
    config.concurrency = 4;
    let (results, _) = crawl_all(&config).await;
    assert_eq!(
        results.len(),
        18,
        "results of both start pages and 8 pages on each host: {:?}",
        fetched_paths(&results)
    );
    for (name, host) in [("the first", &server), ("the second", &other)] {
        let max = host.max_in_flight();
        assert_eq!(max, 1, "--per-host 1: {name} host saw {max} requests at once");
    }
    let overlapping = page_requests(&server).iter().any(|here| {
        page_requests(&other).iter().any(|there| {
            let (Some(here_end), Some(there_end)) = (here.finished, there.finished) else { return false };
            here.started < there_end && there.started < here_end
        })
    });
    assert!(
        overlapping,
        "--per-host 1 on two hosts: no request to one was in flight during a request to the other, as if \
         one limit held both hosts"
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_global_limit_holds() {
    let server = WebServer::start(fan_out_site(18, Duration::from_millis(40)));
    let mut config = crawl_config(&server);
    config.per_host = 16;
    config.concurrency = 3;
    let (results, _) = crawl_all(&config).await;
    assert_eq!(
        results.len(),
        19,
        "results of / and 18 pages, --concurrency 3: {:?}",
        fetched_paths(&results)
    );
    let max = server.max_in_flight();
    assert!((2..=3).contains(&max), "--concurrency 3: the server saw {max} requests at once");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_politeness_delay_spaces_request_starts() {
    let server = WebServer::start(fan_out_site(5, Duration::ZERO));
    let mut config = crawl_config(&server);
    config.delay = Duration::from_millis(200);
    config.per_host = 4;
    let started = Instant::now();
    let (results, _) = crawl_all(&config).await;
    assert_eq!(results.len(), 6, "results of / and 5 pages with a delay: {:?}", fetched_paths(&results));
    let requests = server.requests();
    assert_eq!(requests.len(), 7, "robots.txt and six pages");
    assert_spaced(&requests, Duration::from_millis(200), Duration::from_millis(150));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "time to crawl 6 pages 200 ms apart: {:?}",
        started.elapsed()
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_delay_in_robots_txt_raises_the_delay() {
    let server =
        WebServer::start(fan_out_site(4, Duration::ZERO).robots("User-agent: *\nCrawl-delay: 0.25\n"));
    let mut config = crawl_config(&server);
    config.per_host = 4;
    config.delay = Duration::from_millis(10);
    let (results, _) = crawl_all(&config).await;
    assert_eq!(
        results.len(),
        5,
        "results of / and 4 pages with a Crawl-delay: {:?}",
        fetched_paths(&results)
    );
    // Crawl-delay applies once robots.txt is known: between the pages.
    assert_spaced(&page_requests(&server), Duration::from_millis(250), Duration::from_millis(150));
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_is_fetched_once_and_obeyed() {
    let robots = "User-agent: *\nDisallow: /private\nAllow: /private/open\n";
    let site = Site::new()
        .robots(robots)
        .page("/", page_linking(&["/private/a", "/private/open/b", "/public", "/p1", "/p2", "/p3"]))
        .page("/private/a", "secret")
        .page("/private/open/b", page_linking(&["/private/c"]))
        .page("/private/c", "secret")
        .page("/public", "public")
        .page("/p1", "1")
        .page("/p2", "2")
        .page("/p3", "3");
    let server = WebServer::start(site.clone());
    let mut config = crawl_config(&server);
    config.concurrency = 8;
    let (results, summary) = crawl_all(&config).await;
    let fetched: BTreeSet<String> = fetched_paths(&results).into_keys().collect();
    let expected: BTreeSet<String> =
        ["/", "/private/open/b", "/public", "/p1", "/p2", "/p3"].map(str::to_owned).into();
    assert_eq!(fetched, expected, "the pages fetched under \"Disallow: /private, Allow: /private/open\"");
    assert!(server.requests_for("/private/a").is_empty(), "a disallowed page is never requested");
    assert!(server.requests_for("/private/c").is_empty(), "a disallowed page is never requested");
    assert_eq!(server.requests_for("/robots.txt").len(), 1, "robots.txt is fetched once per host");
    assert_eq!(summary.disallowed, 2, "pages disallowed: /private/a and /private/c");

    let server = WebServer::start(site);
    let mut config = crawl_config(&server);
    config.obey_robots = false;
    let (results, _) = crawl_all(&config).await;
    assert_eq!(results.len(), 8, "with robots ignored everything is fetched");
    assert!(server.requests_for("/robots.txt").is_empty(), "and robots.txt is not even asked for");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_robots_txt_allows_all_and_a_failing_one_allows_nothing() {
    let server = WebServer::start(fan_out_site(3, Duration::ZERO));
    let (results, _) = crawl_all(&crawl_config(&server)).await;
    assert_eq!(results.len(), 4, "robots.txt is a 404: everything is allowed");

    let server = WebServer::start(fan_out_site(3, Duration::ZERO).route("/robots.txt", Route::status(503)));
    let (results, summary) = crawl_all(&crawl_config(&server)).await;
    assert!(results.is_empty(), "robots.txt fails with 503: nothing may be fetched, got {results:?}");
    assert_eq!(summary.disallowed, 1, "pages disallowed when robots.txt fails: the start page");
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/robots.txt"], "the targets requested when robots.txt fails with 503");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_backoff() {
    let site = Site::new()
        .page("/", page_linking(&["/flaky", "/broken", "/reset"]))
        .route("/flaky", Route::html("ok at last").with(Fault::FailTimes(2, 503)))
        .route("/broken", Route::html("never").with(Fault::FailTimes(100, 500)))
        .route("/reset", Route::html("ok").with(Fault::ResetTimes(1)));
    let server = WebServer::start(site.clone());
    let mut config = crawl_config(&server);
    config.retries = 2;
    config.backoff = Duration::from_millis(50);
    let (results, _) = crawl_all(&config).await;
    let result = |path: &str| {
        results.iter().find(|r| target_of(r) == path).unwrap_or_else(|| panic!("no result for {path}"))
    };
    assert_eq!(
        (result("/flaky").status, result("/flaky").attempts),
        (Some(200), 3),
        "two 503s, then success"
    );
    assert_eq!(
        (result("/broken").status, result("/broken").attempts),
        (Some(500), 3),
        "gives up after 2 retries"
    );
    assert_eq!(result("/reset").status, Some(200), "a reset is retried: {:?}", result("/reset"));
    assert_eq!(server.requests_for("/flaky").len(), 3, "requests for /flaky, 503 twice, with 2 retries");
    assert_eq!(server.requests_for("/broken").len(), 3, "requests for /broken, always 500, with 2 retries");
    let gaps = start_gaps(&server.requests_for("/flaky"));
    assert!(gaps[0] >= Duration::from_millis(45), "the first retry waits the backoff: {gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(95), "the second waits twice as long: {gaps:?}");

    let server = WebServer::start(site);
    let mut config = crawl_config(&server);
    config.retries = 0;
    let (results, _) = crawl_all(&config).await;
    let flaky = results.iter().find(|r| target_of(r) == "/flaky").unwrap();
    assert_eq!((flaky.status, flaky.attempts), (Some(503), 1), "no retries");
    assert_eq!(server.requests_for("/flaky").len(), 1, "requests for /flaky with no retries");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn other_hosts_are_left_alone_unless_asked() {
    let other = WebServer::start(Site::new().page("/elsewhere", "<p>elsewhere</p>"));
    let elsewhere = other.url("/elsewhere");
    let site = Site::new().page("/", page_linking(&[&elsewhere, "/here"])).page("/here", "here");
    let server = WebServer::start(site.clone());
    let (results, _) = crawl_all(&crawl_config(&server)).await;
    assert_eq!(results.len(), 2, "results without --all-hosts: {:?}", fetched_paths(&results));
    assert!(other.requests().is_empty(), "another host (another port) is not crawled by default");

    let server = WebServer::start(site);
    let mut config = crawl_config(&server);
    config.all_hosts = true;
    let (results, _) = crawl_all(&config).await;
    assert_eq!(results.len(), 3, "results with --all-hosts: {:?}", fetched_paths(&results));
    assert_eq!(other.requests_for("/elsewhere").len(), 1, "--all-hosts follows it");
    assert_eq!(other.requests_for("/robots.txt").len(), 1, "after asking that host's robots.txt");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_page_budget_and_depth_zero_are_respected() {
    let site = SiteSpec { pages: 200, links_per_page: 5, page_bytes: 1000, seed: 3 }.generate();
    let server = WebServer::start(site.to_site());
    let mut config = crawl_config(&server);
    config.max_pages = 10;
    config.max_depth = 100;
    let (results, _) = crawl_all(&config).await;
    assert_eq!(results.len(), 10, "--max-pages 10");
    assert!(page_requests(&server).len() <= 10, "no more than 10 pages requested");

    let server = WebServer::start(site.to_site());
    let mut config = crawl_config(&server);
    config.max_depth = 0;
    let (results, _) = crawl_all(&config).await;
    assert_eq!(
        results.iter().map(target_of).collect::<Vec<_>>(),
        ["/"],
        "--depth 0 fetches the start page only"
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn only_html_is_searched_for_links_and_redirects_are_followed() {
    let site = Site::new()
        .page("/", page_linking(&["/notes.txt", "/old"]))
        .route("/notes.txt", Route::ok("text/plain", &b"<a href=\"/hidden\">not a link in text</a>"[..]))
        .route("/old", Route::redirect(301, "/dir/new"))
        .page("/dir/new", page_linking(&["next.html"]))
        .page("/dir/next.html", "the end")
        .page("/hidden", "hidden");
    let server = WebServer::start(site);
    let (results, _) = crawl_all(&crawl_config(&server)).await;
    assert!(server.requests_for("/hidden").is_empty(), "links in a text/plain body are not links");
    let notes = results.iter().find(|r| target_of(r) == "/notes.txt").expect("the text file is fetched");
    assert_eq!((notes.status, notes.links), (Some(200), 0), "(status, links) of /notes.txt, text/plain");
    let old = results.iter().find(|r| target_of(r) == "/old").expect("the redirected URL has a result");
    assert_eq!(old.status, Some(200), "the redirect is followed");
    let new = server.url("/dir/new");
    assert_eq!(old.redirected_to.as_deref(), Some(new.as_str()), "the redirected URL says where it led");
    assert_eq!(notes.redirected_to, None, "a URL that was not redirected has no redirected_to");
    assert_eq!(
        server.requests_for("/dir/next.html").len(),
        1,
        "links resolve against where the redirect led"
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_crawl_and_keeps_the_results_so_far() {
    let server = WebServer::start(fan_out_site(30, Duration::from_millis(200)));
    let mut config = crawl_config(&server);
    config.per_host = 2;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let mut results = Vec::new();
    let started = Instant::now();
    let crawl = crawler::crawl(
        &config,
        async {
            let _ = rx.await;
        },
        |page| {
            results.push(page.clone());
            if results.len() == 3 {
                let _ = tx.take().map(|tx| tx.send(()));
            }
            ControlFlow::Continue(())
        },
    );
    let summary = tokio::time::timeout(TEST_DEADLINE, crawl).await.expect("the crawl must stop on shutdown");
    assert!(summary.interrupted, "the summary says it was interrupted");
    assert!(results.len() >= 3 && results.len() < 31, "{} results", results.len());
    assert_eq!(summary.pages, results.len(), "every result counted was reported");
    assert!(started.elapsed() < Duration::from_secs(2), "it stopped at once: {:?}", started.elapsed());

    let (results, summary) = crawl_until(&config, std::future::ready(())).await;
    assert!(summary.interrupted && results.len() <= 1, "a shutdown already there stops before it starts");

    let mut seen = 0;
    let summary = crawler::crawl(&config, std::future::pending(), |_| {
        seen += 1;
        ControlFlow::Break(())
    })
    .await;
    assert_eq!((seen, summary.pages, summary.interrupted), (1, 1, true), "the callback can stop the crawl");
}
