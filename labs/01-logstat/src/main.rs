//! The `logstat` command: parse the arguments, run, report errors, exit with a meaningful code.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;

fn main() -> ExitCode {
    let config = logstat::Config::from(cli::Cli::parse());
    // Ctrl-C or SIGTERM raises the flag; run() stops between blocks and exits 130. A second Ctrl-C,
    // while the first is being handled, ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop));
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = logstat::run(&config, &mut io::stdin().lock(), &mut out, &stop)
        .and_then(|outcome| out.flush().map(|()| outcome).map_err(logstat::Error::Write));
    match result {
        Ok(outcome) => {
            for error in &outcome.errors {
                eprintln!("logstat: {error}");
            }
            if outcome.malformed > 0 && !config.json {
                eprintln!("logstat: skipped {} malformed lines", outcome.malformed);
            }
            ExitCode::from(outcome.exit_code())
        }
        // `logstat … | head` closes the pipe early: that is success, not an error.
        Err(error) if error.is_broken_pipe() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("logstat: {error}");
            ExitCode::FAILURE
        }
    }
}
