//! The `crawler` command: parse the arguments, crawl until done or Ctrl-C, exit with a meaningful
//! code.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use crawler::Config;
use crawler::cli::Cli;

fn main() -> ExitCode {
    let config = match Config::try_from(Cli::parse()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("crawler: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("crawler: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // The first Ctrl-C stops the crawl and keeps its results; a second one ends the process.
        let shutdown = async {
            if tokio::signal::ctrl_c().await.is_ok() {
                tokio::spawn(async {
                    let _ = tokio::signal::ctrl_c().await;
                    std::process::exit(130);
                });
            } else {
                std::future::pending::<()>().await;
            }
        };
        let mut out = io::BufWriter::new(io::stdout());
        let result = crawler::run(&config, shutdown, &mut out).await;
        result.and_then(|outcome| out.flush().map(|()| outcome).map_err(crawler::Error::Write))
    });
    // In-flight requests were abandoned: do not wait for them.
    runtime.shutdown_background();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // `crawler … | head` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crawler: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
