//! Commands, signed by an operator and checked by every agent before it runs anything.
//!
//! The session proves which master an agent talks to; it does not prove the master was told to
//! run this command by someone allowed to. So every [`Command`] is signed by an operator's key
//! ([`SignedCommand::sign`]) over its exact bytes, and an agent's [`Checker`] refuses it unless the
//! signature is an operator's it trusts, the command is of this protocol version, it is within
//! its validity and its nonce has not been seen before. A master that is broken into can then
//! replay nothing and forge nothing: the lesson of Salt's CVE-2020-11651 (its master ran
//! whatever a client's unauthenticated message asked).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::PROTOCOL_VERSION;
use crate::keys::{Identity, PublicKey};

/// Prefixed to a command's bytes before signing, so no signature made for something else can
/// pass for a command's.
const DOMAIN: &[u8] = b"control command\0";

/// How far ahead of an agent's clock a command may be issued: the clocks' disagreement.
pub const CLOCK_SKEW: Duration = Duration::from_secs(30);

/// What an operator asks the agents to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The protocol version it was made for ([`PROTOCOL_VERSION`]).
    pub version: u16,
    /// Its id, unique per run: what the replies name.
    pub id: u64,
    /// The target expression, as the operator wrote it.
    pub targets: String,
    /// The program to run, as a path on the agent.
    pub program: String,
    /// Its arguments (no shell: each one is one argument).
    pub args: Vec<String>,
    /// When it was issued, in milliseconds since the Unix epoch.
    pub issued_ms: u64,
    /// When it stops being valid, in milliseconds since the Unix epoch.
    pub expires_ms: u64,
    /// How long the program may run on an agent, in milliseconds.
    pub timeout_ms: u64,
    /// Random bytes no other command has: what makes a replay recognisable.
    pub nonce: [u8; 16],
}

impl Command {
    /// A command of this version, issued now, valid for `ttl`, with a fresh id and nonce.
    pub fn new(targets: &str, program: &str, args: &[String], ttl: Duration, timeout: Duration) -> Command {
        todo!("stage 2: this version, issued now, expiring ttl later, a random id and nonce")
    }

    /// How long the program may run.
    pub fn timeout(&self) -> Duration {
        todo!("stage 2: timeout_ms as a Duration")
    }
}

/// A command as it travels: its bytes, exactly as signed, the operator's key and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCommand {
    /// The command, encoded: what was signed, never encoded again.
    pub body: Vec<u8>,
    /// The signing operator's public key.
    pub operator: [u8; 32],
    /// The signature (64 bytes) of the domain prefix and `body`.
    pub signature: Vec<u8>,
}

impl SignedCommand {
    /// Signs `command` with `operator`'s key.
    pub fn sign(command: &Command, operator: &Identity) -> SignedCommand {
        todo!("stage 2: encode the command, sign signed_bytes of it, name the operator's key")
    }

    /// The command inside, unchecked: for the master to read its targets and id.
    ///
    /// # Errors
    ///
    /// [`Refusal::Malformed`] when the body is not a command.
    pub fn command(&self) -> Result<Command, Refusal> {
        todo!("stage 2: decode the body; Malformed when it fails")
    }

    /// Whether the signature is `operator`'s over the body (and `operator` is the key named).
    pub fn is_signed_by(&self, operator: &PublicKey) -> bool {
        todo!(
            "stage 2: a 64-byte signature, operator the key named, and it verifies signed_bytes of the body"
        )
    }
}

fn signed_bytes(body: &[u8]) -> Vec<u8> {
    todo!("stage 2: DOMAIN, then the body")
}

