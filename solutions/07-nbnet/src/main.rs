//! The `memkv` command: a memcached server on nbnet. Parses the arguments, serves until a signal,
//! exits 0 on SIGTERM, 130 on SIGINT, 1 when the server cannot start, 2 on bad usage.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use clap::Parser;
use nbnet::memcache::{MemcacheService, Store, StoreConfig, SystemClock};
use nbnet::{Options, Server};
use signal_hook::consts::{SIGINT, SIGTERM};

fn main() -> ExitCode {
    let cli = nbnet::cli::Cli::parse();
    let options = Options { workers: cli.threads, max_conns: cli.max_conns, ..Options::default() };
    let threads = options.worker_count();
    let config = StoreConfig { memory_limit: cli.memory.saturating_mul(1 << 20), ..StoreConfig::default() };
    let store = Arc::new(Store::new(config, Arc::new(SystemClock)));
    let server = match Server::bind(cli.listen, MemcacheService::new(store, threads), options) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("memkv: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("memkv listening on {}", server.local_addr());
    let _ = std::io::stdout().flush();
    // A signal thread turns SIGINT/SIGTERM into a graceful shutdown and remembers which it was.
    let caught = Arc::new(AtomicI32::new(0));
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("memkv: cannot install signal handlers: {error}");
            return ExitCode::FAILURE;
        }
    };
    let handle = server.handle();
    let seen = Arc::clone(&caught);
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            seen.store(signal, Ordering::SeqCst);
            handle.shutdown();
        }
    });
    match server.run() {
        Ok(()) if caught.load(Ordering::SeqCst) == SIGINT => ExitCode::from(130),
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("memkv: {error}");
            ExitCode::FAILURE
        }
    }
}
