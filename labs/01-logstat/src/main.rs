//! The `logstat` command: parse the arguments, run until done or Ctrl-C, report errors, exit with a
//! meaningful code.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use logstat::Config;
use logstat::cli::Cli;
use signal_hook::consts::{SIGINT, SIGTERM};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("logstat: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    // Ctrl-C or SIGTERM raises the flag; run() stops between blocks and exits 130. A second Ctrl-C,
    // while the first is being handled, ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop));
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = logstat::run(&config, &mut io::stdin().lock(), &mut out, &stop)
        .and_then(|outcome| out.flush().map(|()| outcome).map_err(logstat::Error::Write));
    match result {
        Ok(outcome) => {
            for err in &outcome.errors {
                eprintln!("logstat: {err}");
            }
            if outcome.malformed > 0 && !config.json {
                eprintln!("logstat: skipped {} malformed lines", outcome.malformed);
            }
            ExitCode::from(outcome.exit_code())
        }
        // `logstat … | head` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("logstat: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
