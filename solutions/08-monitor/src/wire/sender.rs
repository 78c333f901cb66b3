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
use crate::point::Point;
use crate::point::now_millis;
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
        let refused_until = vec![None; config.relays.len()];
        Sender {
            config,
            spool,
            connection: None,
            relay: 0,
            refused_until,
            next_seq: now_micros(),
            stats: SenderStats::default(),
        }
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
        self.spool_points(points)?;
        self.deliver()
    }

    /// The counts so far, and the spool's and the connection's state now.
    pub fn stats(&self) -> SenderStats {
        SenderStats {
            spooled: self.spool.len(),
            dropped: self.spool.dropped(),
            relay: self.connection.as_ref().map(Connection::addr),
            ..self.stats.clone()
        }
    }

    /// The agent's loop: receives point vectors from `points`, sends them, and while the spool is
    /// not empty retries with jittered, capped backoff (waiting on `shutdown.wait_timeout`, never a
    /// bare sleep) until `shutdown`; returns the final stats.
    ///
    /// It also returns once `points` is closed and the spool is empty. At a stop, points still in
    /// the channel are spooled (for the next run) and, if a relay is connected, the spool gets one
    /// last delivery.
    pub fn run(mut self, points: Receiver<Vec<Point>>, shutdown: Shutdown) -> SenderStats {
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        let mut open = true;
        while !shutdown.is_stopped() {
            let mut batch = Vec::new();
            if open && self.spool.is_empty() {
                match points.recv_timeout(IDLE_WAIT) {
                    Ok(more) => batch = more,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => open = false,
                }
            }
            open &= drain(&points, &mut batch);
            if let Err(err) = self.send(batch) {
                error!(cause = %err, "cannot spool points");
            }
            if self.spool.is_empty() {
                backoff.reset();
                if !open {
                    break;
                }
            } else if shutdown.wait_timeout(backoff.next()) {
                break;
            }
        }
        let mut rest = Vec::new();
        drain(&points, &mut rest);
        if let Err(err) = self.spool_points(rest) {
            error!(cause = %err, "cannot spool points");
        }
        if self.connection.is_some() {
            if let Err(err) = self.deliver() {
                error!(cause = %err, "cannot read the spool");
            }
        }
        self.stats()
    }

    /// Drops invalid points and spools the rest as batches.
    fn spool_points(&mut self, mut points: Vec<Point>) -> crate::Result<()> {
        let mut rejections = Rejections::default();
        let invalid = keep_valid(&mut points, now_millis(), &mut rejections);
        if invalid > 0 {
            warn!(invalid, ?rejections, "points refused before sending");
            self.stats.points_invalid += invalid as u64;
        }
        let max = self.config.max_batch_points.clamp(1, MAX_BATCH_POINTS);
        while !points.is_empty() {
            let rest = points.split_off(points.len().min(max));
            self.spool_batch(std::mem::replace(&mut points, rest))?;
        }
        Ok(())
    }

    /// Spools `points` as one batch, or as two halves (and so on) when one would be over the
    /// protocol's limits.
    fn spool_batch(&mut self, points: Vec<Point>) -> crate::Result<()> {
        if points.len() > 1 && decoded_size(&points) > MAX_DECODED_BYTES {
            return self.spool_halves(points);
        }
        let seq = self.next_seq.max(now_micros());
        self.next_seq = seq + 1;
        let message = Message::Batch { seq, points };
        let mut payload = Vec::new();
        encode(&message, &mut payload);
        match message {
            Message::Batch { points, .. } if payload.len() > MAX_PAYLOAD_BYTES && points.len() > 1 => {
                self.spool_halves(points)
            }
            _ => self.spool.push(&payload),
        }
    }

    /// Spools each half of `points` as a batch.
    fn spool_halves(&mut self, mut points: Vec<Point>) -> crate::Result<()> {
        let second = points.split_off(points.len() / 2);
        self.spool_batch(points)?;
        self.spool_batch(second)
    }

    /// Sends the spool's batches in order until it is empty or every relay has failed once.
    fn deliver(&mut self) -> crate::Result<()> {
        let mut failures = 0;
        while let Some(record) = self.spool.front()? {
            let seq = match batch_seq(&record) {
                Ok(seq) => seq,
                Err(err) => {
                    warn!(cause = %err, "spooled record is not a batch: dropped");
                    self.spool.pop_front()?;
                    continue;
                }
            };
            if self.connection.is_none() && !self.connect() {
                debug!(spooled = self.spool.len(), "no relay answers; batches stay spooled");
                return Ok(());
            }
            let Some(connection) = self.connection.as_mut() else { continue };
            let used = connection.acked() > 0;
            match connection.exchange(&record, seq, self.config.ack_timeout) {
                Ok((accepted, rejected)) => {
                    self.spool.pop_front()?;
                    self.stats.batches_acked += 1;
                    self.stats.points_acked += u64::from(accepted);
                    self.stats.points_rejected += u64::from(rejected);
                    failures = 0;
                }
                // A connection that has carried batches may have been closed while idle (the relay
                // restarted, or timed it out): a fresh one is tried before the relay counts as failed.
                Err(Fault::Io(err)) if used && is_closed(&err) => {
                    info!(relay = %self.config.relays[self.relay], cause = %err, "connection lost; reconnecting");
                    self.connection = None;
                }
                Err(fault) => {
                    self.fail(fault);
                    failures += 1;
                    if failures >= self.config.relays.len() {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Connects to the first relay, from the current one on, that accepts; false when none does.
    fn connect(&mut self) -> bool {
        let count = self.config.relays.len();
        for _ in 0..count {
            let index = self.relay;
            let addr = self.config.relays[index];
            if self.refused_until[index].is_some_and(|until| Instant::now() < until) {
                self.relay = (index + 1) % count;
                continue;
            }
            match Connection::open(addr, self.config.connect_timeout) {
                Ok(connection) => {
                    info!(relay = %addr, "connected");
                    self.stats.connections += 1;
                    self.connection = Some(connection);
                    return true;
                }
                Err(err) => {
                    debug!(relay = %addr, cause = %err, "cannot connect");
                    self.next_relay();
                }
            }
        }
        false
    }

    /// Closes the connection after `fault` and moves to the next relay.
    fn fail(&mut self, fault: Fault) {
        let relay = self.config.relays[self.relay];
        self.connection = None;
        match fault {
            Fault::Io(err) => warn!(%relay, cause = %err, "relay failed; batch stays spooled"),
            Fault::Protocol(what) => {
                warn!(%relay, cause = %what, "relay broke the protocol; batch stays spooled")
            }
            Fault::Refused(reason) => {
                error!(%relay, %reason, wait = ?self.config.refused_wait, "relay refused us; leaving it alone");
                self.stats.refusals += 1;
                self.refused_until[self.relay] = Some(Instant::now() + self.config.refused_wait);
            }
        }
        self.next_relay();
    }

    /// Moves to the next relay address (counted as a failover when there is another).
    fn next_relay(&mut self) {
        let count = self.config.relays.len();
        if count > 1 {
            self.stats.failovers += 1;
        }
        self.relay = (self.relay + 1) % count.max(1);
    }
}

/// Whether `err` says the peer closed the connection (rather than that it is slow).
fn is_closed(err: &io::Error) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(err.kind(), BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof)
}

/// Moves what `points` holds now into `batch`; false once the channel is closed.
fn drain(points: &Receiver<Vec<Point>>, batch: &mut Vec<Point>) -> bool {
    loop {
        match points.try_recv() {
            Ok(more) => batch.extend(more),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
}

/// Now, in microseconds since the epoch: where a sender's `seq`s start, so that a restarted agent's
/// batches still number above its last run's.
fn now_micros() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}
