//! The `platform` command: parse the arguments, run the subcommand until done or until SIGINT or
//! SIGTERM, report errors, exit with a meaningful code.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use platform::cli::Cli;
use platform::{Config, Error, Shutdown};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("platform: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    // The servers report with tracing events, on standard error: RUST_LOG chooses what is shown
    // (info by default), as `RUST_LOG=platform=debug`.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
    // Ctrl-C or SIGTERM stops the run gracefully; a second Ctrl-C, while the first is being
    // handled, ends the process at once with 130.
    let first = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&first));
        let _ = signal_hook::flag::register(signal, Arc::clone(&first));
    }
    let shutdown = Shutdown::new();
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(err) => {
            let err = Error::sys("sigaction")(err);
            eprintln!("platform: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    // A signal handler may not lock or wake anything: a thread of its own passes the signal on.
    let requests = shutdown.clone();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if signal == SIGINT { requests.interrupt() } else { requests.stop() }
        }
    });
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = platform::run(&config, &shutdown, &mut out)
        .and_then(|outcome| out.flush().map(|()| outcome).map_err(Error::Write));
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // `platform ... | head -1` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("platform: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
