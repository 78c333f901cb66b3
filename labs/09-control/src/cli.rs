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
/// `control run TARGET -- PROGRAM ARGS` signs a command with an operator's key and has the master
/// roll it out over the hosts TARGET names, in batches, then shows how each host ended.
///
/// Ctrl-C or SIGTERM stops the master or an agent gracefully; a second Ctrl-C ends it at once.
///
/// Exit status: 0 on success, 1 when it cannot run (an address in use, a key that cannot be read,
/// a command the master refuses), 2 on a usage error, 3 when `control run` saw a host end other
/// than done, 130 when interrupted.
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
    /// Run a program on the hosts a target names, and gather how each ended.
    ///
    /// The command is signed with the operator's key (--key) and started on the master through
    /// its socket (--api). Hosts are started a batch at a time (-b); past the failure budget no
    /// more are. A host whose reply is late (--wait) is asked whether it still runs the command:
    /// if not, it is lost. If the master restarts, the job goes on there and is followed again.
    ///
    /// On a terminal a progress bar shows the hosts ended so far; at the end the hosts are grouped
    /// by identical output. --json writes a line per host as it ends, then the totals.
    ///
    /// TARGET: ids and globs (web*, web[1-3]), tag:NAME=VALUE, lists (web1,web2), and, or, not,
    /// parentheses: 'web* and tag:dc=bj and not web3'.
    Run(RunArgs),
    /// Start a master and a swarm of simulated agents on loopback, run one command on all of them,
    /// and show what came back and how long it took.
    ///
    /// The lab's main job on one machine. Each agent is a real agent (handshake, checks,
    /// reconnects) over its own connection, with a built-in echo instead of a process.
    Demo(DemoArgs),
    /// Run many simulated agents for a master (one started with --auto-accept, or whose operator
    /// accepts their keys).
    ///
    /// Their ids are PREFIX00000, PREFIX00001, …, their keys made from --seed; they dial from
    /// 127.0.0.2, 127.0.0.3, … in turn, and "run" programs with a built-in echo.
    Swarm(SwarmArgs),
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
    /// The audit log (who ran what, where, with what result), also the master's journal: a job
    /// a restart interrupted is taken up again from it.
    #[arg(long, value_name = "PATH", default_value = "audit.log")]
    pub audit: PathBuf,
    /// The Unix socket `control run` talks to (made readable by its owner only).
    #[arg(long, value_name = "PATH", default_value = "control.sock")]
    pub api: PathBuf,
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

/// The options of `control run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which hosts: 'web* and tag:dc=bj and not web3'.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The program (its path on the hosts; no shell) and its arguments, after `--`.
    #[arg(value_name = "PROGRAM", required = true, last = true, num_args = 1..)]
    pub program: Vec<String>,
    /// The operator's key file (`control keygen` makes one).
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The master's socket.
    #[arg(long, value_name = "PATH", default_value = "control.sock")]
    pub api: PathBuf,
    /// At most this many hosts at once: a count, or a percentage of the hosts (10%).
    #[arg(short = 'b', long, value_name = "N|N%")]
    pub batch: Option<String>,
    /// No host is started once more than this many failed: a count, or a percentage.
    #[arg(long, value_name = "N|N%")]
    pub failure_budget: Option<String>,
    /// How long the program may run on a host, in seconds: then it is killed, its process group
    /// with it.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// How long a host's reply may take, in seconds, before it is asked whether it still runs the
    /// command.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub wait: f64,
    /// Write a JSON object a line: one per host as it ends, then the totals.
    #[arg(long)]
    pub json: bool,
}

/// The options of `control demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many simulated agents.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub agents: usize,
    /// Which of them run the command.
    #[arg(long, value_name = "TARGET", default_value = "*")]
    pub target: String,
    /// The program and its arguments, after `--` (echoed by the simulated agents).
    #[arg(value_name = "PROGRAM", last = true, default_values_t = ["/bin/echo".to_string(), "hello".to_string()])]
    pub program: Vec<String>,
}

/// The options of `control swarm`.
#[derive(Debug, Args)]
pub struct SwarmArgs {
    /// How many simulated agents.
    #[arg(long, value_name = "N")]
    pub agents: usize,
    /// The master's address.
    #[arg(long, value_name = "ADDR")]
    pub master: SocketAddr,
    /// The master's public key.
    #[arg(long, value_name = "KEY")]
    pub master_key: String,
    /// An operator's public key whose commands the agents run; repeat for each.
    #[arg(long = "operator", value_name = "KEY")]
    pub operators: Vec<String>,
    /// The agents' ids begin with this.
    #[arg(long, value_name = "TEXT", default_value = "sim")]
    pub prefix: String,
    /// How many loopback addresses (127.0.0.2 on) to dial from.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub sources: usize,
    /// What the agents' keys are made from.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Run programs as real processes, as real agents do, rather than echo them.
    #[arg(long)]
    pub processes: bool,
    /// The allow-list: one program path per line (by default /bin/echo, /bin/true,
    /// /bin/hostname and /usr/bin/uptime).
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
