//! What one run of `crawler` is asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::Cli;
use crate::crawl::CrawlConfig;
use crate::error::Error;
use crate::url::Url;

/// One run of `crawler`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The crawl itself.
    pub crawl: CrawlConfig,
    /// Write the JSON lines to this file instead of standard output.
    pub out: Option<PathBuf>,
    /// Draw a progress line on standard error (only ever drawn when it is a terminal).
    pub progress: bool,
}

impl Config {
    /// A run with the crawl defaults ([`CrawlConfig::new`]), results to standard output, no
    /// progress line.
    pub fn new(start: Url) -> Config {
        Config { crawl: CrawlConfig::new(start), out: None, progress: false }
    }
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot: the start URL is an absolute `http://` URL with a host, and the
    /// limits on requests in flight are at least 1.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let bad_url = |reason: String| Error::BadStartUrl { input: cli.url.clone(), reason };
        let start = Url::parse(&cli.url).map_err(|err| bad_url(err.to_string()))?;
        if !start.scheme().eq_ignore_ascii_case("http") {
            let reason = if start.scheme().eq_ignore_ascii_case("https") {
                "https is not supported: this crawler speaks plain HTTP only (no TLS)".to_owned()
            } else {
                format!("scheme {:?} is not http", start.scheme())
            };
            return Err(bad_url(reason));
        }
        if start.host().is_none_or(str::is_empty) {
            return Err(bad_url("it has no host".to_owned()));
        }
        for (name, value) in [("--concurrency", cli.concurrency), ("--per-host", cli.per_host)] {
            if value == 0 {
                return Err(Error::BadOption(format!("{name} must be at least 1")));
            }
        }
        let mut config = Config::new(start);
        let crawl = &mut config.crawl;
        crawl.max_depth = cli.depth;
        crawl.max_pages = cli.max_pages;
        crawl.concurrency = cli.concurrency;
        crawl.per_host = cli.per_host;
        crawl.delay = Duration::from_millis(cli.delay);
        crawl.all_hosts = cli.all_hosts;
        crawl.obey_robots = !cli.ignore_robots;
        crawl.retries = cli.retries;
        crawl.save = cli.save;
        crawl.client.user_agent = cli.user_agent;
        crawl.client.max_body = cli.max_body;
        let timeout = Duration::from_secs(cli.timeout.max(1));
        crawl.client.connect_timeout = timeout;
        crawl.client.header_timeout = timeout;
        crawl.client.body_timeout = timeout * 3;
        config.out = cli.out;
        config.progress = !cli.quiet;
        Ok(config)
    }
}
