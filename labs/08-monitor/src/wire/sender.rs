//! [`Sender`]: the agent's end of the wire. Points go into the [`Spool`] as batches, and leave it
//! only when a relay has acked them, over one long connection that fails over across the relays'
//! addresses.
//!
//! Each spool record is one batch's payload, as [`encode`] writes it, so a spool
//! left by a stopped agent can be read by the next one (or by a tool).
//!
//! Delivery is at least once and in order: a batch is spooled (and fsynced) before it is sent, and
//! is sent again, with its own `seq`, when the connection fails before its ack comes, so a relay
//! may see a batch twice (only if an ack was lost) but never out of order. One batch is in flight
//! at a time: the ack names its `seq`. While no relay answers, batches wait in the spool; the
//! agent's loop ([`Sender::run`]) tries again after a jittered, capped backoff, waiting on the
//! [`Shutdown`] so that a stop is obeyed at once. A relay that answers [`Message::Refused`] (a
//! version it does not speak) is left alone for [`SenderConfig::refused_wait`] rather than asked
//! again and again. Everything is blocking `std` I/O with timeouts.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::{debug, error, info, warn};

use super::backoff::Backoff;
use super::connection::{Connection, Fault};
use super::message::{
    MAX_BATCH_POINTS, MAX_DECODED_BYTES, MAX_PAYLOAD_BYTES, Message, batch_seq, decoded_size, encode,
};
use super::spool::Spool;
use super::validate::{Rejections, keep_valid};
use crate::point::{Millis, Point};
use crate::shutdown::Shutdown;

/// How long [`Sender::run`] waits for points at a time while nothing is spooled, between looks at
/// the shutdown.
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// Where the sender sends and how patiently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// The relays, in order of preference: the sender uses one until it fails, then the next.
    pub relays: Vec<SocketAddr>,
    /// How long a connection may take to open.
    pub connect_timeout: Duration,
    /// How long a batch's ack may take (writing the batch included).
    pub ack_timeout: Duration,
    /// The most points in one batch (at most [`MAX_BATCH_POINTS`]).
    pub max_batch_points: usize,
    /// The first wait before trying again while no relay answers.
    pub backoff_min: Duration,
    /// The longest wait: each failed round doubles it up to this.
    pub backoff_max: Duration,
    /// How long a relay that answered [`Message::Refused`] is left alone.
    pub refused_wait: Duration,
}

impl SenderConfig {
    /// Sending to `relays` with a 1 s connect timeout, a 5 s ack timeout, batches of 1000 points,
    /// a backoff from 100 ms up to 10 s, and 10 minutes' rest for a relay that refused.
    pub fn new(relays: Vec<SocketAddr>) -> SenderConfig {
        SenderConfig {
            relays,
            connect_timeout: Duration::from_secs(1),
            ack_timeout: Duration::from_secs(5),
            max_batch_points: 1000,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            refused_wait: Duration::from_secs(600),
        }
    }
}

/// What a sender has done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// Batches acked by a relay.
    pub batches_acked: u64,
    /// Points the relays' acks counted as accepted.
    pub points_acked: u64,
    /// Points the relays' acks counted as rejected.
    pub points_rejected: u64,
    /// Points dropped before spooling because [`super::validate()`] refused them.
    pub points_invalid: u64,
    /// Batches in the spool now, waiting for an ack.
    pub spooled: usize,
    /// Batches the spool dropped (the oldest, over its bound) since it was opened.
    pub dropped: u64,
    /// Connections opened to relays.
    pub connections: u64,
    /// Times the sender gave up on a relay and moved to the next address.
    pub failovers: u64,
    /// [`Message::Refused`] answers received.
    pub refusals: u64,
    /// The relay connected to now, if any.
    pub relay: Option<SocketAddr>,
}

/// The agent's sender: a spool, and one connection to a relay.
#[derive(Debug)]
pub struct Sender {
    /// The settings.
    config: SenderConfig,
    /// Batches not yet acked, oldest first.
    spool: Spool,
    /// The open connection, if any.
    connection: Option<Connection>,
    /// The index in `config.relays` of the relay in use, or to be tried next.
    relay: usize,
    /// For each relay, until when it is left alone after a refusal.
    refused_until: Vec<Option<Instant>>,
    /// The lowest `seq` the next batch may have.
    next_seq: u64,
    /// The counts so far (`spooled`, `dropped` and `relay` are filled in by `stats`).
    stats: SenderStats,
}

impl Sender {
    /// A sender over `spool` (which may hold batches from an earlier run: they go first). No
    /// connection is made until there is something to send.
    pub fn new(config: SenderConfig, spool: Spool) -> Sender {
        todo!("stage 2: no connection yet; seqs start at the clock in microseconds")
    }

    /// Spools `points` (as batches of at most max_batch_points) and then delivers as much of the
    /// spool as the relay acks, in order; failing over to the next relay address when one refuses
    /// or times out.
    ///
    /// Points [`super::validate()`] refuses are dropped first and counted
    /// ([`SenderStats::points_invalid`]). Each relay is tried at most once a call (a connection
    /// closed while idle is first replaced by a fresh one): when none answers, the batches stay
    /// spooled for the next call.
    ///
    /// # Errors
    ///
    /// Only when the spool cannot be written or read ([`crate::Error::File`]); a relay that is
    /// down is not an error.
    pub fn send(&mut self, points: Vec<Point>) -> crate::Result<()> {
        todo!(
            "stage 2: validate, spool as batches of at most max_batch_points, then deliver the spool in order until it is empty or every relay failed once"
        )
    }

    /// The counts so far, and the spool's and the connection's state now.
    pub fn stats(&self) -> SenderStats {
        todo!("stage 2: the counts, with the spool's length and drops and the relay connected to")
    }

    /// The agent's loop: receives point vectors from `points`, sends them, and while the spool is
    /// not empty retries with jittered, capped backoff (waiting on `shutdown.wait_timeout`, never a
    /// bare sleep) until `shutdown`; returns the final stats.
    ///
    /// It also returns once `points` is closed and the spool is empty. At a stop, points still in
    /// the channel are spooled (for the next run) and, if a relay is connected, the spool gets one
    /// last delivery.
    pub fn run(self, points: Receiver<Vec<Point>>, shutdown: Shutdown) -> SenderStats {
        todo!(
            "stage 2: receive, send, and while the spool is not empty wait shutdown.wait_timeout(backoff) and try again; at a stop, spool what is still in the channel"
        )
    }
}
