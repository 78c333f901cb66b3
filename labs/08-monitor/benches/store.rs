//! What the store costs: durable ingest of a fleet's node metrics in points a second (every
//! append acknowledged only once fsynced, four appenders sharing fsyncs), the bytes a point takes
//! in block files, and a range query of one series over one day at a 10 s step (raw points) and
//! at a 5-minute step (the rollup).
//!
//! The goals: at least 1,000,000 points a second acknowledged durable on two cores, at most 1.5
//! bytes a point on node-like data (the Gorilla paper reports 1.37), and a one-day query in under
//! a millisecond. The ingest rate, fsyncs a second and bytes a point are printed once before the
//! benchmarks. `cargo lab bench monitor` runs these on your crate and on the reference.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datasets::metrics::{NodeSpec, Nodes};
use monitor::store::{Aggregate, RangeQuery, Store, StoreOptions};
use monitor::{Kind, Millis, Point, SeriesKey};

/// A day in milliseconds.
const DAY: Millis = 24 * 60 * 60 * 1000;

/// Threads appending at once, as a store's committers do.
const APPENDERS: usize = 4;

/// A fleet whose readings come as batches of points.
struct Fleet {
    /// The generator.
    nodes: Nodes,
    /// Each series as a point, to be stamped.
    templates: Vec<Point>,
    /// Hosts in the fleet.
    hosts: usize,
}

impl Fleet {
    fn new(spec: NodeSpec) -> Fleet {
        let hosts = spec.hosts;
        let nodes = Nodes::new(spec);
        let templates = nodes
            .series()
            .iter()
            .map(|s| Point {
                host: s.host.clone(),
                metric: s.metric.clone(),
                tags: s.tags.iter().cloned().collect(),
                timestamp: 0,
                value: 0.0,
                kind: if s.counter { Kind::Counter } else { Kind::Gauge },
            })
            .collect();
        Fleet { nodes, templates, hosts }
    }

    /// The next `ticks` readings, as one batch a tick for each of `lanes` groups of hosts (a
    /// host's points always in the same lane, so each series is appended in time order).
    fn batches(&mut self, ticks: usize, lanes: usize) -> Vec<Vec<Vec<Point>>> {
        let per_host = self.templates.len() / self.hosts;
        let mut out = vec![Vec::with_capacity(ticks); lanes];
        let mut readings = Vec::new();
        for _ in 0..ticks {
            readings.clear();
            self.nodes.next_tick(&mut readings);
            let mut lane_points = vec![Vec::new(); lanes];
            for reading in &readings {
                let template = &self.templates[reading.series];
                let point = Point { timestamp: reading.timestamp, value: reading.value, ..template.clone() };
                lane_points[(reading.series / per_host) % lanes].push(point);
            }
            for (lane, points) in lane_points.into_iter().enumerate() {
                out[lane].push(points);
            }
        }
        out
    }
}

/// Appends each lane's batches from its own thread; returns the points appended.
fn ingest(store: &Store, lanes: &[Vec<Vec<Point>>]) -> usize {
    let appended = AtomicUsize::new(0);
    thread::scope(|scope| {
        for lane in lanes {
            let appended = &appended;
            scope.spawn(move || {
                for batch in lane {
                    let outcome = store.append(batch).expect("the append is durable");
                    appended.fetch_add(outcome.accepted as usize, Ordering::Relaxed);
                }
            });
        }
    });
    appended.into_inner()
}

fn durable_ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::new(dir.path())).unwrap();
    // 100 nodes of a fleet every 10 s: 25 nodes' readings a batch, four batches at a time.
    let mut fleet = Fleet::new(NodeSpec { hosts: 100, ..NodeSpec::default() });
    let lanes = fleet.batches(60, APPENDERS);
    let before = store.stats();
    let start = Instant::now();
    let points = ingest(&store, &lanes);
    let took = start.elapsed().as_secs_f64();
    let after = store.stats();
    let (syncs, appends) = (after.wal_syncs - before.wal_syncs, after.appends - before.appends);
    println!(
        "durable ingest: {points} points in {took:.2} s: {:.0} points/s, {:.0} fsyncs/s, {:.1} appends an fsync",
        points as f64 / took,
        syncs as f64 / took,
        appends as f64 / syncs.max(1) as f64
    );

    let mut group = c.benchmark_group("store");
    let ticks = 10;
    let per_iteration = (ticks * fleet.templates.len()) as u64;
    group.throughput(Throughput::Elements(per_iteration));
    group.sample_size(10);
    group.bench_function("durable_ingest_4_appenders", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let lanes = fleet.batches(ticks, APPENDERS);
                let start = Instant::now();
                black_box(ingest(&store, &lanes));
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// A store holding `hours` of a 10-node fleet every 10 s, flushed.
fn loaded_store(dir: &std::path::Path, hosts: usize, hours: usize) -> (Store, Millis) {
    let store = Store::open(StoreOptions::new(dir)).unwrap();
    let spec = NodeSpec { hosts, start: 1_700_006_400_000, ..NodeSpec::default() };
    let start = spec.start;
    let mut fleet = Fleet::new(spec);
    for _ in 0..hours {
        let lanes = fleet.batches(360, APPENDERS);
        ingest(&store, &lanes);
    }
    store.flush().unwrap();
    (store, start)
}

fn bytes_per_point(_: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = loaded_store(dir.path(), 10, 5);
    let stats = store.stats();
    println!(
        "node data: {:.3} bytes a point in block files ({} points in {} bytes; 16 bytes raw); \
         rollups {} bytes in block files, the open chunks in a {}-byte checkpoint",
        stats.bytes_per_point(),
        stats.block_points,
        stats.block_bytes,
        stats.rollup_bytes,
        stats.checkpoint_bytes
    );
}

fn day_query(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (store, start) = loaded_store(dir.path(), 1, 25);
    let series = SeriesKey { host: "node-000".into(), metric: "cpu.busy".into(), tags: Default::default() };
    let (from, to) = (start, start + DAY - 1);
    let raw = RangeQuery::every(series.clone(), from, to, Duration::from_secs(10), Aggregate::Avg);
    assert_eq!(store.query(&raw).len(), 8640, "a day of 10 s steps");
    let rollup = RangeQuery::every(series, from, to, Duration::from_secs(300), Aggregate::Max);
    assert_eq!(store.query(&rollup).len(), 288, "a day of 5-minute steps");

    let mut group = c.benchmark_group("store");
    group.bench_function("query_one_day_at_10s", |b| b.iter(|| store.query(black_box(&raw)).len()));
    group.bench_function("query_one_day_at_5min", |b| b.iter(|| store.query(black_box(&rollup)).len()));
    group.finish();
}

criterion_group!(benches, bytes_per_point, durable_ingest, day_query);
criterion_main!(benches);
