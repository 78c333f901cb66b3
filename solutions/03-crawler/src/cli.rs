//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::path::PathBuf;

use clap::Parser;

/// Crawl a web site over plain HTTP, politely, and report every URL fetched as a JSON line.
///
/// Starts at URL and follows links breadth-first, on the same host and port unless --all-hosts,
/// up to --depth links away. Obeys robots.txt. Each result is printed as it arrives:
/// {"url", "status", "depth", "bytes", "links", "ms", "error", ...}. With --save, pages are also
/// mirrored to disk like wget does (DIR/host:port/path, index.html for directories).
///
/// Only http:// URLs: this crawler speaks no TLS. Ctrl-C or SIGTERM stops the crawl and keeps what
/// was found; a second Ctrl-C ends the process at once.
///
/// Exit status: 0 on success, 1 when the start page cannot be fetched, 2 on a usage error, 130 when
/// interrupted.
#[derive(Debug, Parser)]
#[command(name = "crawler", version, max_term_width = 100)]
pub struct Cli {
    /// The page to start from, as http://HOST/PATH or http://HOST:PORT/PATH.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Follow links up to N steps from the start page (0 fetches only the start page).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub depth: usize,
    /// Fetch at most N URLs.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_pages: usize,
    /// At most N requests in flight over all hosts.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// At most N requests in flight to one host.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub per_host: usize,
    /// Start requests to one host at least MS milliseconds apart (robots.txt's Crawl-delay can
    /// raise this).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub delay: u64,
    /// The User-Agent header, also the name robots.txt rules are matched against.
    #[arg(long, value_name = "S", default_value = crate::DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// Write the JSON lines to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Save every page fetched under DIR, as DIR/host:port/path.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// Give up on a request after SECS seconds without a response head, or with the body incomplete
    /// (the connect timeout is the same).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
    /// Retry a URL that answers 5xx or whose connection fails up to N times, with backoff.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
    /// The largest body accepted, in bytes; a larger one is an error.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body: u64,
    /// Follow links to other hosts too.
    #[arg(long)]
    pub all_hosts: bool,
    /// Do not fetch or obey robots.txt (only on your own sites).
    #[arg(long)]
    pub ignore_robots: bool,
    /// Never draw the progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
