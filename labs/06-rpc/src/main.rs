//! The `rpc` command: parse the arguments, serve or call until done or interrupted, report errors,
//! exit with a meaningful code.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use rpc::cli::Cli;
use rpc::{Config, Error};
use tokio::signal::unix::{SignalKind, signal};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("rpc: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            let err = Error::sys("start the tokio runtime")(err);
            eprintln!("rpc: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    let result = runtime.block_on(async {
        let mut out = io::BufWriter::new(io::stdout());
        let result = rpc::run(&config, shutdown(), &mut out).await;
        result.and_then(|outcome| out.flush().map(|()| outcome).map_err(Error::Write))
    });
    // A server has drained its calls by now, and a client's are abandoned: do not wait for them.
    runtime.shutdown_background();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // `rpc call … | head` closes the pipe early: that is success, not an error.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rpc: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Resolves on the first Ctrl-C (SIGINT) or SIGTERM: a server shuts down gracefully, a client stops
/// waiting. From then on, a second Ctrl-C ends the process at once with 130.
async fn shutdown() {
    // A signal that cannot be listened for never comes: wait on the other one.
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => drop(terminate.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
}
