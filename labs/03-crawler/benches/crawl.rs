//! A whole crawl of a 1,000-page fixture site on loopback: the client, the frontier and the
//! scheduling together.

use std::ops::ControlFlow;

use crawler::{CrawlConfig, Url, crawl};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use testkit::web::{SiteSpec, WebServer};

fn crawl_site(c: &mut Criterion) {
    let site = SiteSpec { pages: 1000, links_per_page: 8, page_bytes: 2048, seed: 1 }.generate();
    let server = WebServer::start(site.to_site());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let mut config = CrawlConfig::new(Url::parse(&server.url("/")).expect("a valid URL"));
    config.max_depth = 100;
    config.max_pages = 100_000;
    config.concurrency = 16;
    config.per_host = 8;
    let pages = site.pages_within(100).len();
    let mut group = c.benchmark_group("crawl");
    group.sample_size(10);
    group.throughput(Throughput::Elements(pages as u64));
    group.bench_function("1000_pages_per_host_8", |b| {
        b.iter(|| {
            let summary =
                runtime.block_on(crawl(&config, std::future::pending(), |_| ControlFlow::Continue(())));
            assert!(summary.pages >= pages);
            summary.pages
        })
    });
    group.finish();
}

criterion_group!(benches, crawl_site);
criterion_main!(benches);
