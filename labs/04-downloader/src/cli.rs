//! The command line: clap's view of the arguments, turned into a [`downloader::Config`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use downloader::{Config, Url};

/// Download one file over several HTTP connections at once, resumably.
///
/// Splits the file into chunks, fetches them over N connections with HTTP range requests, and
/// writes each at its place in FILE.part. Failed or stalled transfers are retried from the last
/// byte written. Progress is saved in FILE.part.state: after Ctrl-C or a crash, the same command
/// with --resume fetches only what is missing. FILE appears only once complete (and verified, with
/// --sha256). Only http:// URLs are supported.
///
/// Exit status: 0 on success, 1 when the download failed, 2 on a usage error, 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "downloader", version, max_term_width = 100)]
pub struct Cli {
    /// The file to download: `http://host[:port]/path`.
    #[arg(value_name = "URL", value_parser = parse_url)]
    url: Url,
    /// Where to save it (default: the URL's last path segment, in the current directory).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// How many connections to use at once.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    connections: u16,
    /// The size of one chunk, the unit of work and of resumption: bytes, or with a K, M or G suffix
    /// (powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "4M", value_parser = parse_size)]
    chunk_size: u64,
    /// Check the downloaded file against this SHA-256 (64 hex digits) before creating FILE.
    #[arg(long, value_name = "HEX", value_parser = parse_sha256)]
    sha256: Option<[u8; 32]>,
    /// Continue the interrupted download recorded in FILE.part.state, if the file on the server is
    /// still the same one (same size, ETag and Last-Modified).
    #[arg(short = 'c', long)]
    resume: bool,
    /// How many times a failing request is retried before giving up.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// Seconds without a byte after which a connection is considered stalled and replaced; also the
    /// connect timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// Never draw a progress bar (one is drawn only when standard error is a terminal anyway).
    #[arg(short, long)]
    quiet: bool,
}

fn parse_url(text: &str) -> Result<Url, String> {
    Url::parse(text).map_err(|err| err.to_string())
}

fn parse_size(text: &str) -> Result<u64, String> {
    downloader::parse_size(text).map_err(|err| err.to_string())
}

fn parse_sha256(text: &str) -> Result<[u8; 32], String> {
    let error = || format!("invalid SHA-256 {text:?}: expected 64 hexadecimal digits");
    if text.len() != 64 || !text.is_ascii() {
        return Err(error());
    }
    let mut digest = [0; 32];
    for (byte, pair) in digest.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| error())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| error())?;
    }
    Ok(digest)
}

impl From<Cli> for Config {
    fn from(cli: Cli) -> Config {
        let mut config = Config::new(cli.url);
        config.output = cli.output;
        config.connections = usize::from(cli.connections);
        config.chunk_size = cli.chunk_size;
        config.sha256 = cli.sha256;
        config.resume = cli.resume;
        config.retries = cli.retries;
        let timeout = Duration::try_from_secs_f64(cli.timeout.max(0.001)).unwrap_or(Duration::from_secs(10));
        config.connect_timeout = timeout;
        config.stall_timeout = timeout;
        config.progress = !cli.quiet && std::io::stderr().is_terminal();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_a_sha256() {
        let hex = "00ff".repeat(16);
        assert_eq!(parse_sha256(&hex).unwrap()[..2], [0x00, 0xff]);
        assert!(parse_sha256("abc").is_err());
        assert!(parse_sha256(&"zz".repeat(32)).is_err());
    }
}
