//! What routing costs: ring lookups a second, the relay's work on one agent batch of 1,000 points
//! (decode, validate, route, enqueue), and the relay end to end on loopback, from two simulated
//! agents through the relay to two fake store shards that ack at once, in points a second.
//!
//! The goal is at least 500,000 points a second end to end. `cargo lab bench monitor` runs these
//! on your crate and on the reference.

use std::hint::black_box;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monitor::relay::{Relay, RelayConfig, Ring, Router};
use monitor::wire::{FrameDecoder, FrameReader, Message, batch_seq, encode, encode_frame, write_frame};
use monitor::{Millis, Point, Sample, SeriesKey, Shutdown};

/// Points in one agent batch.
const BATCH: usize = 1000;

fn now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis
}

/// One node's batch: 100 series of `host` (cpus and disks, a tag each) read 10 times, 1 s apart.
fn node_points(host: &str) -> Vec<Point> {
    let start = now_ms() - 10_000;
    let mut points = Vec::with_capacity(BATCH);
    for step in 0..10 {
        for series in 0..100 {
            let metric = ["cpu.user", "cpu.system", "disk.io.util", "net.if.in.bytes"][series % 4];
            let sample =
                Sample::gauge(metric, (step * series) as f64 * 0.25).tag("cpu", (series / 4).to_string());
            points.push(sample.at(host, start + step as Millis * 1000));
        }
    }
    points
}

/// A batch payload of `host`'s points.
fn payload(host: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    encode(&Message::Batch { seq: 1, points: node_points(host) }, &mut payload);
    payload
}

fn ring_lookups(c: &mut Criterion) {
    let keys: Vec<SeriesKey> = (0..10_000)
        .map(|i| {
            Sample::gauge("cpu.busy", 0.0)
                .tag("cpu", (i % 64).to_string())
                .at(&format!("host-{}", i / 64), 0)
                .series()
        })
        .collect();
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(keys.len() as u64));
    for shards in [2, 16] {
        let ring = Ring::with_shards(256, (0..shards).map(|i| format!("10.0.0.{i}:6060")));
        group.bench_function(format!("ring_lookup_{shards}_shards"), |b| {
            b.iter(|| keys.iter().filter(|key| ring.shard_for(black_box(key)).is_some()).count())
        });
    }
    group.finish();
}

fn handle_batch(c: &mut Criterion) {
    let shards: Vec<SocketAddr> = vec!["127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()];
    let router = Router::new(&RelayConfig::new("127.0.0.1:0".parse().unwrap(), shards));
    let payload = payload("web-01.example.com");
    let now = now_ms();
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(BATCH as u64));
    // Nothing empties the queues: once full, each batch also drops as many of the oldest points.
    group.bench_function("handle_1000_point_batch", |b| b.iter(|| router.handle(black_box(&payload), now)));
    group.finish();
}

/// A store shard that acks every batch at once, reading only its `seq`.
fn fake_shard() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut decoder = FrameDecoder::default();
                let mut chunk = vec![0u8; 64 << 10];
                let mut acks = Vec::new();
                while let Ok(read) = stream.read(&mut chunk) {
                    if read == 0 {
                        return;
                    }
                    decoder.extend(&chunk[..read]);
                    acks.clear();
                    while let Ok(Some(payload)) = decoder.next_payload() {
                        let seq = batch_seq(&payload).unwrap_or(0);
                        encode_frame(&Message::Ack { seq, accepted: 0, rejected: 0 }, &mut acks);
                    }
                    if std::io::Write::write_all(&mut stream, &acks).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn end_to_end(c: &mut Criterion) {
    let shutdown = Shutdown::new();
    let mut config = RelayConfig::new("127.0.0.1:0".parse().unwrap(), vec![fake_shard(), fake_shard()]);
    config.workers = 2;
    let relay = Relay::start(config, &shutdown).unwrap();
    let agents: Vec<Mutex<FrameReader<TcpStream>>> = (0..2)
        .map(|_| {
            let stream = TcpStream::connect(relay.local_addr()).unwrap();
            stream.set_nodelay(true).unwrap();
            Mutex::new(FrameReader::new(stream))
        })
        .collect();
    let payloads: Vec<Vec<u8>> = (0..20).map(|i| payload(&format!("node-{i:03}.example.com"))).collect();
    let delivered = |relay: &Relay| relay.stats().shards.iter().map(|s| s.sent + s.dropped).sum::<u64>();
    let batches_per_agent = 50u64;
    let sent = AtomicU64::new(0);

    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(agents.len() as u64 * batches_per_agent * BATCH as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("end_to_end_2_agents_2_shards", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                thread::scope(|scope| {
                    for (index, agent) in agents.iter().enumerate() {
                        let payloads = &payloads;
                        scope.spawn(move || {
                            let mut agent = agent.lock().unwrap();
                            for i in 0..batches_per_agent as usize {
                                let payload = &payloads[(index * 10 + i) % payloads.len()];
                                write_frame(agent.get_mut(), payload).unwrap();
                                agent.read_message().unwrap().expect("an ack");
                            }
                        });
                    }
                });
                let total = sent
                    .fetch_add(agents.len() as u64 * batches_per_agent * BATCH as u64, Ordering::Relaxed)
                    + agents.len() as u64 * batches_per_agent * BATCH as u64;
                while delivered(&relay) < total {
                    thread::yield_now();
                }
            }
            started.elapsed()
        })
    });
    group.finish();
    let stats = relay.stats();
    shutdown.stop();
    let _ = relay.join();
    let dropped: u64 = stats.shards.iter().map(|s| s.dropped).sum();
    println!("end to end: {} points accepted, {dropped} dropped at the relay's bound", stats.accepted);
}

criterion_group!(benches, ring_lookups, handle_batch, end_to_end);
criterion_main!(benches);
