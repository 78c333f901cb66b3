//! The `downloader` command: parse the arguments, download, report, exit with a meaningful code.

mod cli;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;

fn main() -> ExitCode {
    let config = downloader::Config::from(cli::Cli::parse());
    let quiet = !config.progress;
    // Ctrl-C or SIGTERM raises the flag: the workers stop, the state is saved, the exit code is 130.
    // A second Ctrl-C, while the first is being handled, ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop));
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    match downloader::download(&config, &stop) {
        Ok(outcome) => {
            if !quiet {
                eprintln!("downloader: saved {} ({} bytes)", outcome.path.display(), outcome.size);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("downloader: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
