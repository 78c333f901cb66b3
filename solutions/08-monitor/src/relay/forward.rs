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

/// A queue holding this many batches is a backlog (a store was slow or down): once it has drained,
/// the memory it took is given back to the system.
const BACKLOG_BATCHES: usize = 10;

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
        Forwarder { link, queue, destination, settings, shutdown, failing: false }
    }

    /// Delivers batches until the queue is closed and empty, or a stop's drain is over; then drops
    /// (and counts) what is left.
    pub(crate) fn run(mut self) {
        let mut backoff = Backoff::new(self.settings.backoff_min, self.settings.backoff_max);
        let mut drain_until = None;
        let mut backlog = false;
        loop {
            if drain_until.is_none() && self.shutdown.is_stopped() {
                drain_until = Some(Instant::now() + self.settings.drain);
            }
            if drain_until.is_some_and(|until| Instant::now() >= until) {
                break;
            }
            let Some(taken) = self.queue.take(self.settings.max_batch_points, IDLE_WAIT) else {
                self.queue.free_spent();
                if std::mem::take(&mut backlog) {
                    give_back_memory();
                }
                if self.queue.is_closed() {
                    break;
                }
                continue;
            };
            backlog |= self.queue.len() >= BACKLOG_BATCHES * self.settings.max_batch_points;
            if !self.deliver(taken, &mut backoff, drain_until) {
                break;
            }
        }
        let mut left = 0;
        while let Some(taken) = self.queue.take(usize::MAX, Duration::ZERO) {
            left += taken.points.len();
            self.queue.drop_taken(taken);
        }
        if left > 0 {
            warn!(destination = %self.destination.name, points = left, "stopped with points queued: dropped");
        }
    }

    /// Sends `taken` until it is acknowledged or refused, or dropped because newer points were
    /// dropped meanwhile; false when a failure after a stop ended it (the forwarder stops too).
    fn deliver(&mut self, mut taken: Taken, backoff: &mut Backoff, drain_until: Option<Instant>) -> bool {
        let name = &self.destination.name;
        let count = taken.points.len();
        Destination::add(&self.destination.in_flight, count);
        loop {
            let timeout = match drain_until {
                Some(until) => self.settings.timeout.min(until.saturating_duration_since(Instant::now())),
                None => self.settings.timeout,
            };
            let outcome = if timeout.is_zero() {
                Outcome::Failed("the drain time is over".to_owned())
            } else {
                self.link.send(&mut taken.points, timeout)
            };
            match outcome {
                Outcome::Delivered { refused } => {
                    if std::mem::take(&mut self.failing) {
                        info!(destination = %name, "delivering again");
                    }
                    let refused = refused.min(count);
                    if refused > 0 {
                        warn!(destination = %name, points = refused, "points refused by the destination: dropped");
                    }
                    Destination::add(&self.destination.sent, count - refused);
                    Destination::add(&self.destination.failed, refused);
                    Destination::sub(&self.destination.in_flight, count);
                    backoff.reset();
                    self.queue.recycle(taken.points);
                    return true;
                }
                Outcome::Refused { reason, pause } => {
                    warn!(destination = %name, points = count, %reason, "batch refused: dropped");
                    Destination::add(&self.destination.failed, count);
                    Destination::sub(&self.destination.in_flight, count);
                    if pause {
                        self.shutdown.wait_timeout(backoff.next());
                    }
                    return true;
                }
                Outcome::Failed(cause) => {
                    Destination::add(&self.destination.retries, 1);
                    if !std::mem::replace(&mut self.failing, true) {
                        warn!(destination = %name, %cause, "cannot deliver; points wait in the queue");
                    } else {
                        debug!(destination = %name, %cause, "still cannot deliver");
                    }
                    let stopping = drain_until.is_some() || self.shutdown.wait_timeout(backoff.next());
                    if stopping || self.queue.is_overtaken(&taken) {
                        Destination::sub(&self.destination.in_flight, count);
                        self.queue.drop_taken(taken);
                        if stopping {
                            warn!(destination = %name, points = count, "stopping: undelivered points dropped");
                        }
                        return !stopping;
                    }
                }
            }
        }
    }
}

