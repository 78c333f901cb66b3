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

use nbnet::codec::HEADER_LEN;
use nbnet::{Context, LengthCodec, Service};
use tracing::{debug, warn};

use super::RelayConfig;
use super::ring::{Ring, series_hash};
use super::stats::{Destination, IntakeCounters, RelayStats};
use crate::point::now_millis;
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
        let remote = config
            .remote_write
            .as_ref()
            .map(|remote| Arc::new(Destination::new(remote.url.clone(), 1, remote.queue_points)));
        Router {
            stores: Tier::new(config, &config.shards),
            judges: Tier::new(config, &config.judges),
            remote,
            intake: IntakeCounters::default(),
        }
    }

    /// Answers the frame `payload` at `now` (milliseconds since the epoch): a batch is validated,
    /// routed and queued, then acked with its accepted and rejected counts; anything else is
    /// refused, closing the connection.
    pub fn handle(&self, payload: &[u8], now: Millis) -> Reply {
        let (seq, mut points) = match decode(payload) {
            Ok(Message::Batch { seq, points }) => (seq, points),
            Ok(other) => return self.refuse(format!("expected a batch, got {}", kind(&other))),
            Err(err) => return self.refuse(err.to_string()),
        };
        let mut rejections = Rejections::default();
        let rejected = keep_valid(&mut points, now, &mut rejections);
        if rejected > 0 {
            debug!(rejected, ?rejections, "points refused");
            self.intake.rejected.lock().unwrap_or_else(std::sync::PoisonError::into_inner).add(&rejections);
        }
        let accepted = points.len();
        self.route(points);
        Destination::add(&self.intake.accepted, accepted);
        Destination::add(&self.intake.batches, 1);
        let accepted = u32::try_from(accepted).unwrap_or(u32::MAX);
        let rejected = u32::try_from(rejected).unwrap_or(u32::MAX);
        Reply { message: Message::Ack { seq, accepted, rejected }, close: false }
    }

    /// Puts each point on its store shard's queue (the connection its series hashes to), a copy on
    /// its judge shard's, and a copy of all on the remote-write queue.
    fn route(&self, points: Vec<Point>) {
        if let Some(remote) = &self.remote {
            Destination::add(&remote.routed, points.len());
            let dropped = remote.queues[0].push(points.clone());
            if dropped > 0 {
                debug!(dropped, "remote-write queue full: oldest points dropped");
            }
        }
        if !self.judges.destinations.is_empty() {
            self.judges.route(points.clone());
        }
        self.stores.route(points);
    }

    /// A refusal, counted.
    fn refuse(&self, reason: String) -> Reply {
        warn!(%reason, "frame refused");
        Destination::add(&self.intake.refused, 1);
        Reply { message: Message::Refused { reason }, close: true }
    }

    /// A snapshot of every counter.
    pub fn stats(&self) -> RelayStats {
        RelayStats {
            shards: self.stores.destinations.iter().map(|shard| shard.snapshot()).collect(),
            judges: self.judges.destinations.iter().map(|judge| judge.snapshot()).collect(),
            remote_write: self.remote.as_ref().map(|remote| remote.snapshot()),
            ..self.intake.snapshot()
        }
    }

    /// Each store shard, in the configuration's order.
    pub(crate) fn shards(&self) -> &[Arc<Destination>] {
        &self.stores.destinations
    }

    /// Each judge shard, in the configuration's order.
    pub(crate) fn judges(&self) -> &[Arc<Destination>] {
        &self.judges.destinations
    }

    /// The remote-write destination, if any.
    pub(crate) fn remote(&self) -> Option<&Arc<Destination>> {
        self.remote.as_ref()
    }

    /// Closes every queue: the service has stopped, nothing more will come.
    pub(crate) fn close(&self) {
        let destinations = self.stores.destinations.iter().chain(&self.judges.destinations);
        destinations.chain(&self.remote).for_each(|destination| destination.close());
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
        let destinations: Vec<Arc<Destination>> = addrs
            .iter()
            .map(|addr| Arc::new(Destination::new(addr.to_string(), config.connections, config.queue_points)))
            .collect();
        let ring = Ring::with_shards(config.vnodes, destinations.iter().map(|shard| shard.name.as_str()));
        let ring_to_shard = ring
            .shards()
            .iter()
            .map(|name| destinations.iter().position(|shard| &shard.name == name).unwrap_or(0))
            .collect();
        Tier { ring, ring_to_shard, destinations }
    }

    /// Puts each point on its shard's queue, the connection its series hashes to.
    fn route(&self, points: Vec<Point>) {
        if self.destinations.is_empty() {
            return;
        }
        // Each part sized for its share and a margin, once: growing a vector of points by doubling
        // asks the allocator for ever larger blocks, and each large request makes glibc's malloc
        // consolidate the small blocks the forwarders free, which cost more than the routing.
        let lanes: usize = self.destinations.iter().map(|shard| shard.queues.len()).sum();
        let share = points.len() / lanes.max(1);
        let capacity = (share + share / 4 + 16).min(points.len());
        let mut parts: Vec<Vec<Vec<Point>>> = self
            .destinations
            .iter()
            .map(|shard| (0..shard.queues.len()).map(|_| Vec::with_capacity(capacity)).collect())
            .collect();
        for point in points {
            let hash = series_hash(&point.host, &point.metric, &point.tags);
            let shard = self.ring.locate(hash).map_or(0, |index| self.ring_to_shard[index]);
            let lanes = parts[shard].len() as u64;
            // The low bits pick the connection; the ring used the whole hash to pick the shard.
            parts[shard][(hash % lanes) as usize].push(point);
        }
        for (shard, lanes) in self.destinations.iter().zip(parts) {
            for (queue, part) in shard.queues.iter().zip(lanes) {
                Destination::add(&shard.routed, part.len());
                let dropped = queue.push(part);
                if dropped > 0 {
                    debug!(shard = %shard.name, dropped, "shard queue full: oldest points dropped");
                }
            }
        }
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
        RelayService { router }
    }
}

impl Service for RelayService {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        LengthCodec::new(MAX_PAYLOAD_BYTES)
    }

    fn call(&self, payload: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        let reply = self.router.handle(&payload, now_millis());
        if reply.close {
            cx.close();
        }
        let mut out = Vec::new();
        encode(&reply.message, &mut out);
        Some(out)
    }
}

/// What kind of message `message` is, for a refusal's reason.
fn kind(message: &Message) -> &'static str {
    match message {
        Message::Batch { .. } => "a batch",
        Message::Ack { .. } => "an ack",
        Message::Refused { .. } => "a refusal",
    }
}
