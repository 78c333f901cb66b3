//! `gen`: writes a large generated dataset to a file and prints where.
//!
//! ```text
//! cargo run -p datasets --release --bin gen -- nginx --size 1G --seed 1
//! cargo run -p datasets --release --bin gen -- text --size 100M -o /tmp/words.txt
//! ```
//!
//! Exit codes: 0 success, 1 an I/O error, 2 a usage error.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use datasets::nginx::{self, LogSpec};
use datasets::size::ByteSize;
use datasets::text::{self, TextSpec};
use indicatif::{ProgressBar, ProgressStyle};

/// Generate large, deterministic test inputs for the labs.
///
/// The same kind, size and seed always give the same bytes. Files go to datasets/generated/ (which
/// git ignores) unless -o names another place.
#[derive(Debug, Parser)]
#[command(name = "gen", version)]
struct Cli {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Debug, Subcommand)]
enum Kind {
    /// An nginx access log in the combined format, sorted by time.
    ///
    /// Realistic traffic (Zipf URLs and clients, IPv4 and IPv6, bots, a day/night rate) with the odd
    /// cases a parser must handle and about 0.2% malformed lines.
    Nginx(Options),
    /// English-like prose for word counting, with accents, other scripts and CRLF paragraphs.
    Text(Options),
}

#[derive(Debug, clap::Args)]
struct Options {
    /// How much to write, at least: digits with an optional K, M or G suffix (powers of 1024)
    ///
    /// Output stops at the first whole line (nginx) or paragraph (text) past this size.
    #[arg(long, value_name = "SIZE")]
    size: ByteSize,
    /// Seed of the random stream; the same seed gives the same file.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Where to write (default: datasets/generated/nginx-SIZE-seedN.log or text-SIZE-seedN.txt)
    #[arg(short = 'o', long, value_name = "PATH")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let (name, options) = match &cli.kind {
        Kind::Nginx(o) => (format!("nginx-{}-seed{}.log", o.size, o.seed), o),
        Kind::Text(o) => (format!("text-{}-seed{}.txt", o.size, o.seed), o),
    };
    let path = match &options.output {
        Some(path) => path.clone(),
        None => datasets::generated_dir().context("cannot create datasets/generated/")?.join(name),
    };
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let bar = progress_bar(options.size.bytes());
    let mut out = BufWriter::with_capacity(1 << 20, Progress { inner: file, bar: &bar });
    let target = options.size.bytes();
    let written = match &cli.kind {
        Kind::Nginx(o) => {
            let spec = LogSpec { seed: o.seed, ..LogSpec::default() };
            nginx::write_log(&spec, target, &mut out).map(|_| ())
        }
        Kind::Text(o) => {
            let spec = TextSpec { seed: o.seed, ..TextSpec::default() };
            text::write_text(&spec, target, &mut out).map(|_| ())
        }
    };
    written
        .and_then(|()| out.into_inner().map_err(io::IntoInnerError::into_error)?.inner.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    bar.finish_and_clear();
    println!("{}", display(&path));
    Ok(())
}

/// A bytes bar on stderr when it is a terminal, and a hidden one otherwise.
fn progress_bar(total: u64) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::new(total).with_style(bar_style())
}

fn bar_style() -> ProgressStyle {
    // The template is a literal, checked by a unit test: it cannot fail at run time.
    ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .expect("valid template")
}

/// Counts the bytes that reach the file into the progress bar.
struct Progress<'a, W> {
    inner: W,
    bar: &'a ProgressBar,
}

impl<W: Write> Write for Progress<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd).unwrap_or(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_sizes_and_defaults() {
        let cli = Cli::try_parse_from(["gen", "nginx", "--size", "1G"]).unwrap();
        let Kind::Nginx(o) = cli.kind else { panic!("expected nginx") };
        assert_eq!(o.size.bytes(), 1 << 30);
        assert_eq!(o.seed, 0);
        assert!(Cli::try_parse_from(["gen", "text", "--size", "1X"]).is_err());
        assert!(Cli::try_parse_from(["gen", "text"]).is_err());
    }

    #[test]
    fn progress_template_is_valid() {
        let _ = bar_style();
    }
}
