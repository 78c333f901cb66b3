//! `control`: a control system (agents on every machine that dial out to a master, which sends
//! them the commands operators sign and gathers what each did), lab 09 of the course.
//!
//! An agent keeps one long connection to the master, reconnecting with a jittered backoff
//! ([`backoff`]) and sending heartbeats. The connection is a Noise session ([`session`]) between
//! enrolled ed25519 keys ([`keys`]): the master lets in only the agents an operator accepted, the
//! agents talk only to the master whose key they pinned, and every frame after the handshake is
//! sealed. Commands are signed by an operator ([`command`]), and each agent checks the signature,
//! the validity, the nonce and its allow-list before it runs anything ([`agent`]). The master
//! ([`master`]) keeps the connected agents in a [`registry`] and rolls each command out as a job
//! over the hosts its [`target`] names, in batches, following every host to its end and writing
//! who ran what in an [`audit`] log.
//!
//! # Layout
//!
//! - [`wire`]: frames ([`wire::FrameReader`]) and the protocol's messages ([`wire::ToMaster`],
//!   [`wire::ToAgent`]).
//! - [`backoff`]: reconnecting without a thundering herd ([`backoff::Backoff`],
//!   [`backoff::keep_connected`]).
//! - [`registry`]: who is connected, since when, with which tags ([`registry::Registry`]).
//! - [`keys`]: key pairs ([`keys::Identity`]) and the master's enrolment records
//!   ([`keys::KeyStore`]).
//! - [`session`]: the Noise IK handshake and sealed frames ([`session::Session`]).
//! - [`command`]: signed commands and an agent's checks on them ([`command::Checker`]).
//! - [`target`]: which agents a command is for ([`target::Target`]).
//! - [`exec`]: running a program in its own process group, with a timeout.
//! - [`agent`]: the agent ([`agent::spawn_agent`]); [`master`]: the master
//!   ([`master::Master`], [`master::MasterHandle`]) and its jobs ([`master::Job`]).
//! - [`audit`]: the audit log ([`audit::AuditLog`]).
//! - [`gather`]: a job's results gathered as they come ([`gather::Gather`]).
//! - [`operator`]: the master's operator socket and its client ([`operator::Operator`]).
//! - [`swarm`]: many simulated agents in one process ([`swarm::Swarm`]).
//! - the `control` command: [`cli`] (its arguments), [`config`] (what to run, [`Config`]),
//!   [`run()`] (running it until a [`Shutdown`], [`Outcome`]), [`follow`] (`control run`'s
//!   job followed on a terminal), [`demo`] (`control demo` and `control swarm`), [`error`]
//!   ([`Error`]).

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod agent;
pub mod audit;
pub mod backoff;
pub mod cli;
pub mod command;
pub mod config;
pub mod demo;
pub mod error;
pub mod exec;
pub mod follow;
pub mod gather;
pub mod keys;
pub mod master;
pub mod operator;
pub mod registry;
pub mod run;
pub mod session;
pub mod shutdown;
pub mod swarm;
pub mod target;
pub mod wire;

pub use config::Config;
pub use error::Error;
pub use run::{Outcome, run};
pub use shutdown::Shutdown;

/// The version of the protocol this crate speaks. Agents refuse commands of any other, and the
/// handshake's prologue names it, so peers of different versions cannot talk at all.
pub const PROTOCOL_VERSION: u16 = 1;

/// A result whose error is this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