/// Why an agent would not run a command: sent back to the master as the command's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    /// No signature at all.
    #[error("the command is not signed")]
    Unsigned,
    /// Signed by a key this agent does not trust.
    #[error("signed by {0}, not an operator this agent trusts")]
    UnknownOperator(String),
    /// A signature that does not verify: the command was changed after signing, or forged.
    #[error("the signature does not verify")]
    BadSignature,
    /// Bytes that are not a command.
    #[error("malformed command: {0}")]
    Malformed(String),
    /// A command of another protocol version.
    #[error("protocol version {version} is not {expected}: refused")]
    Version {
        /// The command's version.
        version: u16,
        /// This agent's.
        expected: u16,
    },
    /// Past its expiry.
    #[error("the command expired {ago_ms} ms ago")]
    Expired {
        /// How long ago.
        ago_ms: u64,
    },
    /// Issued later than now, by more than the clocks can disagree.
    #[error("the command is issued {ahead_ms} ms in the future")]
    NotYetValid {
        /// By how much.
        ahead_ms: u64,
    },
    /// Valid for longer than this agent allows (a signature that would stay replayable).
    #[error("the command is valid for {ttl_ms} ms, over the limit of {max_ms} ms")]
    TooLongLived {
        /// Its validity.
        ttl_ms: u64,
        /// The limit.
        max_ms: u64,
    },
    /// Its nonce was seen before: a replay.
    #[error("the command was seen before: a replay")]
    Replayed,
    /// A program this agent's allow-list does not name.
    #[error("{0} is not in this agent's allow-list")]
    NotAllowed(String),
    /// A target expression that does not parse.
    #[error("bad target: {0}")]
    BadTarget(String),
    /// A command whose target does not name this agent: a master may not send a command to
    /// agents its operator did not sign it for.
    #[error("this agent is not among the command's targets")]
    NotTargeted,
}

/// An agent's checks on a signed command: trusted operator, valid signature, this version,
/// within its validity, never seen before.
#[derive(Debug)]
pub struct Checker {
    operators: Vec<PublicKey>,
    max_ttl: Duration,
    seen: HashMap<[u8; 16], u64>,
    verified: Option<Arc<Verified>>,
}

impl Checker {
    /// Checks against the keys of `operators`, refusing commands valid for longer than `max_ttl`.
    pub fn new(operators: Vec<PublicKey>, max_ttl: Duration) -> Checker {
        todo!("stage 2: no nonce seen yet, nothing shared")
    }

    /// The same checker, taking a signature `verified` already verified for what it is: for the
    /// agents of one swarm, which simulate many machines on one, each of which would verify on
    /// its own processor at the same time. Every other check (the nonce first) is still its own.
    pub fn sharing(self, verified: Arc<Verified>) -> Checker {
        todo!("stage 5: keep it, to skip verifying what it knows verified")
    }

    /// The command inside `signed` when every check passes at `now`, its nonce remembered until
    /// it expires.
    ///
    /// # Errors
    ///
    /// The first [`Refusal`] that applies.
    pub fn check(&mut self, signed: &SignedCommand, now: SystemTime) -> Result<Command, Refusal> {
        todo!(
            "stage 2: signed, a trusted operator, the signature, then version, expiry, skew and ttl; forget expired nonces, refuse one seen. Stage 5: a signature the shared set knows is not verified again, one verified goes into it"
        )
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms(time: SystemTime) -> u64 {
    todo!("stage 2: the milliseconds since UNIX_EPOCH, 0 before it")
}

/// `duration` in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    todo!("stage 2: the milliseconds, saturating")
}

/// Signed commands whose signatures verified, shared by checkers that stand for many machines in
/// one process (the swarm): what one verified, the others take as verified. A command is known by
/// all of its bytes (operator, signature and body), so nothing but the very same signed command
/// passes for one.
#[derive(Debug, Default)]
pub struct Verified {
    known: Mutex<HashSet<Vec<u8>>>,
}

/// How many signed commands a [`Verified`] keeps before it starts again: a swarm runs a few at
/// once.
const VERIFIED_KEPT: usize = 1024;

impl Verified {
    /// An empty set.
    pub fn new() -> Verified {
        todo!("stage 5: an empty set")
    }

    /// Whether `signed` is known to verify.
    pub fn contains(&self, signed: &SignedCommand) -> bool {
        todo!("stage 5: whether its key is known")
    }

    /// Remembers that `signed` verifies.
    fn insert(&self, signed: &SignedCommand) {
        todo!("stage 5: keep its key, starting again past VERIFIED_KEPT")
    }

    fn key(signed: &SignedCommand) -> Vec<u8> {
        todo!("stage 5: operator, signature and body, concatenated")
    }
}
