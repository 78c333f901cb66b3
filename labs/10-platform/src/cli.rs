//! The `platform` command's arguments, as clap parses them. Never passed past `main`: they become
//! a [`crate::Config`] first.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// One system for monitoring and control: hosts, commands and their results, users and roles,
/// behind one API and dashboard, with its records in SQL.
///
/// The records live in SQLite by default (a file, nothing to install) or in MariaDB, chosen by
/// `--db`. Exit codes: 0 success (and after SIGTERM), 1 an error (a database that cannot be
/// reached, a migration that fails, an address in use), 2 a usage error, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "platform", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Opens the records (making a SQLite file if missing), applies every migration they have not
    /// had, and prints the schema's version and how many records of each kind they hold.
    Migrate {
        /// The database: sqlite://PATH, sqlite::memory: or mysql://USER:PASSWORD@HOST:PORT/DB
        /// (MariaDB; mariadb:// is taken too).
        #[arg(long, value_name = "URL", default_value = "sqlite://platform.db")]
        db: String,
    },
    /// Runs the platform's server: the API and the dashboard, the control master its agents dial,
    /// and lab 08's monitoring pipeline (a relay their monitoring agents send points to, a store,
    /// a judge and the alarm). On first start it makes the roles admin, operator and viewer and an admin account,
    /// and prints that account's password once.
    Serve {
        /// The database (as for migrate).
        #[arg(long, value_name = "URL", default_value = "sqlite://platform.db")]
        db: String,
        /// Where the API and the dashboard listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the control master listens for agents.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4506")]
        control: SocketAddr,
        /// Where the monitoring relay listens for lab 08's agents.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2003")]
        relay: SocketAddr,
        /// Where the master's and the operator's keys, the agents' key store, the master's
        /// journal and the monitoring pipeline's data live.
        #[arg(long, value_name = "DIR", default_value = "platform-data")]
        dir: PathBuf,
        /// Accept agents never seen before at once (for a lab; enrol them in production).
        #[arg(long)]
        auto_accept: bool,
        /// Where the hosts keep their monitoring scripts (the installer's --dir).
        #[arg(long, value_name = "DIR", default_value = crate::serve::HOST_SCRIPTS)]
        host_scripts: PathBuf,
        /// Where the hosts keep their services' releases (the deploy routine's --dir).
        #[arg(long, value_name = "DIR", default_value = crate::serve::HOST_RELEASES)]
        host_releases: PathBuf,
        /// The platform program on the hosts, which installs a script (their agents must allow
        /// it) [default: this program's path].
        #[arg(long, value_name = "PATH")]
        installer: Option<PathBuf>,
        /// The platform's address as the hosts reach it, to fetch scripts from
        /// [default: http:// and --listen's address].
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Which of the servers sharing --dir and --db leads: `embedded` (a lock file in --dir,
        /// for servers on one machine) or `etcd://HOST:PORT[/KEY][?ttl=SECONDS]` (a lease in etcd,
        /// through its JSON gateway). A server that cannot have the lease stands by, and takes
        /// over, on the same addresses, when the leader dies or stops.
        #[arg(long, value_name = "LEASE", default_value = "embedded")]
        lease: String,
        /// This server's name, as the lease and the dashboard show it [default: HOSTNAME:PID].
        #[arg(long, value_name = "NAME")]
        node: Option<String>,
    },
    /// Runs this host's side of the platform until stopped: lab 09's agent, which dials the
    /// platform's control master and runs the signed commands it allows (the scripts' installer
    /// among them); the monitoring scripts rolled out to this host, each on its interval; and
    /// lab 08's sender, which takes their points to the platform's relay. Prints the agent's
    /// public key, for the master to enrol.
    Agent {
        /// The host's name, as the platform knows it.
        #[arg(long, value_name = "NAME")]
        id: String,
        /// The platform's control master.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4506")]
        master: SocketAddr,
        /// The master's public key, as `platform serve` printed it.
        #[arg(long, value_name = "KEY")]
        master_key: String,
        /// The operator key whose signed commands this host runs, as `platform serve` printed it.
        #[arg(long, value_name = "KEY")]
        operator_key: String,
        /// The platform's monitoring relay.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2003")]
        relay: SocketAddr,
        /// The agent's key pair (made on first start).
        #[arg(long, value_name = "FILE", default_value = "agent.key")]
        key: PathBuf,
        /// The programs it may run, one path a line [default: only this program, the installer].
        #[arg(long, value_name = "FILE")]
        allow: Option<PathBuf>,
        /// Where this host keeps its monitoring scripts.
        #[arg(long, value_name = "DIR", default_value = crate::serve::HOST_SCRIPTS)]
        scripts: PathBuf,
        /// Where points wait while the relay cannot be reached.
        #[arg(long, value_name = "DIR", default_value = "platform-spool")]
        spool: PathBuf,
        /// A tag, as KEY=VALUE (again for more).
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<String>,
    },
    /// Installs a version of a monitoring script on this host and makes it current: what a
    /// rollout's signed command runs on each host. A version installed already is made current at
    /// once (a rollback); any other is fetched and installed only if its SHA-256 is the one given.
    /// Prints what it did; exits 1 when it could not.
    InstallScript {
        /// Where to fetch the script.
        #[arg(long, value_name = "URL")]
        from: String,
        /// Where this host keeps its scripts.
        #[arg(long, value_name = "DIR", default_value = crate::serve::HOST_SCRIPTS)]
        dir: PathBuf,
        /// The version.
        #[arg(long, value_name = "N")]
        version: i64,
        /// The script's SHA-256, in hex.
        #[arg(long, value_name = "HEX")]
        sha256: String,
        /// The version's manifest, whole.
        #[arg(long, value_name = "TOML")]
        manifest: String,
    },
    /// Deploys a version of a service's release on this host: what a release's rollout runs on each
    /// host, step by step (download, verify, stop, back up, switch, start, status). A version
    /// installed already is not fetched again; any other is fetched and unpacked only if its
    /// SHA-256 is the one given. When the new version does not start or is not healthy, the one
    /// that ran before is put back and started. Prints each step; exits 1 when it failed.
    Deploy {
        /// Where to fetch the package.
        #[arg(long, value_name = "URL")]
        from: String,
        /// Where this host keeps its services' releases (a relative path is relative to the
        /// working directory, the agent's when a rollout runs it).
        #[arg(long, value_name = "DIR", default_value = crate::serve::HOST_RELEASES)]
        dir: PathBuf,
        /// The service.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The version to make current.
        #[arg(long, value_name = "VERSION")]
        version: String,
        /// The package's SHA-256, in hex.
        #[arg(long, value_name = "HEX")]
        sha256: String,
    },
    /// Makes a release package of a directory: its release.toml (name, version, hooks; no
    /// checksums) and every other file under it, whose SHA-256 are written into the manifest.
    /// Prints the package's path and SHA-256.
    Pack {
        /// The directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Where to write the package [default: NAME-VERSION.tar.gz here].
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Runs the whole platform on this machine with simulated hosts, until Ctrl-C: the server, a
    /// fleet whose agents dial its control master, and an admin account whose password is printed
    /// once.
    Demo {
        /// How many simulated hosts.
        #[arg(long, value_name = "N", default_value_t = 20)]
        hosts: usize,
        /// Where the API and the dashboard listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        http: SocketAddr,
        /// Keep the records and keys in this directory (a temporary one, removed at the end, by
        /// default).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_arguments_are_consistent() {
        Cli::command().debug_assert();
    }
}
