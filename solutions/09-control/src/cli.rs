//! The command line: clap's view of the arguments, turned into a validated [`crate::Config`] by
//! [`crate::Config::try_from`] and never passed further.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run commands on many machines: agents dial out to a master, which sends them the commands
/// operators sign.
///
/// `control agent` runs on every machine. It keeps one connection to the master, a Noise session
/// between its own ed25519 key and the master's key it pinned, reconnecting with a jittered backoff
/// when the master goes away. It runs a command only when a trusted operator signed it, it is
/// still valid, it was never seen before, and its program is in the agent's allow-list.
///
/// `control master` lets in only the agents whose keys an operator accepted: a new agent's key
/// waits as pending until `control keys accept ID`. `control keygen` makes a key pair for an agent,
/// the master or an operator.
///
/// Ctrl-C or SIGTERM stops the master or an agent gracefully; a second Ctrl-C ends it at once.
///
/// Exit status: 0 on success, 1 when it cannot run (an address in use, a key that cannot be read),
/// 2 on a usage error, 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "control", version, max_term_width = 100, verbatim_doc_comment)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Sub,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Accept agents and keep them connected.
    ///
    /// Prints `master listening on ADDR` and the master's public key first: agents pin that key
    /// (--master-key).
    Master(MasterArgs),
    /// Connect to the master and run the signed commands it relays.
    Agent(AgentArgs),
    /// List, accept, reject or delete agents' keys in the master's key store.
    ///
    /// The master reads the store at every handshake and looks for keys taken away every second,
    /// so changes apply to a running master.
    Keys(KeysArgs),
    /// Make a key pair: write the secret to a file (readable by its owner only) and print the
    /// public key.
    Keygen(KeygenArgs),
}

/// The options of `control master`.
#[derive(Debug, Args)]
pub struct MasterArgs {
    /// The address agents connect to (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4505")]
    pub listen: SocketAddr,
    /// The master's key file; made there on first start.
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The key store: a directory of accepted/, pending/ and rejected/ agent keys.
    #[arg(long, value_name = "DIR")]
    pub keys: PathBuf,
    /// Accept every new agent's key at once. For a lab or a demo only: anyone who can reach the
    /// port becomes an agent.
    #[arg(long)]
    pub auto_accept: bool,
    /// An operator's public key (64 hex digits) whose signed commands the master relays; repeat
    /// for each.
    #[arg(long = "operator", value_name = "KEY")]
    pub operators: Vec<String>,
    /// How often agents send a heartbeat, in seconds; one silent for three is dropped.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub heartbeat: f64,
}

/// The options of `control agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// This agent's id, as the master enrolls it: letters, digits, '.', '_' and '-'.
    #[arg(long, value_name = "ID")]
    pub id: String,
    /// The master's address.
    #[arg(long, value_name = "ADDR")]
    pub master: SocketAddr,
    /// The master's public key (64 hex digits), as `control master` prints it: the agent talks to
    /// no one else.
    #[arg(long, value_name = "KEY")]
    pub master_key: String,
    /// The agent's key file; made there on first start.
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// A tag, as NAME=VALUE (role=web, dc=bj); repeat for each.
    #[arg(long = "tag", value_name = "NAME=VALUE")]
    pub tags: Vec<String>,
    /// An operator's public key whose signed commands this agent runs; repeat for each.
    #[arg(long = "operator", value_name = "KEY")]
    pub operators: Vec<String>,
    /// The allow-list: one program path per line. Without it the agent runs nothing.
    #[arg(long, value_name = "PATH")]
    pub allow: Option<PathBuf>,
}

/// The options of `control keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The master's key store.
    #[arg(long, value_name = "DIR")]
    pub keys: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub action: KeysAction,
}

/// What `control keys` does.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysAction {
    /// Print every key: state, id, fingerprint, key.
    List,
    /// Let a pending agent in.
    Accept {
        /// The agent's id.
        id: String,
    },
    /// Refuse an agent for good (a connected one is cut off).
    Reject {
        /// The agent's id.
        id: String,
    },
    /// Forget an agent's key (a connected one is cut off; its next connection is pending).
    Delete {
        /// The agent's id.
        id: String,
    },
}

/// The options of `control keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the secret key; an existing file is never overwritten.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}
