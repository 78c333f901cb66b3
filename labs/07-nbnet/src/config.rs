//! What one run of `memkv` is asked to do: a validated [`Config`], built from the command line
//! ([`Config::try_from`]) or by a test.

use std::net::SocketAddr;

use crate::cli::Cli;
use crate::error::Error;
use crate::memcache::StoreConfig;
use crate::options::Options;

/// One run of `memkv`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The server's workers, limits and timeouts.
    pub options: Options,
    /// The store's memory limit and shards.
    pub store: StoreConfig,
}

impl Config {
    /// A server on `listen` with the default [`Options`] (one worker per core) and the default
    /// [`StoreConfig`] (64 MiB).
    pub fn new(listen: SocketAddr) -> Config {
        Config { listen, options: Options::default(), store: StoreConfig::default() }
    }
}

impl TryFrom<Cli> for Config {
    type Error = Error;

    /// Checks what clap cannot: `--memory` and `--max-conns` are at least 1 (a server that can
    /// keep no item, or accept no connection, is a mistake), and `--memory` fits in a byte count.
    fn try_from(cli: Cli) -> Result<Config, Error> {
        for (name, value) in [("--memory", cli.memory), ("--max-conns", cli.max_conns)] {
            if value == 0 {
                return Err(Error::BadOption(format!("{name} must be at least 1")));
            }
        }
        let memory_limit = cli.memory.checked_mul(1 << 20).ok_or_else(|| {
            Error::BadOption(format!("--memory {} MB is more than can be counted", cli.memory))
        })?;
        let mut config = Config::new(cli.listen);
        config.options.workers = cli.threads;
        config.options.max_conns = cli.max_conns;
        config.store.memory_limit = memory_limit;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(args: &[&str]) -> Result<Config, Error> {
        let cli = Cli::try_parse_from(std::iter::once("memkv").chain(args.iter().copied()))
            .unwrap_or_else(|err| panic!("memkv {args:?} parses: {err}"));
        Config::try_from(cli)
    }

    #[test]
    fn a_command_line_becomes_its_config() {
        let config =
            config(&["--listen", "127.0.0.1:0", "--threads", "3", "--memory", "16", "--max-conns", "9"])
                .unwrap();
        assert_eq!(config.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.options.workers, 3);
        assert_eq!(config.options.max_conns, 9);
        assert_eq!(config.store.memory_limit, 16 << 20);
    }

    #[test]
    fn a_limit_of_0_or_too_much_memory_is_a_usage_error() {
        let huge = (usize::MAX / 1024).to_string();
        for args in [&["--memory", "0"][..], &["--max-conns", "0"], &["--memory", &huge]] {
            let err = config(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "the exit code of memkv {args:?}: {err}");
        }
    }
}
