//! The `superd` command: parse the arguments, run the subcommand, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match superd::run(superd::cli::Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("superd: {error}");
            ExitCode::FAILURE
        }
    }
}
