//! The messages of the protocol, in postcard: what an agent says to the master ([`ToMaster`]) and
//! what the master says to an agent ([`ToAgent`]). New variants go at the end of each enum, since
//! postcard numbers them in order.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::WireError;
use crate::command::{Refusal, SignedCommand};

/// What an agent sends the master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToMaster {
    /// The first message of a session: who the agent says it is, beyond its key.
    Hello(Hello),
    /// "Still here": sent every heartbeat interval, and answered.
    Heartbeat,
    /// The end of a command on this agent.
    Reply(Reply),
    /// The answer to [`ToAgent::FindJob`].
    Job(JobStatus),
}

/// What an agent tells the master once its session is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the agent speaks ([`crate::PROTOCOL_VERSION`]).
    pub version: u16,
    /// Its tags, as `role=web`, `dc=bj`: what targets select by.
    pub tags: BTreeMap<String, String>,
}

/// What the master sends an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToAgent {
    /// The answer to [`ToMaster::Hello`]: the agent is registered.
    Welcome(Welcome),
    /// The answer to a [`ToMaster::Heartbeat`].
    Heartbeat,
    /// A command to run, signed by an operator.
    Run(SignedCommand),
    /// "Are you still running command N?", asked of an agent whose reply is late (Salt's
    /// `find_job`): a late host that is still running is waited for, a host that does not answer
    /// is lost.
    FindJob(u64),
}

/// What the master tells an agent it has registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// How often the master expects a heartbeat, in milliseconds.
    pub heartbeat_ms: u64,
}

/// Whether an agent is running a command, as it answers [`ToAgent::FindJob`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The command's id.
    pub command: u64,
    /// Whether it is running it now. An agent that finished it has sent its reply before this
    /// answer, on the same connection; one that never heard of it (it restarted) says `false`.
    pub running: bool,
}

/// How one command ended on one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The command's id.
    pub command: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// What happened to a command on an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The agent would not run it, and why.
    Refused(Refusal),
    /// It ran: how it ended and what it printed.
    Exited(Exit),
}

/// How a program ended and what it printed (each stream capped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Whether it was killed at its timeout.
    pub timed_out: bool,
    /// What it wrote to standard output, up to the cap.
    pub stdout: Vec<u8>,
    /// What it wrote to standard error, up to the cap.
    pub stderr: Vec<u8>,
    /// Whether either stream went over the cap.
    pub truncated: bool,
}

impl Exit {
    /// The status a shell would report: the exit code, or 128 + the signal.
    pub fn status(&self) -> i32 {
        self.code.or(self.signal.map(|signal| 128 + signal)).unwrap_or(1)
    }
}

/// Encodes a message.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Serializing to a Vec fails only for types serde cannot describe, and ours are all plain data.
    postcard::to_stdvec(message).expect("protocol messages are plain data")
}

/// Decodes a message, all of `bytes` and nothing else.
///
/// # Errors
///
/// [`WireError::Malformed`] when `bytes` is not one whole message of type `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    match postcard::take_from_bytes(bytes) {
        Ok((message, [])) => Ok(message),
        Ok((_, rest)) => Err(WireError::Malformed(format!("{} bytes after the message", rest.len()))),
        Err(err) => Err(WireError::Malformed(err.to_string())),
    }
}
