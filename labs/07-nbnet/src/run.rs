//! [`run`]: the `memkv` command, from a [`Config`] to a memcached server that serves until it is
//! asked to stop, and the exit code of how it was stopped ([`Outcome::exit_code`]).

use std::io::Write;
use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::memcache::{MemcacheService, Store, SystemClock};
use crate::server::Server;
use crate::shutdown::Shutdown;

/// How a run ended: always by a shutdown, since a server has no end of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Whether it was stopped by [`Shutdown::interrupt`] (Ctrl-C) rather than [`Shutdown::stop`]
    /// (SIGTERM, the way a service manager stops a server).
    pub interrupted: bool,
}

impl Outcome {
    /// The process exit code: 130 when interrupted, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted { 130 } else { 0 }
    }
}

/// Serves memcached's text protocol as `config` says until `shutdown` is requested: binds a
/// [`Server`] of [`MemcacheService`] on a fresh [`Store`], writes `memkv listening on ADDR` to `out`
/// and flushes it (port 0 picks a free port: the line says which), then serves. A shutdown stops
/// accepting, lets every connection finish writing, and returns.
///
/// # Errors
///
/// [`Error::Bind`] when the address cannot be bound, [`Error::Write`] when the line cannot be
/// written, and what [`Server::bind`] and [`Server::run`] return.
pub fn run(config: &Config, shutdown: &Shutdown, out: &mut dyn Write) -> Result<Outcome, Error> {
    let threads = config.options.worker_count();
    let store = Arc::new(Store::new(config.store, Arc::new(SystemClock)));
    let server = Server::bind(config.listen, MemcacheService::new(store, threads), config.options.clone())?;
    writeln!(out, "memkv listening on {}", server.local_addr())
        .and_then(|()| out.flush())
        .map_err(Error::Write)?;
    shutdown.attach(server.handle());
    server.run()?;
    Ok(Outcome { interrupted: shutdown.is_interrupted() })
}
