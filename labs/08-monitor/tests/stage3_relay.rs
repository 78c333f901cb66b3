//! Stage 3: the relay. The consistent-hash ring (deterministic, even, and moving only what it
//! must), the bounded queue that drops the oldest, and the relay itself between agents played by
//! the test and fake store shards written here: routing, acks and refusals, a shard that is down,
//! slow or loses an ack, and forwarding over Prometheus remote write to a fake HTTP endpoint.

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{FakeEndpoint, Request, ReservedPort, by_series};

use monitor::relay::remote_write::{label_name, labels, metric_name};
use monitor::relay::{ForwardStats, PointQueue, Relay, RelayConfig, RelayStats, RemoteWriteConfig, Ring};
use monitor::wire::{
    FrameReader, MAX_TAGS, Message, PROTOCOL_VERSION, Reject, encode, write_frame, write_message,
};
use monitor::{Millis, Point, Sample, SeriesKey, Shutdown};
use proptest::prelude::*;
use testkit::test;

// ---------------------------------------------------------------------------------------------
// Series and points

/// Now, in milliseconds since the epoch.
fn now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis
}

/// `count` distinct series, as a fleet's: hosts, metrics and a tag.
fn series(count: usize) -> Vec<SeriesKey> {
    let metrics = ["cpu.busy", "mem.used", "net.if.in.bytes", "disk.io.util"];
    (0..count)
        .map(|i| {
            Sample::gauge(metrics[i % 4], 0.0)
                .tag("cpu", (i / 4 % 8).to_string())
                .at(&format!("host-{:04}", i / 32), 0)
        })
        .map(|point| point.series())
        .collect()
}

/// `rounds` readings of each series in `keys`, 1 s apart and ending now, round by round.
fn readings(keys: &[SeriesKey], rounds: usize) -> Vec<Vec<Point>> {
    let start = now_ms() - rounds as Millis * 1000;
    (0..rounds)
        .map(|round| {
            keys.iter()
                .enumerate()
                .map(|(i, key)| Point {
                    host: key.host.clone(),
                    metric: key.metric.clone(),
                    tags: key.tags.clone(),
                    timestamp: start + round as Millis * 1000,
                    value: (round * 1000 + i) as f64 * 0.5,
                    kind: monitor::Kind::Gauge,
                })
                .collect()
        })
        .collect()
}

/// A point's every field, its value as bits.
type Exact = (SeriesKey, Millis, u64);

fn exact(points: &[Point]) -> Vec<Exact> {
    points.iter().map(|p| (p.series(), p.timestamp, p.value.to_bits())).collect()
}

// ---------------------------------------------------------------------------------------------
// The ring

/// The shards' names as the relay names them: `ip:port`.
fn shard_names(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("10.0.{i}.1:6060")).collect()
}

/// Which shard each series belongs to.
fn owners(ring: &Ring, keys: &[SeriesKey]) -> Vec<String> {
    keys.iter().map(|key| ring.shard_for(key).expect("a ring with shards names one").to_owned()).collect()
}

#[test]
fn the_ring_is_the_same_in_every_instance_whatever_the_order_shards_were_added_in() {
    let keys = series(4000);
    let names = shard_names(5);
    let mut forward = Ring::new(256);
    for name in &names {
        assert!(forward.add(name), "{name} is new");
    }
    assert!(!forward.add(&names[2]), "a shard added twice is there once");
    let mut backward = Ring::new(256);
    for name in names.iter().rev() {
        backward.add(name);
    }
    let mut detour = Ring::with_shards(
        256,
        ["10.9.9.9:6060"].iter().copied().chain(names[..3].iter().map(String::as_str)),
    );
    detour.remove("10.9.9.9:6060");
    detour.add(&names[4]);
    detour.add(&names[3]);
    let elsewhere = {
        let names = names.clone();
        thread::spawn(move || Ring::with_shards(256, &names)).join().unwrap()
    };
    let want = owners(&forward, &keys);
    assert_eq!(owners(&backward, &keys), want, "added in the reverse order");
    assert_eq!(owners(&detour, &keys), want, "added in another order, with a shard added and removed");
    assert_eq!(owners(&elsewhere, &keys), want, "built in another thread");
    assert_eq!(forward.len(), 5);
}

#[test]
fn with_virtual_nodes_each_shard_gets_its_share_within_30_percent() {
    let keys = series(10_000);
    for count in [2, 4, 7] {
        let ring = Ring::with_shards(256, shard_names(count));
        let mut load = BTreeMap::<String, usize>::new();
        for owner in owners(&ring, &keys) {
            *load.entry(owner).or_default() += 1;
        }
        let fair = keys.len() as f64 / count as f64;
        assert_eq!(load.len(), count, "every shard gets series: {load:?}");
        for (shard, &got) in &load {
            let off = (got as f64 - fair).abs() / fair;
            assert!(off <= 0.3, "{count} shards: {shard} has {got} series, fair is {fair:.0}: {load:?}");
        }
    }
}

