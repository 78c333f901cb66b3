//! The relay (stage 3), `monitor relay`: Open-Falcon's *transfer*. Agents send it their batches;
//! it routes every series to its store shard by consistent hashing, and forwards each shard's
//! points over a small pool of long connections, queueing them (within a bound) while the shard is
//! down. It can also forward every point to an existing scalable store over Prometheus remote
//! write.
//!
//! ```text
//! agent ─batch─▶ RelayService ─▶ Router ─┬─▶ PointQueue ─▶ Forwarder ─▶ store shard 1
//!       ◀─ack──   (on nbnet)    validate  ├─▶ PointQueue ─▶ Forwarder ─▶ store shard 1
//!                               + ring    ├─▶ PointQueue ─▶ Forwarder ─▶ store shard 2 ...
//!                                         └─▶ PointQueue ─▶ Forwarder ─▶ remote write (a copy of all)
//! ```
//!
//! An agent's batch is acked once its points are validated and queued: the relay is not where
//! data is made durable (the store is, and it acks the relay only once it has written), so a relay
//! that crashes loses what it had queued, and a store that is down or slow holds up no agent. Each
//! shard's points wait in bounded queues: past the bound the oldest are dropped and counted, so
//! memory stays flat whatever happens downstream. Delivery to a store is at least once and in order
//! for each series; the store keeps a point once per series and timestamp, so a resend after a
//! lost ack is harmless.
//!
//! # Layout
//!
//! - [`ring`]: consistent hashing with virtual nodes ([`Ring`], [`ring::series_hash`]).
//! - [`queue`]: a bounded queue of points that drops the oldest ([`PointQueue`]).
//! - [`service`]: decoding, validating, routing and acking ([`Router`]) on nbnet
//!   ([`RelayService`]).
//! - `forward` (private): the forwarders, and the link to a store shard.
//! - [`remote_write`]: Prometheus remote write (the messages, the names, the rule for answers);
//!   [`http`]: the HTTP/1.1 client it posts with.
//! - [`stats`]: the counters ([`RelayStats`], [`ForwardStats`]).
//! - here: the settings ([`RelayConfig`]) and a running relay ([`Relay`]).

mod forward;
pub mod http;
pub mod queue;
pub mod remote_write;
pub mod ring;
pub mod service;
pub mod stats;

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nbnet::{Options, Server};
use tracing::info;

use self::forward::{ForwardSettings, Forwarder, ShardLink};
use self::http::{HttpClient, HttpEndpoint};
use self::remote_write::RemoteLink;
use self::service::MAX_FRAME_BYTES;
use crate::error::Error;
use crate::shutdown::Shutdown;
use crate::wire::MAX_BATCH_POINTS;

pub use queue::PointQueue;
pub use remote_write::RemoteWriteConfig;
pub use ring::{DEFAULT_VNODES, Ring};
pub use service::{RelayService, Reply, Router};
pub use stats::{ForwardStats, RelayStats};

/// Everything a relay needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Where agents connect (port 0: any free port, see [`Relay::local_addr`]).
    pub listen: SocketAddr,
    /// The store shards; a series' shard is named by the ring over their addresses as written, so
    /// a shard that moves to another address takes other series.
    pub shards: Vec<SocketAddr>,
    /// The judge shards (stage 6): each point also goes to one of them, by a ring of their own
    /// (with the same virtual nodes, connections and queue bound as the store shards').
    pub judges: Vec<SocketAddr>,
    /// Virtual nodes a shard on the ring.
    pub vnodes: usize,
    /// Long connections to each shard, each with its share of the shard's queue; a series always
    /// uses the same one.
    pub connections: usize,
    /// The most points waiting for one shard (shared by its connections); past it the oldest are
    /// dropped. A decoded point with a tag takes about 800 bytes (its strings and its tag map's
    /// node), so 100,000 take about 80 MB.
    pub queue_points: usize,
    /// The most points in one batch to a store (at most [`MAX_BATCH_POINTS`]).
    pub max_batch_points: usize,
    /// How long a connection to a store may take to open.
    pub connect_timeout: Duration,
    /// How long a batch's ack may take (connecting and writing included).
    pub ack_timeout: Duration,
    /// The first wait before sending again after a failure.
    pub backoff_min: Duration,
    /// The longest wait: each failure in a row doubles it up to this.
    pub backoff_max: Duration,
    /// How long, after a stop, the forwarders go on delivering what is queued.
    pub drain: Duration,
    /// Event-loop workers serving agents; 0: one a core.
    pub workers: usize,
    /// Forward every point over Prometheus remote write too.
    pub remote_write: Option<RemoteWriteConfig>,
}

