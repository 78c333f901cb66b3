//! `serve-site`: generates a site with [`testkit::web::SiteSpec`] and writes it to a directory (for
//! nginx and wget comparisons) or serves it on `127.0.0.1` with the fixture server.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;

use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};
use testkit::web::{SiteSpec, WebServer};

/// Generate a linked test site, then write it to a directory or serve it on 127.0.0.1.
///
/// With --serve, the first line on stdout is the site's URL; the server runs until it gets SIGINT or
/// SIGTERM or reads the line `quit` on stdin, then prints its request count and the most requests
/// it answered at once to stderr.
#[derive(Debug, Parser)]
#[command(version, group = clap::ArgGroup::new("action").required(true).args(["write", "serve"]))]
struct Cli {
    /// Number of HTML pages, the root included.
    #[arg(long, value_name = "N")]
    pages: usize,
    /// Links per page to other pages of the site.
    #[arg(long, value_name = "N", default_value_t = 8)]
    links: usize,
    /// Approximate size of each page in bytes.
    #[arg(long, value_name = "N", default_value_t = 2048)]
    page_bytes: usize,
    /// Random seed: the same seed gives the same site.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Write the site's files under this directory (the root as index.html).
    #[arg(long, value_name = "DIR")]
    write: Option<PathBuf>,
    /// Serve the site until stopped.
    #[arg(long)]
    serve: bool,
    /// The port to serve on (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 0, requires = "serve")]
    port: u16,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("serve-site: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> std::io::Result<ExitCode> {
    let spec =
        SiteSpec { pages: cli.pages, links_per_page: cli.links, page_bytes: cli.page_bytes, seed: cli.seed };
    let site = spec.generate();
    if let Some(dir) = &cli.write {
        site.write_to(dir)?;
        eprintln!("wrote {} files ({} pages) under {}", site.files.len(), site.depth.len(), dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let server = WebServer::start_on(site.to_site(), cli.port)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", server.url("/"))?;
    stdout.flush()?;
    let code = wait_for_stop()?;
    eprintln!(
        "requests: {}, max in flight: {}, connections: {}",
        server.request_count(),
        server.max_in_flight(),
        server.connections()
    );
    Ok(code)
}

/// Blocks until `quit` on stdin (exit 0), SIGTERM (0) or SIGINT (130). The end of stdin is not a
/// stop, so the server can run in the background with stdin closed.
fn wait_for_stop() -> std::io::Result<ExitCode> {
    let (tx, rx) = mpsc::channel();
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let on_signal = tx.clone();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _ = on_signal.send(if signal == SIGINT { ExitCode::from(130) } else { ExitCode::SUCCESS });
        }
    });
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(line) if line.trim() == "quit" => {
                    let _ = tx.send(ExitCode::SUCCESS);
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // The signal thread holds a sender for the life of the process, so the end of stdin leaves
    // `recv` waiting for a signal.
    Ok(rx.recv().unwrap_or(ExitCode::SUCCESS))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
