//! The `mapreduce` command: parse the arguments, run the job until done or Ctrl-C, report errors,
//! exit with a meaningful code. Run as `mapreduce worker`, it is a worker process serving tasks on
//! stdin/stdout.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use mapreduce::Config;
use mapreduce::cli::Cli;
use signal_hook::consts::{SIGINT, SIGTERM};

fn main() -> ExitCode {
    // The hidden worker mode: the coordinator starts this same binary with `worker`.
    if std::env::args_os().nth(1).is_some_and(|arg| arg == "worker") {
        // Ctrl-C reaches the whole process group: the coordinator decides when its workers stop
        // (by closing their input), so a worker does not die of it.
        let _ = signal_hook::flag::register(SIGINT, Arc::new(AtomicBool::new(false)));
        return match mapreduce::serve_worker(io::stdin().lock(), io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("mapreduce worker: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("mapreduce: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    // Ctrl-C or SIGTERM raises the flag; run() writes nothing and exits 130. A second Ctrl-C, while
    // the first is being handled, ends the process at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop));
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = mapreduce::run(&config, &stop, &mut out)
        .and_then(|outcome| out.flush().map(|()| outcome).map_err(mapreduce::Error::Write));
    match result {
        Ok(outcome) => {
            if config.stats {
                eprintln!("mapreduce: {}", outcome.stats);
            }
            ExitCode::from(outcome.exit_code())
        }
        // `mapreduce … | head` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mapreduce: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
