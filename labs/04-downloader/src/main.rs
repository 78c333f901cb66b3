//! The `downloader` command: parse the arguments, download until done or Ctrl-C, report errors,
//! exit with a meaningful code.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use downloader::Config;
use downloader::cli::Cli;
use signal_hook::consts::{SIGINT, SIGTERM};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("downloader: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    // Ctrl-C or SIGTERM raises the flag: the workers stop, the state is saved, the exit code is 130.
    // A second Ctrl-C, while the first is being handled, ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop));
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = downloader::run(&config, &stop, &mut out)
        .and_then(|outcome| out.flush().map(|()| outcome).map_err(downloader::Error::Write));
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // `downloader … | head` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("downloader: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
