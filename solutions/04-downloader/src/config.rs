//! What to download and how: one validated run, built from the command line
//! ([`Config::try_from`]) or by a test.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::Cli;
use crate::{Error, Url};

/// The default size of one chunk: large enough that a request's round trip is small beside its
/// transfer, small enough that four connections share a file of a few tens of MiB.
pub const DEFAULT_CHUNK_SIZE: u64 = 4 << 20;

/// One download.
#[derive(Debug, Clone)]
pub struct Config {
    /// What to download.
    pub url: Url,
    /// Where to put it; `None` means the URL's last path segment in the current directory.
    pub output: Option<PathBuf>,
    /// How many connections (worker threads) to use, at least 1.
    pub connections: usize,
    /// The size of one chunk, the unit of work and of resumption, at least 1.
    pub chunk_size: u64,
    /// The expected SHA-256 of the whole file: checked before the destination is created.
    pub sha256: Option<[u8; 32]>,
    /// Continue a partial download from its state file. Without it, an existing state file is an
    /// error rather than being silently discarded or continued.
    pub resume: bool,
    /// How many times one request may fail in a row before the download fails. A request that
    /// received bytes before failing starts the count again.
    pub retries: u32,
    /// The wait before the first retry; it doubles with every failure in a row, up to `max_backoff`.
    pub backoff: Duration,
    /// The longest wait between two retries.
    pub max_backoff: Duration,
    /// How long to wait for a connection to be accepted.
    pub connect_timeout: Duration,
    /// A connection on which no byte arrives for this long is stalled: it is dropped and its chunk's
    /// remainder is fetched again on a new one.
    pub stall_timeout: Duration,
    /// How often, at most, the state file is rewritten while bytes arrive.
    pub save_interval: Duration,
    /// The most bytes written but not yet synced and recorded in the state file. Workers wait when
    /// there are more, so a crash never loses more than this (plus what is in the socket buffers),
    /// even when the network is faster than the disk.
    pub max_unsynced: u64,
    /// Draw a progress bar on standard error.
    pub progress: bool,
    /// Write a line naming the file saved, and its size, to the output of [`crate::run()`].
    pub report: bool,
}

impl Config {
    /// A download of `url` with the defaults: 4 connections, 4 MiB chunks, 5 retries starting at
    /// 250 ms, 10 s connect and stall timeouts, the state saved every 20 ms with at most 16 MiB
    /// unsynced, no progress bar, no report.
    pub fn new(url: Url) -> Config {
        Config {
            url,
            output: None,
            connections: 4,
            chunk_size: DEFAULT_CHUNK_SIZE,
            sha256: None,
            resume: false,
            retries: 5,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(10),
            save_interval: Duration::from_millis(20),
            max_unsynced: 16 << 20,
            progress: false,
            report: false,
        }
    }

    /// The file the download ends up in: `output`, or the URL's last path segment (`index.html`
    /// when the path ends in `/`).
    pub fn destination(&self) -> PathBuf {
        self.output.clone().unwrap_or_else(|| PathBuf::from(self.url.file_name().unwrap_or("index.html")))
    }
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot (a timeout that is a positive number of seconds) and decides on the
    /// progress bar: only when standard error is a terminal.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        let timeout =
            Duration::try_from_secs_f64(cli.timeout).ok().filter(|timeout| !timeout.is_zero()).ok_or_else(
                || Error::BadOption(format!("--timeout {} is not a positive number of seconds", cli.timeout)),
            )?;
        let mut config = Config::new(cli.url);
        config.output = cli.output;
        config.connections = usize::from(cli.connections);
        config.chunk_size = cli.chunk_size;
        config.sha256 = cli.sha256;
        config.resume = cli.resume;
        config.retries = cli.retries;
        config.connect_timeout = timeout;
        config.stall_timeout = timeout;
        config.progress = !cli.quiet && std::io::stderr().is_terminal();
        config.report = !cli.quiet;
        Ok(config)
    }
}

/// The temporary file the bytes are written into until the download is complete: `FILE.part`, in
/// the destination's directory so that the final rename stays on one file system.
pub fn part_path(destination: &Path) -> PathBuf {
    with_suffix(destination, ".part")
}

/// The state file that makes a download resumable: `FILE.part.state`.
pub fn state_path(destination: &Path) -> PathBuf {
    with_suffix(destination, ".part.state")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_timeout_that_is_not_positive_is_a_usage_error() {
        for timeout in ["0", "-1", "nan"] {
            let arg = format!("--timeout={timeout}");
            let cli = Cli::try_parse_from(["downloader", "http://127.0.0.1/f", &arg]).unwrap();
            let err = Config::try_from(cli).unwrap_err();
            assert_eq!(err.exit_code(), 2, "the exit code of --timeout {timeout}: {err}");
        }
    }
}
