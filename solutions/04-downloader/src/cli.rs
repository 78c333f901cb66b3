//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::path::PathBuf;

use clap::Parser;

use crate::Url;

/// Download one file over several HTTP connections at once, resumably.
///
/// Splits the file into chunks, fetches them over N connections with HTTP range requests, and
/// writes each at its place in FILE.part. Failed or stalled transfers are retried from the last
/// byte written. Progress is saved in FILE.part.state: after Ctrl-C or a crash, the same command
/// with --resume fetches only what is missing. FILE appears only once complete (and verified, with
/// --sha256). Only http:// URLs are supported. Prints the file saved and its size on standard output.
///
/// Exit status: 0 on success, 1 when the download failed, 2 on a usage error, 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "downloader", version, max_term_width = 100)]
pub struct Cli {
    /// The file to download: `http://host[:port]/path`.
    #[arg(value_name = "URL", value_parser = parse_url)]
    pub url: Url,
    /// Where to save it (default: the URL's last path segment, in the current directory).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many connections to use at once.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub connections: u16,
    /// The size of one chunk, the unit of work and of resumption: bytes, or with a K, M or G suffix
    /// (powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "4M", value_parser = parse_size)]
    pub chunk_size: u64,
    /// Check the downloaded file against this SHA-256 (64 hex digits) before creating FILE.
    #[arg(long, value_name = "HEX", value_parser = parse_sha256)]
    pub sha256: Option<[u8; 32]>,
    /// Continue the interrupted download recorded in FILE.part.state, if the file on the server is
    /// still the same one (same size, ETag and Last-Modified).
    #[arg(short = 'c', long)]
    pub resume: bool,
    /// How many times a failing request is retried before giving up.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub retries: u32,
    /// Seconds without a byte after which a connection is considered stalled and replaced; also the
    /// connect timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Never draw a progress bar (one is drawn only when standard error is a terminal anyway), and
    /// print nothing on standard output.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_url(text: &str) -> Result<Url, String> {
    Url::parse(text).map_err(|err| err.to_string())
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::parse_size(text).map_err(|err| err.to_string())
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
