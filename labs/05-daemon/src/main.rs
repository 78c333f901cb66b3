//! The `superd` command: parse the arguments, run the subcommand, report errors, exit with a
//! meaningful code.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use superd::Config;
use superd::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("superd: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    // No stop flag here: `start`'s daemon installs its own handlers for SIGTERM and SIGINT (they
    // stop it gracefully), and the other subcommands have nothing to undo when interrupted. Not a
    // lock on stdout either: `start` forks, and the daemon's threads may write.
    let mut out = io::BufWriter::new(io::stdout());
    let result = superd::run(&config, &mut out)
        .and_then(|outcome| out.flush().map(|()| outcome).map_err(superd::Error::Write));
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // `superd status … | head` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("superd: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
