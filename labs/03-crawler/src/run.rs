//! Running a [`Config`]: the crawl, its JSON lines written as they arrive, a progress line on a
//! terminal, and how it ended ([`Outcome`]).

use std::future::Future;
use std::io::Write;

use crate::config::Config;
use crate::crawl::CrawlSummary;
use crate::error::Error;

// TODO(stage 4): crawl calls you back once per result: write its serde_json line and flush it
// there, and answer ControlFlow::Break once a write fails. Remember a failed depth-0 page, to return
// as Error::Start after the lines are flushed. An indicatif spinner on stderr only when
// config.progress is set and stderr is a terminal (std::io::IsTerminal).

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What the crawl reported.
    pub summary: CrawlSummary,
}

impl Outcome {
    /// The exit code: 130 when interrupted, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.interrupted { 130 } else { 0 }
    }
}

/// Crawls as `config` says, writing one JSON line per result to `config.out` (or to `stdout`) as
/// results arrive, until done or until `shutdown` completes; the lines written are flushed either
/// way.
///
/// # Errors
///
/// [`Error::File`] when the output file cannot be created, [`Error::Write`] when a line cannot be
/// written, and [`Error::Start`] when the start page could not be fetched at all (its line is
/// written first).
pub async fn run(
    config: &Config,
    shutdown: impl Future<Output = ()>,
    stdout: &mut dyn Write,
) -> Result<Outcome, Error> {
    todo!("stage 4: open the output, crawl, write and flush one JSON line per result")
}