/// Returns the free memory of the allocator's arenas to the system. glibc's malloc keeps what a
/// drained backlog freed (the arenas of the threads that decoded it only shrink from their top), so
/// the relay's resident memory would stay at its highest for good; elsewhere this does nothing.
/// The store calls it after a checkpoint, whose copy of the heads it frees.
pub(crate) fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and releases the allocator's own free memory; it takes no
    // pointer and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
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
        let micros = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_micros();
        ShardLink { addr, connect_timeout, connection: None, next_seq: micros as u64 }
    }

    /// `points` as one or more payloads within the protocol's limits, each with its `seq`.
    fn payloads(&mut self, points: &mut Vec<Point>) -> Vec<(u64, Vec<u8>)> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let message = Message::Batch { seq, points: std::mem::take(points) };
        let mut payload = Vec::new();
        encode(&message, &mut payload);
        let Message::Batch { points: sent, .. } = message else { unreachable!("built as a batch") };
        *points = sent;
        if points.len() <= 1
            || (payload.len() <= MAX_PAYLOAD_BYTES && decoded_size(points) <= MAX_DECODED_BYTES)
        {
            return vec![(seq, payload)];
        }
        // Rare: points with huge tag sets. Halves, each within the limits or halved again.
        let mut first = points[..points.len() / 2].to_vec();
        let mut second = points[points.len() / 2..].to_vec();
        let mut payloads = self.payloads(&mut first);
        payloads.extend(self.payloads(&mut second));
        payloads
    }

    /// Writes `payload` as a frame and waits until `deadline` for the ack of `seq`.
    fn exchange(&mut self, payload: &[u8], seq: u64, deadline: Instant) -> Outcome {
        if self.connection.is_none() {
            let timeout = self.connect_timeout.min(deadline.saturating_duration_since(Instant::now()));
            match TcpStream::connect_timeout(&self.addr, timeout.max(Duration::from_millis(1))) {
                Ok(stream) => {
                    // Frames are written whole: Nagle's delay would only hold back their last packet.
                    let _ = stream.set_nodelay(true);
                    self.connection = Some((stream, FrameDecoder::default()));
                }
                Err(err) => return Outcome::Failed(format!("cannot connect: {err}")),
            }
        }
        let outcome = self.try_exchange(payload, seq, deadline);
        if !matches!(outcome, Outcome::Delivered { .. }) {
            self.connection = None;
        }
        outcome
    }

    fn try_exchange(&mut self, payload: &[u8], seq: u64, deadline: Instant) -> Outcome {
        let Some((stream, decoder)) = self.connection.as_mut() else {
            return Outcome::Failed("not connected".to_owned());
        };
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        if let Err(err) = stream.set_write_timeout(Some(left)).and_then(|()| write_frame(stream, payload)) {
            return Outcome::Failed(format!("cannot send: {err}"));
        }
        let mut chunk = [0u8; 4096];
        loop {
            match decoder.next_message() {
                Ok(Some(Message::Ack { seq: acked, rejected, .. })) if acked == seq => {
                    return Outcome::Delivered { refused: rejected as usize };
                }
                // The late ack of a batch sent before on this connection: the one awaited follows.
                Ok(Some(Message::Ack { seq: acked, .. })) if acked < seq => continue,
                Ok(Some(Message::Refused { reason })) => return Outcome::Refused { reason, pause: true },
                Ok(Some(other)) => return Outcome::Failed(format!("unexpected answer {other:?}")),
                Ok(None) => {}
                Err(err) => return Outcome::Failed(format!("bad answer: {err}")),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Outcome::Failed("no ack in time".to_owned());
            }
            if let Err(err) = stream.set_read_timeout(Some(left)) {
                return Outcome::Failed(err.to_string());
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Outcome::Failed("the store closed the connection".to_owned()),
                Ok(read) => decoder.extend(&chunk[..read]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Outcome::Failed(format!("no ack: {err}")),
            }
        }
    }
}

impl Link for ShardLink {
    fn send(&mut self, points: &mut Vec<Point>, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let mut refused = 0;
        for (seq, payload) in self.payloads(points) {
            match self.exchange(&payload, seq, deadline) {
                Outcome::Delivered { refused: more } => refused += more,
                outcome => return outcome,
            }
        }
        Outcome::Delivered { refused }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::point::Sample;
    use crate::wire::{FrameReader, write_message};

    #[test]
    fn points_a_store_rejects_in_its_ack_count_as_failed_not_sent() {
        // A store that keeps all but one point of every batch (one too late for its window, say).
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let store = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = FrameReader::new(stream);
            while let Ok(Some(Message::Batch { seq, points })) = reader.read_message() {
                let ack = Message::Ack { seq, accepted: points.len() as u32 - 1, rejected: 1 };
                write_message(&mut writer, &ack).unwrap();
            }
        });
        let destination = Arc::new(Destination::new(addr.to_string(), 1, 100));
        let queue = Arc::clone(&destination.queues[0]);
        queue.push((0..3).map(|t| Sample::gauge("cpu.busy", 1.0).at("web-01", t)).collect());
        let settings = ForwardSettings {
            max_batch_points: 10,
            timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_millis(100),
            drain: Duration::from_secs(1),
        };
        let shutdown = Shutdown::new();
        let link = ShardLink::new(addr, Duration::from_secs(1));
        let forwarder =
            Forwarder::new(link, Arc::clone(&queue), Arc::clone(&destination), settings, shutdown.clone());
        let running = std::thread::spawn(move || forwarder.run());
        let deadline = Instant::now() + Duration::from_secs(10);
        while destination.snapshot().sent + destination.snapshot().failed < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        shutdown.stop();
        queue.close();
        running.join().unwrap();
        store.join().unwrap();
        let stats = destination.snapshot();
        assert_eq!((stats.sent, stats.failed, stats.queued), (2, 1, 0));
        assert_eq!(destination.in_flight.load(Ordering::Relaxed), 0);
    }
}
