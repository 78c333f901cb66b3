//! What one run of `crawler` is asked to do: a validated [`Config`], built by the CLI or by a test.

use std::path::PathBuf;

use crate::crawl::CrawlConfig;
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
