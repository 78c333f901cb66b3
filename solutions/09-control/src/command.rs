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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::PROTOCOL_VERSION;
use crate::keys::{Identity, PublicKey};
use crate::wire::{decode, encode};

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
        let mut rng = rand::rng();
        let issued_ms = unix_ms(SystemTime::now());
        Command {
            version: PROTOCOL_VERSION,
            id: rng.random(),
            targets: targets.to_owned(),
            program: program.to_owned(),
            args: args.to_vec(),
            issued_ms,
            expires_ms: issued_ms.saturating_add(millis(ttl)),
            timeout_ms: millis(timeout),
            nonce: rng.random(),
        }
    }

    /// How long the program may run.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
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
        let body = encode(command);
        let signature = operator.sign(&signed_bytes(&body)).to_vec();
        SignedCommand { body, operator: operator.public().to_bytes(), signature }
    }

    /// The command inside, unchecked: for the master to read its targets and id.
    ///
    /// # Errors
    ///
    /// [`Refusal::Malformed`] when the body is not a command.
    pub fn command(&self) -> Result<Command, Refusal> {
        decode(&self.body).map_err(|err| Refusal::Malformed(err.to_string()))
    }

    /// Whether the signature is `operator`'s over the body (and `operator` is the key named).
    pub fn is_signed_by(&self, operator: &PublicKey) -> bool {
        let Ok(signature) = <[u8; 64]>::try_from(self.signature.as_slice()) else { return false };
        operator.to_bytes() == self.operator && operator.verifies(&signed_bytes(&self.body), &signature)
    }
}

fn signed_bytes(body: &[u8]) -> Vec<u8> {
    [DOMAIN, body].concat()
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
        Checker { operators, max_ttl, seen: HashMap::new(), verified: None }
    }

    /// The same checker, taking a signature `verified` already verified for what it is: for the
    /// agents of one swarm, which simulate many machines on one, each of which would verify on
    /// its own processor at the same time. Every other check (the nonce first) is still its own.
    pub fn sharing(mut self, verified: Arc<Verified>) -> Checker {
        self.verified = Some(verified);
        self
    }

    /// The command inside `signed` when every check passes at `now`, its nonce remembered until
    /// it expires.
    ///
    /// # Errors
    ///
    /// The first [`Refusal`] that applies.
    // ANCHOR: check
    pub fn check(&mut self, signed: &SignedCommand, now: SystemTime) -> Result<Command, Refusal> {
        if signed.signature.iter().all(|&byte| byte == 0) {
            return Err(Refusal::Unsigned);
        }
        let now_ms = unix_ms(now);
        let operator = PublicKey::from_bytes(&signed.operator)
            .ok()
            .filter(|key| self.operators.contains(key))
            .ok_or_else(|| Refusal::UnknownOperator(hex::encode(&signed.operator[..8])))?;
        // The signature before anything in the body is believed, and before a nonce is kept: an
        // unsigned message must not fill the memory of nonces.
        let known = self.verified.as_ref().is_some_and(|verified| verified.contains(signed));
        if !known {
            if !signed.is_signed_by(&operator) {
                return Err(Refusal::BadSignature);
            }
            if let Some(verified) = &self.verified {
                verified.insert(signed);
            }
        }
        let command = signed.command()?;
        if command.version != PROTOCOL_VERSION {
            return Err(Refusal::Version { version: command.version, expected: PROTOCOL_VERSION });
        }
        if now_ms >= command.expires_ms {
            return Err(Refusal::Expired { ago_ms: now_ms - command.expires_ms });
        }
        if command.issued_ms > now_ms.saturating_add(millis(CLOCK_SKEW)) {
            return Err(Refusal::NotYetValid { ahead_ms: command.issued_ms - now_ms });
        }
        let ttl_ms = command.expires_ms.saturating_sub(command.issued_ms);
        if ttl_ms > millis(self.max_ttl) {
            return Err(Refusal::TooLongLived { ttl_ms, max_ms: millis(self.max_ttl) });
        }
        // A nonce need only be remembered while its command is valid: after, expiry refuses it.
        self.seen.retain(|_, expires_ms| *expires_ms > now_ms);
        if self.seen.insert(command.nonce, command.expires_ms).is_some() {
            return Err(Refusal::Replayed);
        }
        Ok(command)
    }
    // ANCHOR_END: check
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, millis)
}

/// `duration` in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
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
        Verified::default()
    }

    /// Whether `signed` is known to verify.
    pub fn contains(&self, signed: &SignedCommand) -> bool {
        self.known.lock().unwrap_or_else(PoisonError::into_inner).contains(&Verified::key(signed))
    }

    /// Remembers that `signed` verifies.
    fn insert(&self, signed: &SignedCommand) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= VERIFIED_KEPT {
            known.clear();
        }
        known.insert(Verified::key(signed));
    }

    fn key(signed: &SignedCommand) -> Vec<u8> {
        [&signed.operator[..], &signed.signature, &signed.body].concat()
    }
}