#[test]
fn adding_a_shard_moves_about_one_in_n_plus_one_series_all_to_the_new_shard() {
    let keys = series(10_000);
    for count in [2, 4, 9] {
        let names = shard_names(count + 1);
        let before = owners(&Ring::with_shards(256, &names[..count]), &keys);
        let after = owners(&Ring::with_shards(256, &names), &keys);
        let moved: Vec<usize> = (0..keys.len()).filter(|&i| before[i] != after[i]).collect();
        assert!(moved.iter().all(|&i| after[i] == names[count]), "a series only ever moves to the new shard");
        let fair = keys.len() as f64 / (count + 1) as f64;
        let off = (moved.len() as f64 - fair).abs() / fair;
        assert!(
            off <= 0.3,
            "{count} → {} shards moved {} series; about {fair:.0} should move",
            count + 1,
            moved.len()
        );
    }
}

#[test]
fn removing_a_shard_moves_only_its_series_and_spreads_them_over_the_others() {
    let keys = series(10_000);
    let names = shard_names(5);
    let before = owners(&Ring::with_shards(256, &names), &keys);
    let mut ring = Ring::with_shards(256, &names);
    assert!(ring.remove(&names[1]));
    assert!(!ring.remove(&names[1]), "a shard removed twice");
    let after = owners(&ring, &keys);
    let mut took = BTreeMap::<&str, usize>::new();
    for i in 0..keys.len() {
        if before[i] == names[1] {
            *took.entry(after[i].as_str()).or_default() += 1;
        } else {
            assert_eq!(after[i], before[i], "{} belonged to a shard that stayed", keys[i]);
        }
    }
    let orphans: usize = took.values().sum();
    assert!(
        took.len() == 4 && took.values().all(|&n| n * 10 >= orphans),
        "the removed shard's {orphans} series go to every other shard, none to only one: {took:?}"
    );
}

