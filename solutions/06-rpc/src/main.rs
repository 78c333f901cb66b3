//! The `rpc` command: parse the arguments, serve or call until done or interrupted, exit with a
//! meaningful code.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use rpc::Config;
use rpc::cli::Cli;

fn main() -> ExitCode {
    let config = Config::from(Cli::parse());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("rpc: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // Ctrl-C or SIGTERM: a server shuts down gracefully, a client stops waiting.
        let shutdown = async {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        rpc::run(&config, shutdown, &mut io::stdout()).await
    });
    runtime.shutdown_background();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(rpc::Error::Io(err)) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rpc: {err}");
            ExitCode::FAILURE
        }
    }
}
