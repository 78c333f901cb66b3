//! Forwarders: the threads that empty the relay's queues into their destinations. A
//! [`Forwarder`] takes a batch off its [`PointQueue`], sends it over its [`Link`] and takes the
//! next only once the destination has acknowledged it, trying again (after a wait that doubles)
//! as long as the destination fails: at least once, and in order.
//!
//! Each store shard gets [`RelayConfig::connections`](super::RelayConfig::connections)
//! forwarders, each with its own queue and one long connection ([`ShardLink`]): a small pool,
//! with every series always on the same connection of its shard, so that no retry on one
//! connection can put a series' points out of order. There is no failover: a shard is a shard, and
//! what is its own waits for it (within its queue's bound). The store acks a batch once it has
//! written it, and keeps a point once per series and timestamp, so a batch sent again after a lost
//! ack is never stored twice; the points its ack counts as rejected (too late for its out-of-order
//! window) are counted as failed, not sent.
//!
//! Waits are on the [`Shutdown`], never a bare sleep. At a stop the forwarders go on delivering
//! what is queued for up to [`RelayConfig::drain`](super::RelayConfig::drain); a failure then ends
//! them, and what is left is dropped and counted.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::{debug, info, warn};

use super::queue::{PointQueue, Taken};
use super::stats::Destination;
use crate::point::Point;
use crate::shutdown::Shutdown;
use crate::wire::backoff::Backoff;
use crate::wire::{
    FrameDecoder, MAX_DECODED_BYTES, MAX_PAYLOAD_BYTES, Message, decoded_size, encode, write_frame,
};

/// How long a forwarder waits for points at a time, between looks at the shutdown.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// What one try at sending a batch came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The destination acknowledged the batch; it turned `refused` of its points down for good (a
    /// store's points too late for its out-of-order window), and is not sent them again.
    Delivered {
        /// Points the acknowledgement counted as rejected.
        refused: usize,
    },
    /// Not now (no connection, no answer in time, a 5xx): send it again after a wait.
    Failed(String),
    /// Never (a store's `Refused`, an HTTP 4xx): drop the batch and count it. `pause` when the
    /// destination is turning everything down, so the next batch waits.
    Refused {
        /// Why, for the log.
        reason: String,
        /// Whether to wait before the next batch.
        pause: bool,
    },
}

/// A way to send a batch of points to one destination.
pub(crate) trait Link: Send {
    /// Sends `points`, taking at most about `timeout`; they are left as they were.
    fn send(&mut self, points: &mut Vec<Point>, timeout: Duration) -> Outcome;
}

/// How a forwarder sends and how patiently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForwardSettings {
    /// The most points in one batch.
    pub(crate) max_batch_points: usize,
    /// How long one try may take.
    pub(crate) timeout: Duration,
    /// The first wait after a failure.
    pub(crate) backoff_min: Duration,
    /// The longest wait.
    pub(crate) backoff_max: Duration,
    /// How long deliveries go on after a stop.
    pub(crate) drain: Duration,
}

/// One queue's forwarder: its link, and the counters of its destination.
pub(crate) struct Forwarder<L: Link> {
    /// Where the batches go.
    link: L,
    /// Where they come from.
    queue: Arc<PointQueue>,
    /// The destination's counters.
    destination: Arc<Destination>,
    /// Batch size, timeouts, waits.
    settings: ForwardSettings,
    /// The relay's stop.
    shutdown: Shutdown,
    /// Whether the last try failed (to log a failure and a recovery once, not every try).
    failing: bool,
}

impl<L: Link> Forwarder<L> {
    /// A forwarder of `queue` over `link`, counting in `destination`.
    pub(crate) fn new(
        link: L,
        queue: Arc<PointQueue>,
        destination: Arc<Destination>,
        settings: ForwardSettings,
        shutdown: Shutdown,
    ) -> Forwarder<L> {
        todo!("stage 3: keep them")
    }

    /// Delivers batches until the queue is closed and empty, or a stop's drain is over; then drops
    /// (and counts) what is left.
    pub(crate) fn run(self) {
        todo!(
            "stage 3: take batches (waiting IDLE_WAIT at a time) and deliver them until the queue is closed and empty, or the drain after a stop is over; then drop what is left"
        )
    }

    /// Sends `taken` until it is acknowledged or refused, or dropped because newer points were
    /// dropped meanwhile; false when a failure after a stop ended it (the forwarder stops too).
    fn deliver(&mut self, taken: Taken, backoff: &mut Backoff, drain_until: Option<Instant>) -> bool {
        todo!(
            "stage 3: send until Delivered or Refused; on Failed count a retry, wait shutdown.wait_timeout(backoff.next()), and drop the batch if the queue overtook it or a stop came"
        )
    }
}

/// One long connection to a store shard, speaking the agents' protocol: a batch, then its ack.
#[derive(Debug)]
pub(crate) struct ShardLink {
    /// The shard.
    addr: SocketAddr,
    /// How long a connection may take to open.
    connect_timeout: Duration,
    /// The open connection and what it has sent that is not yet a whole frame.
    connection: Option<(TcpStream, FrameDecoder)>,
    /// The next batch's number.
    next_seq: u64,
}

impl ShardLink {
    /// A link to the shard at `addr`; it connects at the first batch.
    pub(crate) fn new(addr: SocketAddr, connect_timeout: Duration) -> ShardLink {
        todo!("stage 3: not connected yet; seqs start at the clock in microseconds")
    }

    /// Writes `payload` as a frame and waits until `deadline` for the ack of `seq`.
    fn exchange(&mut self, payload: &[u8], seq: u64, deadline: Instant) -> Outcome {
        todo!(
            "stage 3: connect if needed, write the frame, read until the ack of seq, a refusal, or the deadline; drop the connection on any failure"
        )
    }
}

impl Link for ShardLink {
    fn send(&mut self, points: &mut Vec<Point>, timeout: Duration) -> Outcome {
        todo!(
            "stage 3: encode the points as one batch (halves, and so on, while over the protocol's limits) and exchange each in turn before the deadline"
        )
    }
}