impl RelayConfig {
    /// A relay on `listen` for `shards` and no judge: [`DEFAULT_VNODES`] a shard, 2 connections a shard,
    /// 100,000 points queued a shard (as Open-Falcon's transfer queues), batches of 5,000 points, a
    /// 1 s connect timeout, a 10 s ack timeout, waits from 100 ms to 10 s, 5 s to drain at a stop,
    /// one worker a core, no remote write.
    pub fn new(listen: SocketAddr, shards: Vec<SocketAddr>) -> RelayConfig {
        todo!("stage 3: the defaults the doc comment lists")
    }
}

/// A running relay: its event loop and its forwarders, each on its own thread, until the
/// [`Shutdown`] it was started with. Dropping it does not stop it: stop the shutdown, then
/// [`Relay::join`].
///
/// # Examples
///
/// ```
/// use monitor::relay::{Relay, RelayConfig};
/// use monitor::Shutdown;
/// let shutdown = Shutdown::new();
/// let store = "127.0.0.1:1".parse().unwrap(); // nobody there: its points wait in the queue
/// let relay = Relay::start(RelayConfig::new("127.0.0.1:0".parse().unwrap(), vec![store]), &shutdown)?;
/// assert_ne!(relay.local_addr().port(), 0);
/// shutdown.stop();
/// let stats = relay.join()?;
/// assert_eq!(stats.batches, 0);
/// # Ok::<(), monitor::Error>(())
/// ```
#[derive(Debug)]
pub struct Relay {
    /// The address agents connect to.
    local_addr: SocketAddr,
    /// The router, for its counters.
    router: Arc<Router>,
    /// The event loop's thread; it closes the queues when it ends.
    server: JoinHandle<Result<(), nbnet::Error>>,
    /// The forwarders' threads.
    forwarders: Vec<JoinHandle<()>>,
}

impl Relay {
    /// Checks `config`, binds its address, starts the forwarders and the event loop, and returns at
    /// once; everything runs until `shutdown`. After the stop the relay accepts nothing more and
    /// its forwarders deliver what is queued for up to [`RelayConfig::drain`].
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for no shard, no judge and no remote write, a shard or judge named
    /// twice, or a remote-write URL that is not `http://`; [`Error::Sys`] when the address cannot
    /// be bound or a thread cannot be started.
    pub fn start(config: RelayConfig, shutdown: &Shutdown) -> crate::Result<Relay> {
        todo!(
            "stage 3: check the config, build the Router, bind nbnet's Server with a RelayService, start a Forwarder per queue, run the server on a thread that closes the queues when it ends, and stop it on shutdown.on_stop"
        )
    }

    /// The address agents connect to.
    pub fn local_addr(&self) -> SocketAddr {
        todo!("stage 3: the bound address")
    }

    /// A snapshot of the relay's counters.
    pub fn stats(&self) -> RelayStats {
        todo!("stage 3: the router's snapshot")
    }

    /// Waits until the relay has stopped (after its shutdown, and the drain) and returns its final
    /// counters.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when the event loop failed.
    pub fn join(self) -> crate::Result<RelayStats> {
        todo!("stage 3: join the server's thread, then the forwarders'; the final stats")
    }
}
