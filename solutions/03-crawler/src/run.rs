//! Running a [`Config`]: the crawl, its JSON lines written as they arrive, a progress line on a
//! terminal, and how it ended ([`Outcome`]).

use std::fs::File;
use std::future::Future;
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::crawl::{CrawlSummary, crawl};
use crate::error::Error;

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
    // ANCHOR: run
    let mut file;
    let out: &mut dyn Write = match &config.out {
        Some(path) => {
            let created = File::create(path).map_err(Error::file(path))?;
            file = io::BufWriter::new(created);
            &mut file
        }
        None => stdout,
    };
    let progress = (config.progress && io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} pages, {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    let mut written = Ok(());
    let mut start_error = None;
    let summary = crawl(&config.crawl, shutdown, |page| {
        if let (0, Some(error)) = (page.depth, &page.error) {
            start_error = Some(error.clone());
        }
        if let Some(bar) = &progress {
            bar.inc(1);
            bar.set_message(page.url.clone());
        }
        let line = serde_json::to_string(page).expect("a PageResult always serialises");
        written = writeln!(out, "{line}").and_then(|()| out.flush());
        if written.is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
    })
    .await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    written.map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    if let Some(reason) = start_error {
        return Err(Error::Start { url: config.crawl.start.to_string(), reason });
    }
    Ok(Outcome { summary })
    // ANCHOR_END: run
}