proptest! {
    #![proptest_config(testkit::proptest_config(32))]

    #[test]
    fn any_ring_routes_alike_in_any_order_and_a_removal_moves_only_its_series(
        names in prop::collection::btree_set("[a-z0-9.:-]{1,16}", 2..8),
        rotate in any::<usize>(),
        removed in any::<prop::sample::Index>(),
    ) {
        let keys = series(600);
        let names: Vec<String> = names.into_iter().collect();
        let mut order = names.clone();
        order.rotate_left(rotate % names.len());
        order.reverse();
        let ring = Ring::with_shards(64, &names);
        let mut other = Ring::new(64);
        for name in &order {
            other.add(name);
        }
        let want = owners(&ring, &keys);
        prop_assert_eq!(&owners(&other, &keys), &want, "the same shards in another order");
        let gone = removed.get(&names);
        other.remove(gone);
        for (key, (after, before)) in keys.iter().zip(owners(&other, &keys).iter().zip(&want)) {
            prop_assert!(before == gone || after == before, "{} moved from {}, not {}", key, before, gone);
            prop_assert!(after != gone, "{} still on the removed shard", key);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The queue

/// One series' points at timestamps `from..to`.
fn numbered(from: Millis, to: Millis) -> Vec<Point> {
    (from..to).map(|t| Sample::gauge("cpu.busy", t as f64).at("web-01", t)).collect()
}

fn stamps(points: &[Point]) -> Vec<Millis> {
    points.iter().map(|p| p.timestamp).collect()
}

#[test]
fn the_queue_holds_at_most_its_bound_dropping_the_oldest_and_counting_them() {
    let queue = PointQueue::new(100);
    assert_eq!(queue.push(numbered(0, 60)), 0);
    assert_eq!(queue.push(numbered(60, 130)), 30, "the 30 oldest make room");
    assert_eq!(queue.push(numbered(130, 400)), 270, "a push larger than the bound keeps its newest");
    assert_eq!((queue.len(), queue.dropped()), (100, 300));
    let mut got = Vec::new();
    while let Some(taken) = queue.take(40, Duration::ZERO) {
        assert!(taken.points.len() <= 40, "no more than asked for");
        got.extend(taken.points);
    }
    assert_eq!(stamps(&got), (300..400).collect::<Vec<_>>(), "the newest 100, in order");
    assert!(queue.is_empty());
}

#[test]
fn a_taken_batch_is_stale_once_newer_points_are_dropped() {
    let queue = PointQueue::new(10);
    queue.push(numbered(0, 10));
    let taken = queue.take(4, Duration::ZERO).unwrap();
    assert_eq!(stamps(&taken.points), [0, 1, 2, 3]);
    queue.push(numbered(10, 14));
    assert!(!queue.is_overtaken(&taken), "the queue had room: nothing newer was dropped");
    queue.push(numbered(14, 16));
    assert!(queue.is_overtaken(&taken), "points newer than the batch were dropped");
    assert_eq!(queue.dropped(), 2);
    queue.drop_taken(taken);
    assert_eq!(queue.dropped(), 6, "the stale batch counts as dropped too");
    assert_eq!(stamps(&queue.take(100, Duration::ZERO).unwrap().points), (6..16).collect::<Vec<_>>());
}

#[test]
fn take_waits_for_points_and_a_closed_empty_queue_gives_none_at_once() {
    let queue = Arc::new(PointQueue::new(100));
    let pusher = {
        let queue = queue.clone();
        thread::spawn(move || queue.push(numbered(0, 3)))
    };
    let taken = queue.take(10, Duration::from_secs(20)).expect("the pushed points");
    assert_eq!(stamps(&taken.points), [0, 1, 2]);
    pusher.join().unwrap();
    assert!(queue.take(10, Duration::from_millis(10)).is_none(), "nothing more came");
    queue.close();
    let started = Instant::now();
    assert!(queue.take(10, Duration::from_secs(30)).is_none());
    assert!(started.elapsed() < Duration::from_secs(5), "closed and empty: no wait");
}

// ---------------------------------------------------------------------------------------------
// Fake store shards

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Records each batch, then acks it.
    Ack,
    /// Records each batch and holds its ack until the mode changes.
    Hold,
    /// Reads the first batch it ever gets and closes the connection without an ack (a lost ack);
    /// then acks.
    HangUpOnce,
    /// Reads the first batch it ever gets and answers the ack of another batch, keeping the
    /// connection open; then acks.
    WrongAckOnce,
}

#[derive(Debug, Default)]
struct ShardLog {
    connections: usize,
    /// Batches acked, in order.
    batches: Vec<(u64, Vec<Point>)>,
    /// Batches read and never acked.
    hung_up: Vec<Vec<Point>>,
    /// Batches read and waiting for their ack.
    held: usize,
}

/// A store shard on loopback, in threads, reading frames with the crate's own reader.
struct FakeShard {
    addr: SocketAddr,
    mode: Arc<(Mutex<Mode>, Condvar)>,
    log: Arc<Mutex<ShardLog>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeShard {
    fn start(mode: Mode) -> FakeShard {
        FakeShard::on(TcpListener::bind("127.0.0.1:0").unwrap(), mode)
    }

    fn on(listener: TcpListener, mode: Mode) -> FakeShard {
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new((Mutex::new(mode), Condvar::new()));
        let log = Arc::new(Mutex::new(ShardLog::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (mode, log, stop) = (mode.clone(), log.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    log.lock().unwrap().connections += 1;
                    let (mode, log) = (mode.clone(), log.clone());
                    thread::spawn(move || serve_shard(stream, &mode, &log));
                }
            })
        };
        FakeShard { addr, mode, log, stop, acceptor: Some(acceptor) }
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.0.lock().unwrap() = mode;
        self.mode.1.notify_all();
    }

    fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }

    fn batches(&self) -> Vec<(u64, Vec<Point>)> {
        self.log.lock().unwrap().batches.clone()
    }

    /// Every point acked, in the order acked.
    fn points(&self) -> Vec<Point> {
        self.batches().into_iter().flat_map(|(_, points)| points).collect()
    }

    fn point_count(&self) -> usize {
        self.log.lock().unwrap().batches.iter().map(|(_, points)| points.len()).sum()
    }
}

impl Drop for FakeShard {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        self.set_mode(Mode::Ack);
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve_shard(stream: TcpStream, mode: &(Mutex<Mode>, Condvar), log: &Mutex<ShardLog>) {
    let mut reader = FrameReader::new(stream);
    while let Ok(Some(message)) = reader.read_message() {
        let Message::Batch { seq, points } = message else { continue };
        let mut current = mode.0.lock().unwrap();
        if *current == Mode::HangUpOnce {
            let mut log = log.lock().unwrap();
            if log.hung_up.is_empty() {
                log.hung_up.push(points);
                return;
            }
        }
        if *current == Mode::WrongAckOnce {
            let mut log = log.lock().unwrap();
            if log.hung_up.is_empty() {
                log.hung_up.push(points);
                let wrong = Message::Ack { seq: seq.wrapping_add(1), accepted: 0, rejected: 0 };
                if write_message(reader.get_mut(), &wrong).is_err() {
                    return;
                }
                continue;
            }
        }
        if *current == Mode::Hold {
            log.lock().unwrap().held += 1;
            while *current == Mode::Hold {
                current = mode.1.wait(current).unwrap();
            }
            log.lock().unwrap().held -= 1;
        }
        drop(current);
        let accepted = points.len() as u32;
        log.lock().unwrap().batches.push((seq, points));
        if write_message(reader.get_mut(), &Message::Ack { seq, accepted, rejected: 0 }).is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The relay and an agent

fn config(shards: Vec<SocketAddr>) -> RelayConfig {
    let mut config = RelayConfig::new("127.0.0.1:0".parse().unwrap(), shards);
    config.vnodes = 256;
    config.workers = 1;
    config.connect_timeout = Duration::from_secs(2);
    config.ack_timeout = Duration::from_secs(10);
    config.backoff_min = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(50);
    config.drain = Duration::from_secs(1);
    config
}

/// A relay started for one test, stopped when it ends.
struct Running {
    relay: Option<Relay>,
    shutdown: Shutdown,
}

impl Running {
    fn start(config: RelayConfig) -> Running {
        let shutdown = Shutdown::new();
        let relay = Relay::start(config, &shutdown).expect("the relay starts");
        Running { relay: Some(relay), shutdown }
    }

    fn addr(&self) -> SocketAddr {
        self.relay.as_ref().unwrap().local_addr()
    }

    fn stats(&self) -> RelayStats {
        self.relay.as_ref().unwrap().stats()
    }

    fn shard(&self, index: usize) -> ForwardStats {
        self.stats().shards[index].clone()
    }

    /// Stops the relay and waits for it: its final counters.
    fn stop(mut self) -> RelayStats {
        self.shutdown.stop();
        self.relay.take().unwrap().join().expect("the relay stops cleanly")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.stop();
        if let Some(relay) = self.relay.take() {
            let _ = relay.join();
        }
    }
}

/// An agent's connection, played by the test.
struct Agent {
    reader: FrameReader<TcpStream>,
    seq: u64,
}

impl Agent {
    fn connect(relay: SocketAddr) -> Agent {
        let stream = TcpStream::connect(relay).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Agent { reader: FrameReader::new(stream), seq: 100 }
    }

    /// Sends `points` as the next batch and returns the relay's answer.
    fn send(&mut self, points: Vec<Point>) -> Message {
        self.seq += 1;
        write_message(self.reader.get_mut(), &Message::Batch { seq: self.seq, points }).unwrap();
        self.answer().expect("an answer")
    }

    /// Sends `points` and checks they are all acked.
    fn send_acked(&mut self, points: Vec<Point>) {
        let count = points.len() as u32;
        let answer = self.send(points);
        assert_eq!(
            answer,
            Message::Ack { seq: self.seq, accepted: count, rejected: 0 },
            "the batch is acked"
        );
    }

    fn send_payload(&mut self, payload: &[u8]) -> Option<Message> {
        write_frame(self.reader.get_mut(), payload).unwrap();
        self.answer()
    }

    fn answer(&mut self) -> Option<Message> {
        self.reader.read_message().expect("a frame, or the end of the stream")
    }
}

// ---------------------------------------------------------------------------------------------
// Routing, acks and refusals

#[test]
fn the_relay_delivers_every_point_to_the_shard_its_series_hashes_to() {
    let shards = [FakeShard::start(Mode::Ack), FakeShard::start(Mode::Ack)];
    let relay = Running::start(config(shards.iter().map(|s| s.addr).collect()));
    let keys = series(300);
    let rounds = readings(&keys, 4);
    let mut agent = Agent::connect(relay.addr());
    for round in &rounds {
        agent.send_acked(round.clone());
        let stats = relay.stats();
        let routed: u64 = stats.shards.iter().map(|s| s.routed).sum();
        assert_eq!(
            (stats.accepted, routed),
            (stats.batches * 300, stats.batches * 300),
            "once acked, a batch's points are all queued for their shards: {stats:?}"
        );
    }
    testkit::eventually("every point at a shard", || {
        shards.iter().map(FakeShard::point_count).sum::<usize>() == 1200
    });

    let ring = Ring::with_shards(256, shards.iter().map(|s| s.addr.to_string()));
    let sent = rounds.concat();
    for shard in &shards {
        let name = shard.addr.to_string();
        let want: Vec<Point> =
            sent.iter().filter(|p| ring.shard_for(&p.series()) == Some(name.as_str())).cloned().collect();
        assert!(want.len() > 300, "the ring gives each shard a fair part: {}", want.len());
        assert_eq!(
            by_series(&shard.points()),
            by_series(&want),
            "{name} has exactly its series, each in order"
        );
    }
    let stats = relay.stop();
    for (shard, fake) in stats.shards.iter().zip(&shards) {
        assert_eq!(shard.destination, fake.addr.to_string());
        assert_eq!(shard.sent, fake.point_count() as u64, "{shard:?}");
        assert_eq!((shard.routed, shard.queued, shard.dropped), (shard.sent, 0, 0), "{shard:?}");
    }
    assert_eq!((stats.batches, stats.accepted, stats.refused), (4, 1200, 0));
}

#[test]
fn the_ack_counts_accepted_and_rejected_points_and_rejections_are_counted_by_reason() {
    let shard = FakeShard::start(Mode::Ack);
    let relay = Running::start(config(vec![shard.addr]));
    let now = now_ms();
    let good: Vec<Point> = (0..5).map(|i| Sample::gauge("cpu.busy", i as f64).at("web-01", now)).collect();
    let mut points = good.clone();
    points.insert(1, Sample::gauge("cpu.busy", f64::NAN).at("web-01", now));
    points.insert(3, Sample::gauge("cpu.busy", f64::INFINITY).at("web-01", now));
    points.push(Sample::gauge("cpu.busy", 1.0).at("web-01", 0));
    points.push(Sample::gauge("cpu busy", 1.0).at("web-01", now));
    let mut agent = Agent::connect(relay.addr());
    let answer = agent.send(points);
    assert_eq!(answer, Message::Ack { seq: agent.seq, accepted: 5, rejected: 4 });
    let stats = relay.stats();
    let reasons: Vec<u64> = [Reject::NotFinite, Reject::TooOld, Reject::BadName, Reject::TooNew]
        .iter()
        .map(|&reject| stats.rejected.get(reject))
        .collect();
    assert_eq!(reasons, [2, 1, 1, 0], "rejections by reason: {:?}", stats.rejected);
    testkit::eventually("the valid points at the shard", || shard.point_count() >= 5);
    assert_eq!(exact(&shard.points()), exact(&good), "only the valid points are forwarded");
    assert_eq!(relay.stop().accepted, 5);
}

#[test]
fn garbage_is_refused_and_the_connection_closed() {
    let shard = FakeShard::start(Mode::Ack);
    let relay = Running::start(config(vec![shard.addr]));
    let mut agent = Agent::connect(relay.addr());
    let answer = agent.send_payload(b"GET / HTTP/1.1\r\n\r\n");
    assert!(matches!(answer, Some(Message::Refused { .. })), "a refusal: {answer:?}");
    assert_eq!(agent.answer(), None, "then the relay closes the connection");

    let mut agent = Agent::connect(relay.addr());
    let mut ack = Vec::new();
    encode(&Message::Ack { seq: 1, accepted: 1, rejected: 0 }, &mut ack);
    assert!(matches!(agent.send_payload(&ack), Some(Message::Refused { .. })), "an ack is not a batch");
    assert_eq!(agent.answer(), None);
    assert_eq!(relay.stats().refused, 2);
    assert_eq!(shard.point_count(), 0);
}

#[test]
fn a_batch_of_another_protocol_version_is_refused() {
    let shard = FakeShard::start(Mode::Ack);
    let relay = Running::start(config(vec![shard.addr]));
    let mut payload = Vec::new();
    encode(&Message::Batch { seq: 1, points: readings(&series(3), 1).concat() }, &mut payload);
    payload[1] = PROTOCOL_VERSION + 1;
    let mut agent = Agent::connect(relay.addr());
    match agent.send_payload(&payload) {
        Some(Message::Refused { reason }) => {
            assert!(reason.contains("version"), "the reason names the version: {reason}")
        }
        other => panic!("a refusal, not {other:?}"),
    }
    assert_eq!(agent.answer(), None, "then the relay closes the connection");
    let stats = relay.stats();
    assert_eq!((stats.refused, stats.accepted, stats.batches), (1, 0, 0));
}

#[test]
fn a_relay_needs_a_destination_and_each_shard_once() {
    let shard: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let shutdown = Shutdown::new();
    let none = Relay::start(config(Vec::new()), &shutdown).unwrap_err();
    assert_eq!(none.exit_code(), 2, "no shard and no remote write is a usage error: {none}");
    let twice = Relay::start(config(vec![shard, shard]), &shutdown).unwrap_err();
    assert_eq!(twice.exit_code(), 2, "a shard named twice is a usage error: {twice}");
    let mut https = config(vec![shard]);
    https.remote_write = Some(RemoteWriteConfig::new("https://vm:8428/api/v1/write"));
    assert_eq!(Relay::start(https, &shutdown).unwrap_err().exit_code(), 2, "only http:// is spoken");
}

// ---------------------------------------------------------------------------------------------
// Forwarding

#[test]
fn each_forwarder_keeps_one_long_connection_and_batches_hold_at_most_max_batch_points() {
    let shard = FakeShard::start(Mode::Ack);
    let mut config = config(vec![shard.addr]);
    config.connections = 2;
    config.max_batch_points = 70;
    let relay = Running::start(config);
    let rounds = readings(&series(200), 10);
    let mut agent = Agent::connect(relay.addr());
    for round in &rounds {
        agent.send_acked(round.clone());
    }
    testkit::eventually("every point at the shard", || shard.point_count() == 2000);
    let batches = shard.batches();
    assert!(batches.iter().all(|(_, points)| points.len() <= 70), "no batch over max_batch_points");
    assert!(batches.len() >= 2000 / 70, "{} batches", batches.len());
    assert!(
        shard.connections() <= 2,
        "{} connections for 2 forwarders: connections are kept",
        shard.connections()
    );
    assert_eq!(by_series(&shard.points()), by_series(&rounds.concat()), "each series whole, in order");
}

#[test]
fn a_shard_that_is_down_gets_its_points_in_order_when_it_returns_and_the_other_is_not_held_up() {
    let down = ReservedPort::new();
    let up = FakeShard::start(Mode::Ack);
    let relay = Running::start(config(vec![down.addr, up.addr]));
    let ring = Ring::with_shards(256, [down.addr.to_string(), up.addr.to_string()]);
    let rounds = readings(&series(200), 5);
    let sent = rounds.concat();
    let (for_down, for_up): (Vec<Point>, Vec<Point>) = sent
        .iter()
        .cloned()
        .partition(|p| ring.shard_for(&p.series()) == Some(down.addr.to_string().as_str()));
    let mut agent = Agent::connect(relay.addr());
    for round in &rounds {
        agent.send_acked(round.clone());
    }
    testkit::eventually("the live shard's points delivered while the other is down", || {
        up.point_count() == for_up.len()
    });
    assert_eq!(by_series(&up.points()), by_series(&for_up));
    testkit::eventually("a failed try at the shard that is down", || relay.shard(0).retries >= 1);
    let waiting = relay.shard(0);
    assert_eq!((waiting.queued, waiting.sent, waiting.dropped), (for_down.len() as u64, 0, 0), "{waiting:?}");

    let back = FakeShard::on(down.listen(), Mode::Ack);
    testkit::eventually("the queued points delivered once the shard is back", || {
        back.point_count() >= for_down.len()
    });
    assert_eq!(exact(&back.points()).len(), for_down.len(), "each point once");
    assert_eq!(by_series(&back.points()), by_series(&for_down), "every series whole and in order");
    let stats = relay.stop();
    assert_eq!((stats.shards[0].sent, stats.shards[0].queued), (for_down.len() as u64, 0));
}

#[test]
fn past_the_bound_the_oldest_points_for_a_down_shard_are_dropped_and_counted() {
    let down = ReservedPort::new();
    let mut config = config(vec![down.addr]);
    config.connections = 1;
    config.queue_points = 100;
    config.max_batch_points = 10;
    let relay = Running::start(config);
    let start = now_ms() - 10_000;
    let sent: Vec<Point> =
        (0..500).map(|i| Sample::gauge("cpu.busy", i as f64).at("web-01", start + i)).collect();
    let mut agent = Agent::connect(relay.addr());
    for chunk in sent.chunks(50) {
        agent.send_acked(chunk.to_vec());
        let queued = relay.shard(0).queued;
        assert!(queued <= 110, "the queue (and the batch on its way) stays within the bound: {queued}");
    }
    let held = relay.shard(0);
    assert!(held.dropped >= 390, "the excess is counted as dropped: {held:?}");

    let back = FakeShard::on(down.listen(), Mode::Ack);
    testkit::eventually("the shard's queue emptied", || relay.shard(0).queued == 0 && back.point_count() > 0);
    let got = back.points();
    let kept = got.len();
    assert!((100..=110).contains(&kept), "the bound's worth of points survive, not more: {kept}");
    assert_eq!(
        exact(&got),
        exact(&sent[500 - kept..]),
        "the newest points, in order: the oldest were dropped"
    );
    let stats = relay.stop().shards[0].clone();
    assert_eq!((stats.sent, stats.dropped), (kept as u64, 500 - kept as u64), "{stats:?}");
}

#[test]
fn a_slow_shard_does_not_hold_up_the_agents_acks() {
    let slow = FakeShard::start(Mode::Hold);
    let relay = Running::start(config(vec![slow.addr]));
    let rounds = readings(&series(50), 6);
    let mut agent = Agent::connect(relay.addr());
    agent.send_acked(rounds[0].clone());
    testkit::eventually("a batch to reach the slow shard", || slow.log.lock().unwrap().held >= 1);
    let started = Instant::now();
    for round in &rounds[1..] {
        agent.send_acked(round.clone());
    }
    assert!(started.elapsed() < Duration::from_secs(5), "acks do not wait for the store");
    assert_eq!(slow.point_count(), 0, "the store has acked nothing yet");

    slow.set_mode(Mode::Ack);
    testkit::eventually("every point delivered once the shard answers", || slow.point_count() >= 300);
    assert_eq!(by_series(&slow.points()), by_series(&rounds.concat()));
}

/// Sends three rounds through a relay to a shard in `mode`, which does not ack its first batch,
/// and checks that batch comes again, first, then everything in order, the resend counted; `unacked`
/// says what happened to the first batch. Gives the shard back for more checks.
fn assert_the_unacked_batch_comes_again(mode: Mode, unacked: &str) -> FakeShard {
    let shard = FakeShard::start(mode);
    let mut config = config(vec![shard.addr]);
    config.connections = 1;
    let relay = Running::start(config);
    let rounds = readings(&series(40), 3);
    let mut agent = Agent::connect(relay.addr());
    for round in &rounds {
        agent.send_acked(round.clone());
    }
    testkit::eventually("every point acked by the shard", || shard.point_count() >= 120);
    let first = shard.log.lock().unwrap().hung_up.concat();
    assert!(!first.is_empty(), "{unacked}");
    let points = shard.points();
    assert_eq!(exact(&points[..first.len()]), exact(&first), "the batch not acked comes again, first");
    assert_eq!(by_series(&points), by_series(&rounds.concat()), "then everything, in order");
    let stats = relay.stop().shards[0].clone();
    assert!(stats.retries >= 1, "the resend is counted: {stats:?}");
    assert_eq!((stats.sent, stats.queued), (120, 0), "{stats:?}");
    shard
}

#[test]
fn a_lost_ack_makes_the_forwarder_send_the_batch_again() {
    let shard =
        assert_the_unacked_batch_comes_again(Mode::HangUpOnce, "the first batch was read and its ack lost");
    assert!(shard.connections() >= 2, "a new connection after the old one closed");
}

#[test]
fn an_ack_of_another_batch_does_not_count_and_the_batch_is_sent_again() {
    assert_the_unacked_batch_comes_again(
        Mode::WrongAckOnce,
        "the first batch was read and answered with another's ack",
    );
}

#[test]
fn points_queued_past_the_payload_limit_go_in_several_batches_each_within_it() {
    let shard = FakeShard::start(Mode::Hold);
    let mut config = config(vec![shard.addr]);
    config.connections = 1;
    let relay = Running::start(config);
    let mut agent = Agent::connect(relay.addr());
    let now = now_ms();
    let first = Sample::gauge("first", 1.0).at("web-01", now);
    agent.send_acked(vec![first.clone()]);
    testkit::eventually("the first batch held at the shard", || shard.log.lock().unwrap().held == 1);
    // Each point carries about 8 KB of tag values of its own, which no string table shares: 600
    // of them queue up about 4.9 MB while the shard holds its ack, more than a payload may hold.
    let big = |index: usize| {
        (0..MAX_TAGS).fold(Sample::gauge("big", index as f64), |sample, tag| {
            sample.tag(format!("t{tag:02}"), format!("{index:06}-{tag:02}-{}", "v".repeat(245)))
        })
    };
    let points: Vec<Point> = (0..600).map(|index| big(index).at("web-01", now)).collect();
    for part in points.chunks(100) {
        agent.send_acked(part.to_vec());
    }
    shard.set_mode(Mode::Ack);
    testkit::eventually("every point acked by the shard", || shard.point_count() == 601);
    let mut want = vec![first];
    want.extend(points);
    assert_eq!(by_series(&shard.points()), by_series(&want), "every point once");
    let stats = relay.stop().shards[0].clone();
    assert_eq!((stats.sent, stats.failed, stats.queued), (601, 0, 0), "{stats:?}");
}

#[test]
fn a_stop_ends_the_relay_promptly_even_while_a_shard_is_down() {
    let down = ReservedPort::new();
    let mut config = config(vec![down.addr]);
    config.backoff_min = Duration::from_secs(60);
    config.backoff_max = Duration::from_secs(60);
    let relay = Running::start(config);
    let mut agent = Agent::connect(relay.addr());
    agent.send_acked(readings(&series(10), 1).concat());
    testkit::eventually("a failed try, then the long wait", || relay.shard(0).retries >= 1);
    let started = Instant::now();
    let stats = relay.stop();
    assert!(started.elapsed() < Duration::from_secs(10), "the wait is on the shutdown, not a sleep");
    assert_eq!(stats.shards[0].sent, 0);
    assert!(
        TcpStream::connect(agent.reader.get_ref().peer_addr().unwrap()).is_err(),
        "the relay no longer listens"
    );
}

// ---------------------------------------------------------------------------------------------
// Remote write

/// Prometheus's `remote.proto` messages, written here so that the test reads the wire format on
/// its own.
mod prom {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

/// A series as written: its labels as `name=value`, and its samples as (timestamp, value bits).
type WrittenSeries = (Vec<String>, Vec<(i64, u64)>);

impl Request {
    /// The body, snappy-decoded (block format) and protobuf-decoded.
    fn write_request(&self) -> prom::WriteRequest {
        let protobuf = snap::raw::Decoder::new().decompress_vec(&self.body).expect("a snappy block");
        <prom::WriteRequest as prost::Message>::decode(protobuf.as_slice()).expect("a WriteRequest")
    }

    /// Each series as its labels, `name=value`, and its samples.
    fn series(&self) -> Vec<WrittenSeries> {
        self.write_request()
            .timeseries
            .into_iter()
            .map(|ts| {
                let labels = ts.labels.iter().map(|l| format!("{}={}", l.name, l.value)).collect();
                (labels, ts.samples.iter().map(|s| (s.timestamp, s.value.to_bits())).collect())
            })
            .collect()
    }
}

fn remote(endpoint: &FakeEndpoint) -> RemoteWriteConfig {
    let mut remote = RemoteWriteConfig::new(endpoint.url());
    remote.backoff_min = Duration::from_millis(5);
    remote.backoff_max = Duration::from_millis(50);
    remote
}

#[test]
fn prometheus_names_replace_what_they_do_not_allow_with_underscores() {
    assert_eq!(metric_name("cpu.busy"), "cpu_busy");
    assert_eq!(metric_name("net.if.in-bytes"), "net_if_in_bytes");
    assert_eq!(metric_name("nginx:requests"), "nginx:requests", "a colon is allowed in a metric name");
    assert_eq!(metric_name("5xx.rate"), "_5xx_rate", "no leading digit");
    assert_eq!(label_name("if.name"), "if_name");
    assert_eq!(label_name("a:b"), "a_b", "no colon in a label name");
    assert_eq!(label_name("9lives"), "_9lives");
    let tags: monitor::Tags = [("host", "vm-7"), ("if.name", "eth0"), ("if_name", "eth1")]
        .map(|(n, v)| (n.into(), v.into()))
        .into();
    let got: Vec<String> =
        labels("web-01", "cpu.busy", &tags).iter().map(|l| format!("{}={}", l.name, l.value)).collect();
    assert_eq!(
        got,
        ["__name__=cpu_busy", "exported_host=vm-7", "host=web-01", "if_name=eth0"],
        "sorted by name; a tag clashing with host is exported_host; of two tags alike, the first is kept"
    );
}

#[test]
fn remote_write_posts_snappy_protobuf_with_prometheus_names_and_headers() {
    let endpoint = FakeEndpoint::start(&[]);
    let shard = FakeShard::start(Mode::Ack);
    let mut config = config(vec![shard.addr]);
    config.remote_write = Some(remote(&endpoint));
    let relay = Running::start(config);
    let now = now_ms();
    let points = vec![
        Sample::gauge("cpu.busy", 12.5).tag("cpu", "0").at("web-01", now - 2000),
        Sample::counter("net.if.in.bytes", 1e9).tag("if.name", "eth0").at("web-01", now - 2000),
        Sample::gauge("cpu.busy", 13.5).tag("cpu", "0").at("web-01", now - 1000),
    ];
    let mut agent = Agent::connect(relay.addr());
    agent.send_acked(points.clone());
    testkit::eventually("a request at the endpoint", || !endpoint.requests().is_empty());
    testkit::eventually("the points at the shard too", || shard.point_count() == 3);

    let request = endpoint.requests()[0].clone();
    assert_eq!(request.line, "POST /api/v1/write HTTP/1.1");
    assert_eq!(request.headers.get("content-encoding").map(String::as_str), Some("snappy"));
    assert_eq!(request.headers.get("content-type").map(String::as_str), Some("application/x-protobuf"));
    assert_eq!(request.headers.get("x-prometheus-remote-write-version").map(String::as_str), Some("0.1.0"));
    let mut got = request.series();
    got.sort();
    let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want = vec![
        (
            labels(&["__name__=cpu_busy", "cpu=0", "host=web-01"]),
            vec![(now - 2000, 12.5f64.to_bits()), (now - 1000, 13.5f64.to_bits())],
        ),
        (
            labels(&["__name__=net_if_in_bytes", "host=web-01", "if_name=eth0"]),
            vec![(now - 2000, 1e9f64.to_bits())],
        ),
    ];
    assert_eq!(got, want, "one series each, labels sorted by name, samples in order");
    testkit::eventually("the request counted", || relay.stats().remote_write.is_some_and(|rw| rw.sent == 3));
    let stats = relay.stop().remote_write.expect("remote-write stats");
    assert_eq!((stats.routed, stats.sent, stats.failed, stats.queued), (3, 3, 0, 0), "{stats:?}");
}

#[test]
fn remote_write_retries_a_5xx_and_drops_a_4xx_counting_it() {
    let endpoint = FakeEndpoint::start(&[503, 500, 204, 400]);
    let mut config = config(Vec::new());
    config.remote_write = Some(remote(&endpoint));
    let relay = Running::start(config);
    let rounds = readings(&series(5), 3);
    let mut agent = Agent::connect(relay.addr());
    let remote_stats = || relay.stats().remote_write.expect("remote-write stats");

    agent.send_acked(rounds[0].clone());
    testkit::eventually("delivered on the third try", || remote_stats().sent == 5);
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 3, "two 5xx answers, then 204");
    assert!(requests.iter().all(|r| r.series() == requests[0].series()), "the same samples each time");
    assert!(remote_stats().retries >= 2);

    agent.send_acked(rounds[1].clone());
    testkit::eventually("the 400 counted as failed", || remote_stats().failed == 5);
    agent.send_acked(rounds[2].clone());
    testkit::eventually("the next batch delivered", || remote_stats().sent == 10);
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 5, "a 4xx is not retried");
    let last: usize = requests[4].series().iter().map(|(_, samples)| samples.len()).sum();
    assert_eq!(last, 5, "the last request carries only the last batch");
    let stats = relay.stop().remote_write.unwrap();
    assert_eq!((stats.routed, stats.sent, stats.failed, stats.dropped), (15, 10, 5, 0), "{stats:?}");
}

#[test]
fn remote_write_keeps_its_own_bounded_queue_while_the_endpoint_fails() {
    let endpoint = FakeEndpoint::start(&[503; 1000]);
    let mut config = config(Vec::new());
    let mut remote = remote(&endpoint);
    remote.queue_points = 50;
    remote.max_batch_points = 10;
    config.remote_write = Some(remote);
    let relay = Running::start(config);
    let mut agent = Agent::connect(relay.addr());
    for round in readings(&series(40), 5) {
        agent.send_acked(round);
    }
    let stats = relay.stats().remote_write.unwrap();
    assert!(stats.queued <= 60, "at most the bound and one request's worth: {stats:?}");
    assert!(stats.dropped >= 140, "the rest dropped and counted: {stats:?}");
    testkit::eventually("tries again and again", || relay.stats().remote_write.unwrap().retries >= 3);
}
