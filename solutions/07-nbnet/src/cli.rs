//! The command line of `memkv`: clap's view of the arguments, turned into a validated
//! [`crate::Config`] by [`crate::Config::try_from`] and never passed further.

use std::net::SocketAddr;

use clap::Parser;

/// A memcached-compatible cache server on the nbnet event loop.
///
/// Speaks memcached's text protocol (get, gets, set, add, replace, append, prepend, cas, delete,
/// incr, decr, touch, flush_all, version, stats, quit). Prints the address it listens on, then
/// serves until Ctrl-C or SIGTERM, when it stops accepting, finishes writing and exits; a second
/// Ctrl-C ends the process at once.
///
/// Exit status: 0 when stopped by SIGTERM, 1 when the server cannot start or fails, 2 on a usage
/// error, 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "memkv", version, max_term_width = 100)]
pub struct Cli {
    /// The address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:11211")]
    pub listen: SocketAddr,
    /// Worker threads, each an event loop; 0 means one per core.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Memory for items, in megabytes; the least recently used items are evicted past it.
    #[arg(long, value_name = "MB", default_value_t = 64)]
    pub memory: usize,
    /// Connections open at once; more are refused.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_conns: usize,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
