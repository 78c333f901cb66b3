//! What a relay has done: [`RelayStats`] for what came in from agents, and a [`ForwardStats`] for
//! each destination (every store shard, and the remote-write endpoint).
//!
//! The counters are atomics and per-destination queues, updated by the service's and the
//! forwarders' threads as they go; [`RelayStats`] is a snapshot of them. Once nothing moves, each
//! destination's `routed` is `sent + queued + dropped + failed`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::wire::Rejections;

use super::queue::PointQueue;

/// A snapshot of a relay's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Agent batches acked.
    pub batches: u64,
    /// Points that passed validation and were queued for their shard.
    pub accepted: u64,
    /// Points refused by validation, by reason.
    pub rejected: Rejections,
    /// Frames answered with [`Message::Refused`](crate::wire::Message::Refused): not a batch of
    /// this protocol version.
    pub refused: u64,
    /// Each store shard, in the order of [`RelayConfig::shards`](super::RelayConfig::shards).
    pub shards: Vec<ForwardStats>,
    /// Each judge shard, in the order of [`RelayConfig::judges`](super::RelayConfig::judges).
    pub judges: Vec<ForwardStats>,
    /// The remote-write endpoint, when there is one.
    pub remote_write: Option<ForwardStats>,
}

/// A snapshot of one destination's counters, in points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardStats {
    /// The destination: a shard's address, or the remote-write URL.
    pub destination: String,
    /// Points routed to it (in).
    pub routed: u64,
    /// Points it acknowledged (out).
    pub sent: u64,
    /// Points waiting for it now, or on their way and not yet acknowledged.
    pub queued: u64,
    /// Points dropped: the oldest, past the queue's bound, or left undelivered at a stop.
    pub dropped: u64,
    /// Points it turned down for good (a store's `Refused` or the rejected count of its ack, an HTTP
    /// 4xx): never resent.
    pub failed: u64,
    /// Tries that failed and were tried again (a connection refused or lost, no ack in time, an
    /// HTTP 5xx).
    pub retries: u64,
}

/// What came in, counted by the service.
#[derive(Debug, Default)]
pub(crate) struct IntakeCounters {
    /// Agent batches acked.
    pub(crate) batches: AtomicU64,
    /// Points accepted.
    pub(crate) accepted: AtomicU64,
    /// Points rejected, by reason.
    pub(crate) rejected: Mutex<Rejections>,
    /// Frames refused.
    pub(crate) refused: AtomicU64,
}

/// One destination's counters: its connections' queues, and what the router and the forwarders
/// count.
#[derive(Debug)]
pub(crate) struct Destination {
    /// A shard's address, or the remote-write URL.
    pub(crate) name: String,
    /// One queue a connection to it (one for remote write).
    pub(crate) queues: Vec<Arc<PointQueue>>,
    /// Points routed to it.
    pub(crate) routed: AtomicU64,
    /// Points acknowledged.
    pub(crate) sent: AtomicU64,
    /// Points taken by a forwarder and not yet acknowledged or dropped.
    pub(crate) in_flight: AtomicU64,
    /// Points turned down for good.
    pub(crate) failed: AtomicU64,
    /// Failed tries.
    pub(crate) retries: AtomicU64,
}

impl IntakeCounters {
    /// The snapshot of these counters (without destinations).
    pub(crate) fn snapshot(&self) -> RelayStats {
        RelayStats {
            batches: self.batches.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            rejected: *self.rejected.lock().unwrap_or_else(PoisonError::into_inner),
            refused: self.refused.load(Ordering::Relaxed),
            shards: Vec::new(),
            judges: Vec::new(),
            remote_write: None,
        }
    }
}

impl Destination {
    /// A destination named `name` with `connections` queues of `max_points / connections` points
    /// each (rounded up).
    pub(crate) fn new(name: String, connections: usize, max_points: usize) -> Destination {
        let connections = connections.max(1);
        let per_queue = max_points.div_ceil(connections);
        Destination {
            name,
            queues: (0..connections).map(|_| Arc::new(PointQueue::new(per_queue))).collect(),
            routed: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    /// Adds `n` to `counter`.
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Takes `n` from `counter`.
    pub(crate) fn sub(counter: &AtomicU64, n: usize) {
        counter.fetch_sub(n as u64, Ordering::Relaxed);
    }

    /// The snapshot of this destination's counters.
    pub(crate) fn snapshot(&self) -> ForwardStats {
        let waiting: usize = self.queues.iter().map(|queue| queue.len()).sum();
        ForwardStats {
            destination: self.name.clone(),
            routed: self.routed.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            queued: waiting as u64 + self.in_flight.load(Ordering::Relaxed),
            dropped: self.queues.iter().map(|queue| queue.dropped()).sum(),
            failed: self.failed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }

    /// Closes every queue: nothing more will be routed here.
    pub(crate) fn close(&self) {
        for queue in &self.queues {
            queue.close();
        }
    }
}
