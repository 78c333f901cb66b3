//! The relay's intake: [`Router`] decodes an agent's batch, refuses its invalid points one by one
//! (counted by reason), routes each of the rest by its series to its shard's queue (and a copy to
//! the remote-write queue), and answers; [`RelayService`] serves it on lab 07's event loop.
//!
//! The ack says the batch is *queued*, not stored: like Open-Falcon's transfer, the relay answers
//! an agent as soon as its points are in the relay's queues, so an agent never waits for a store,
//! and a store that is slow or down holds up nobody but its own queue. The point of durability is
//! the store (it acks only what it has written); a relay that crashes loses what it has queued.
//! A frame that is not a batch of this protocol version is answered with
//! [`Message::Refused`] and the connection is closed.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use nbnet::codec::HEADER_LEN;
use nbnet::{Context, LengthCodec, Service};
use tracing::{debug, warn};

use super::RelayConfig;
use super::ring::{Ring, series_hash};
use super::stats::{Destination, IntakeCounters, RelayStats};
use crate::point::{Millis, Point};
use crate::wire::{MAX_PAYLOAD_BYTES, Message, Rejections, decode, encode, keep_valid};

/// The longest frame the relay reads: a payload of [`MAX_PAYLOAD_BYTES`] and its header.
pub const MAX_FRAME_BYTES: usize = MAX_PAYLOAD_BYTES + HEADER_LEN;

/// Where each point goes: the rings over the store shards and the judge shards, their queues
/// and the counters.
#[derive(Debug)]
pub struct Router {
    /// The store shards.
    stores: Tier,
    /// The judge shards (stage 6): every point goes to one of them too, by a ring of their own.
    judges: Tier,
    /// The remote-write endpoint, if any.
    remote: Option<Arc<Destination>>,
    /// What came in.
    intake: IntakeCounters,
}

/// The answer to one frame: the message, and whether to close the connection after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// An ack, or a refusal.
    pub message: Message,
    /// Whether the connection is to be closed once the message is written.
    pub close: bool,
}

impl Router {
    /// A router for `config`: its shards on a ring of [`RelayConfig::vnodes`] points a shard, each
    /// with [`RelayConfig::connections`] queues sharing [`RelayConfig::queue_points`], and the
    /// remote-write endpoint's queue if there is one. Nothing is sent until forwarders empty the
    /// queues ([`super::Relay::start`] starts them).
    pub fn new(config: &RelayConfig) -> Router {
        todo!(
            "stage 3: a Tier for the store shards (stage 6: one for the judges) and a Destination for remote write"
        )
    }

    /// Answers the frame `payload` at `now` (milliseconds since the epoch): a batch is validated,
    /// routed and queued, then acked with its accepted and rejected counts; anything else is
    /// refused, closing the connection.
    pub fn handle(&self, payload: &[u8], now: Millis) -> Reply {
        todo!(
            "stage 3: decode; refuse (and close) anything but a batch; keep_valid counting rejections; route; ack with the counts"
        )
    }

    /// Puts each point on its store shard's queue (the connection its series hashes to), a copy on
    /// its judge shard's, and a copy of all on the remote-write queue.
    fn route(&self, points: Vec<Point>) {
        todo!(
            "stage 3: a copy of all for remote write; stage 6: a copy for the judges' tier; then the stores' tier routes them"
        )
    }

    /// A snapshot of every counter.
    pub fn stats(&self) -> RelayStats {
        todo!("stage 3: the intake's snapshot with every destination's")
    }

    /// Each store shard, in the configuration's order.
    pub(crate) fn shards(&self) -> &[Arc<Destination>] {
        todo!("stage 3: the store shards")
    }

    /// Each judge shard, in the configuration's order.
    pub(crate) fn judges(&self) -> &[Arc<Destination>] {
        todo!("stage 6: the judge shards")
    }

    /// The remote-write destination, if any.
    pub(crate) fn remote(&self) -> Option<&Arc<Destination>> {
        todo!("stage 3: the remote-write destination")
    }

    /// Closes every queue: the service has stopped, nothing more will come.
    pub(crate) fn close(&self) {
        todo!("stage 3: close every destination's queues")
    }
}

/// Shards of one kind (stores, or judges): a ring over their addresses and their queues.
#[derive(Debug)]
struct Tier {
    /// The ring, named by address.
    ring: Ring,
    /// For each ring index, the shard's index in `destinations`.
    ring_to_shard: Vec<usize>,
    /// Each shard, in the configuration's order.
    destinations: Vec<Arc<Destination>>,
}

impl Tier {
    /// The shards at `addrs`, each with `config`'s connections sharing its queue bound.
    fn new(config: &RelayConfig, addrs: &[std::net::SocketAddr]) -> Tier {
        todo!(
            "stage 3: a Destination a shard (connections queues sharing queue_points), and the ring over their addresses"
        )
    }

    /// Puts each point on its shard's queue, the connection its series hashes to.
    fn route(&self, points: Vec<Point>) {
        todo!(
            "stage 3: series_hash each point; the ring picks the shard, hash % connections its queue; push each part"
        )
    }
}

/// The relay on nbnet: one [`Router`], shared by the event loop's workers.
#[derive(Debug, Clone)]
pub struct RelayService {
    /// The router.
    router: Arc<Router>,
}

impl RelayService {
    /// The service answering with `router`.
    pub fn new(router: Arc<Router>) -> RelayService {
        todo!("stage 3: keep it")
    }
}

impl Service for RelayService {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        todo!("stage 3: a LengthCodec of MAX_PAYLOAD_BYTES")
    }

    fn call(&self, payload: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        todo!("stage 3: the router's reply, encoded; cx.close() when it says so")
    }
}
