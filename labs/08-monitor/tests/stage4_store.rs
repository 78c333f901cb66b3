//! Stage 4: the store. The Gorilla codec (round trips, hostile bytes, a bit a point), the
//! write-ahead log (durability, a torn tail at any byte, a flipped byte, group commit), points sent
//! twice or out of order, range queries at any step, rollups that outlive the raw points,
//! retention, compression of node-like data, and the server on nbnet.
//!
//! A crash is simulated in the process: the store is *abandoned* ([`abandon`]), never closed nor
//! dropped, so nothing of it runs after the moment chosen, and a new store is opened on its
//! directory. Only the log's layout is assumed: the segments are the files of `DIR/wal/`, their
//! order is their names' order, and an append writes at the end of the newest.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::varint;
use datasets::metrics::{NodeSpec, Nodes, SERIES_PER_HOST};
use monitor::store::{Aggregate, RangeQuery, RollupLevel, Store, StoreOptions, gorilla, serve};
use monitor::wire::{FrameReader, Message, write_frame, write_message};
use monitor::{Kind, Millis, Point, Sample, SeriesKey, Shutdown};
use proptest::prelude::*;
use testkit::test;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A multiple of a day (and so of every step and span used here): 2023-11-15T00:00:00Z.
const T0: Millis = 1_700_006_400_000;
const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// Default options in `dir`.
fn options(dir: &Path) -> StoreOptions {
    StoreOptions::new(dir)
}

fn open(dir: &Path) -> Store {
    Store::open(options(dir)).expect("the store opens")
}

/// A crash: the store is left as it is, nothing of it runs any more, not even `Drop`.
fn abandon(store: Store) {
    std::mem::forget(store);
}

fn gauge(host: &str, metric: &str, timestamp: Millis, value: f64) -> Point {
    Sample::gauge(metric, value).at(host, timestamp)
}

fn key(host: &str, metric: &str) -> SeriesKey {
    SeriesKey { host: host.to_owned(), metric: metric.to_owned(), tags: Default::default() }
}

/// A series' raw points from `from` to `to`, values as bits (NaN equals itself, -0.0 is not 0.0).
fn raw(store: &Store, series: &SeriesKey, from: Millis, to: Millis) -> Vec<(Millis, u64)> {
    store
        .query(&RangeQuery::raw(series.clone(), from, to))
        .into_iter()
        .map(|(t, v)| (t, v.to_bits()))
        .collect()
}

/// Points as `(series, time, value bits)`, sorted: what a store should answer for them.
fn exact(points: &[Point]) -> Vec<(SeriesKey, Millis, u64)> {
    let mut all: Vec<_> = points.iter().map(|p| (p.series(), p.timestamp, p.value.to_bits())).collect();
    all.sort();
    all
}

/// Everything `store` holds of the series of `points`, as [`exact`] lists it.
fn held(store: &Store, points: &[Point]) -> Vec<(SeriesKey, Millis, u64)> {
    let series: std::collections::BTreeSet<SeriesKey> = points.iter().map(Point::series).collect();
    let mut all = Vec::new();
    for key in series {
        for (time, bits) in raw(store, &key, Millis::MIN, Millis::MAX) {
            all.push((key.clone(), time, bits));
        }
    }
    all.sort();
    all
}

/// Batch `i`: `len` points of its own series `batch-i`, on the steps of 10 s from T0.
fn batch(i: usize, len: usize) -> Vec<Point> {
    (0..len)
        .map(|j| {
            gauge("web-01", &format!("batch-{i}"), T0 + j as Millis * 10 * SECOND, i as f64 + j as f64 / 8.0)
        })
        .collect()
}

/// `ticks` readings of a fleet, one batch a reading.
fn fleet(spec: NodeSpec, ticks: usize) -> Vec<Vec<Point>> {
    let mut nodes = Nodes::new(spec);
    let templates: Vec<Point> = nodes
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
    let mut readings = Vec::new();
    (0..ticks)
        .map(|_| {
            readings.clear();
            nodes.next_tick(&mut readings);
            readings
                .iter()
                .map(|r| Point { timestamp: r.timestamp, value: r.value, ..templates[r.series].clone() })
                .collect()
        })
        .collect()
}

/// One value a minute for `minutes` minutes from T0, every 10 s: 6 points a minute, value `f(i)`
/// for the `i`th point.
fn series_every_10s(host: &str, metric: &str, points: usize, f: impl Fn(usize) -> f64) -> Vec<Point> {
    (0..points).map(|i| gauge(host, metric, T0 + i as Millis * 10 * SECOND, f(i))).collect()
}

/// What a step query should answer, computed from the points themselves.
fn expected(
    points: &[Point],
    from: Millis,
    to: Millis,
    step: Millis,
    aggregate: Aggregate,
) -> Vec<(Millis, f64)> {
    let first = from - from.rem_euclid(step);
    let last = to - to.rem_euclid(step) + step - 1;
    let mut buckets: BTreeMap<Millis, Vec<f64>> = BTreeMap::new();
    for p in points.iter().filter(|p| (first..=last).contains(&p.timestamp)) {
        buckets.entry(p.timestamp - p.timestamp.rem_euclid(step)).or_default().push(p.value);
    }
    buckets
        .into_iter()
        .map(|(start, values)| {
            let value = match aggregate {
                Aggregate::Avg => values.iter().sum::<f64>() / values.len() as f64,
                Aggregate::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
                Aggregate::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Aggregate::Sum => values.iter().sum(),
                Aggregate::Count => values.len() as f64,
                Aggregate::Last => values[values.len() - 1],
            };
            (start, value)
        })
        .collect()
}

/// Asserts two step answers are equal, values within a relative 1e-9 (sums may add in another
/// order).
#[track_caller]
fn assert_close(got: &[(Millis, f64)], want: &[(Millis, f64)], what: &str) {
    let times = |answer: &[(Millis, f64)]| answer.iter().map(|(t, _)| *t).collect::<Vec<_>>();
    assert_eq!(times(got), times(want), "{what}: the steps answered");
    for ((time, got), (_, want)) in got.iter().zip(want) {
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{what}: at {time}, {got} where {want} was expected"
        );
    }
}

fn every(series: &SeriesKey, from: Millis, to: Millis, step: Millis, aggregate: Aggregate) -> RangeQuery {
    RangeQuery::every(series.clone(), from, to, Duration::from_millis(step as u64), aggregate)
}

const AGGREGATES: [Aggregate; 6] =
    [Aggregate::Avg, Aggregate::Min, Aggregate::Max, Aggregate::Sum, Aggregate::Count, Aggregate::Last];

// ---------------------------------------------------------------------------------------------
// The Gorilla codec

fn timestamps() -> impl Strategy<Value = Vec<Millis>> {
    prop_oneof![
        // An agent's: a step of 10 s, a few milliseconds of jitter, now and then a gap.
        (any::<i64>(), prop::collection::vec((0..20i64, prop::bool::weighted(0.05)), 0..200)).prop_map(
            |(start, steps)| {
                let mut time = start / 4;
                steps
                    .into_iter()
                    .map(|(jitter, gap)| {
                        time = time.wrapping_add(if gap { 3_600_000 } else { 10_000 });
                        time.wrapping_add(jitter)
                    })
                    .collect()
            }
        ),
        // Anything at all: huge deltas, backwards, repeated, wrapping.
        prop::collection::vec(any::<i64>(), 0..100),
        prop::collection::vec(prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), Just(-1i64)], 0..20),
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::MIN_POSITIVE / 2.0),
        (0..10_000u32).prop_map(|n| f64::from(n) / 100.0),
    ]
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn gorilla_round_trips_any_points_bit_for_bit(
        (times, values) in timestamps().prop_flat_map(|times| {
            let len = times.len();
            (Just(times), prop::collection::vec(value(), len))
        }),
    ) {
        let points: Vec<(Millis, f64)> = times.into_iter().zip(values).collect();
        let bytes = gorilla::encode(&points);
        let got = gorilla::decode(&bytes).map_err(|err| TestCaseError::fail(format!("decode: {err}")))?;
        let bits = |points: &[(Millis, f64)]| points.iter().map(|(t, v)| (*t, v.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&got), bits(&points));
    }

    #[test]
    fn the_gorilla_decoder_never_panics_on_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        times in timestamps(),
        flip in any::<(prop::sample::Index, u8)>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let _ = gorilla::decode(&bytes);
        let points: Vec<(Millis, f64)> = times.iter().map(|&t| (t, t as f64 / 3.0)).collect();
        let mut damaged = gorilla::encode(&points);
        prop_assert_eq!(gorilla::decode(&damaged).ok(), Some(points), "the chunk decodes before it is damaged");
        let at = flip.0.index(damaged.len());
        damaged[at] ^= flip.1;
        let _ = gorilla::decode(&damaged);
        damaged.truncate(cut.index(damaged.len() + 1));
        let _ = gorilla::decode(&damaged);
    }
}

#[test]
fn a_huge_count_in_a_short_chunk_is_refused_before_anything_is_allocated() {
    let points = [(T0, 1.0), (T0 + 10_000, 2.0)];
    let mut bytes = gorilla::encode(&points);
    assert_eq!(gorilla::decode(&bytes).unwrap(), points, "the chunk decodes before it is damaged");
    for at in 0..bytes.len().min(8) {
        bytes[at] = 0xff;
        // A decoder that reserves room for the count it reads aborts here, out of memory.
        assert!(gorilla::decode(&bytes).is_err(), "{:?}: the count cannot be right", &bytes[..at + 1]);
    }
}

#[test]
fn a_regular_series_costs_about_a_bit_a_point_and_a_counter_little_more() {
    let constant: Vec<(Millis, f64)> = (0..10_000).map(|i| (T0 + i * 10_000, 42.5)).collect();
    let bytes = gorilla::encode(&constant).len();
    assert!(bytes <= 10_000 * 2 / 8 + 64, "10,000 points, a regular step and one value: {bytes} bytes");

    let mut total = 1.0e9;
    let counter: Vec<(Millis, f64)> = (0..10_000)
        .map(|i| {
            total += (500 + (i * 7919) % 300) as f64;
            (T0 + i * 10_000 + (i * 31) % 7, total)
        })
        .collect();
    let bytes = gorilla::encode(&counter).len();
    assert!(bytes <= 10_000 * 4, "a counter with jitter: {bytes} bytes, over 4 a point");
    let decoded = gorilla::decode(&gorilla::encode(&counter)).unwrap();
    assert_eq!(decoded, counter);
}

// ---------------------------------------------------------------------------------------------
// The write-ahead log

#[test]
fn appended_points_survive_reopening() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let mut all = Vec::new();
    for i in 0..5 {
        let mut points = batch(i, 30);
        points.push(
            Sample::counter("net.if.in.bytes", 1e12 + i as f64)
                .tag("iface", "eth0")
                .at("db-1", T0 + i as Millis),
        );
        assert_eq!(store.append(&points).unwrap().accepted, 31);
        all.extend(points);
    }
    assert_eq!(held(&store, &all), exact(&all), "every point, as appended");
    drop(store);
    let store = open(dir.path());
    assert_eq!(held(&store, &all), exact(&all), "every point after reopening");
    let stats = store.stats();
    assert_eq!((stats.series, stats.points), (6, 155), "6 series, 155 points: {stats:?}");
}

#[test]
fn an_append_that_returned_survives_a_crash() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let mut all = Vec::new();
    for i in 0..10 {
        let points = batch(i, 20);
        store.append(&points).unwrap();
        all.extend(points);
        let stats = store.stats();
        assert!(
            stats.wal_syncs >= stats.appends && stats.appends == i as u64 + 1,
            "each append that returned was fsynced: {} fsyncs for {} appends",
            stats.wal_syncs,
            stats.appends
        );
        if i == 4 {
            store.flush().unwrap();
        }
    }
    abandon(store);
    let store = open(dir.path());
    assert_eq!(held(&store, &all), exact(&all), "every acknowledged point, once, after the crash");
    assert_eq!(store.stats().points, 200);
}

/// The newest segment of the log and its length, if there is one.
fn newest_segment_len(dir: &Path) -> Option<(PathBuf, u64)> {
    let mut segments: Vec<PathBuf> = fs::read_dir(dir.join("wal")).ok()?.map(|e| e.unwrap().path()).collect();
    segments.sort();
    let segment = segments.pop()?;
    let len = fs::metadata(&segment).unwrap().len();
    Some((segment, len))
}

/// Appends batches 0..lens.len() (batch `i` of `lens[i]` points), noting the newest segment's
/// length after each, then abandons the store: the segment, the batches and the part of the
/// segment each took.
fn logged_batches(dir: &Path, lens: &[usize]) -> (PathBuf, Vec<Vec<Point>>, Vec<(u64, u64)>) {
    let store = open(dir);
    let mut before = newest_segment_len(dir).map_or(0, |(_, len)| len);
    let mut segment = None;
    let mut batches = Vec::new();
    let mut spans = Vec::new();
    for (i, &len) in lens.iter().enumerate() {
        let points = batch(i, len);
        store.append(&points).unwrap();
        let (newest, after) = newest_segment_len(dir).expect("a log segment in DIR/wal");
        assert!(
            segment.get_or_insert_with(|| newest.clone()) == &newest,
            "a few appends stay in one segment"
        );
        assert!(after > before, "an append that returned is in the newest segment");
        spans.push((before, after));
        before = after;
        batches.push(points);
    }
    abandon(store);
    (segment.unwrap(), batches, spans)
}

proptest! {
    #![proptest_config(testkit::proptest_config(24))]

    #[test]
    fn the_log_recovers_a_torn_tail_at_any_byte(
        lens in prop::collection::vec(1..40usize, 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = testkit::scratch_dir();
        let (segment, batches, spans) = logged_batches(dir.path(), &lens);
        let end = spans.last().unwrap().1;
        let cut = cut.index(end as usize + 1) as u64;
        fs::OpenOptions::new().write(true).open(&segment).unwrap().set_len(cut).unwrap();

        let store = open(dir.path());
        for (points, &(start, end)) in batches.iter().zip(&spans) {
            let got = held(&store, points);
            if end <= cut {
                prop_assert_eq!(got, exact(points), "a batch logged before the cut at {}", cut);
            } else if start >= cut {
                prop_assert!(got.is_empty(), "a batch logged after the cut at {}: {:?}", cut, got);
            }
        }
        let after = batch(99, 5);
        store.append(&after).unwrap();
        abandon(store);
        let store = open(dir.path());
        prop_assert_eq!(held(&store, &after), exact(&after), "the log goes on after the cut");
        for (points, &(_, end)) in batches.iter().zip(&spans) {
            if end <= cut {
                prop_assert_eq!(held(&store, points), exact(points), "and keeps what was before it");
            }
        }
    }

    #[test]
    fn the_log_is_cut_at_a_damaged_byte(
        lens in prop::collection::vec(1..40usize, 1..8),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
    ) {
        let dir = testkit::scratch_dir();
        let (segment, batches, spans) = logged_batches(dir.path(), &lens);
        let mut bytes = fs::read(&segment).unwrap();
        let at = at.index(bytes.len());
        bytes[at] ^= mask;
        fs::write(&segment, &bytes).unwrap();

        let store = open(dir.path());
        for (points, &(_, end)) in batches.iter().zip(&spans) {
            let got = held(&store, points);
            if end <= at as u64 {
                prop_assert_eq!(got, exact(points), "a batch before the damaged byte {}", at);
            } else {
                prop_assert!(got.is_empty(), "a batch at or after the damaged byte {} (the log is cut there): {:?}", at, got);
            }
        }
    }

    #[test]
    fn a_store_opens_or_fails_cleanly_whatever_its_files_hold(
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 1..=255u8, any::<bool>()), 1..6),
    ) {
        let dir = testkit::scratch_dir();
        let store = open(dir.path());
        let points = series_every_10s("web-01", "cpu.busy", 3 * 360, |i| (i % 17) as f64);
        for part in points.chunks(90) {
            store.append(part).unwrap();
            if part[0].timestamp == T0 + 2 * HOUR {
                store.flush().unwrap();
            }
        }
        store.append(&batch(1, 10)).unwrap();
        prop_assert_eq!(held(&store, &points), exact(&points), "the points are there before the damage");
        abandon(store);
        let mut files: Vec<PathBuf> = walk(dir.path());
        files.sort();
        for (file, at, mask, truncate) in damage {
            let file = &files[file.index(files.len())];
            let mut bytes = fs::read(file).unwrap();
            if bytes.is_empty() {
                continue;
            }
            let at = at.index(bytes.len());
            if truncate { bytes.truncate(at) } else { bytes[at] ^= mask }
            fs::write(file, &bytes).unwrap();
        }
        // Damage may cost data, or even the store, but never a panic.
        if let Ok(store) = Store::open(options(dir.path())) {
            let _ = held(&store, &points);
            let _ = store.query(&every(&key("web-01", "cpu.busy"), T0, T0 + DAY, HOUR, Aggregate::Avg));
            let _ = store.append(&batch(2, 3));
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[test]
fn concurrent_appends_share_fsyncs() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let (threads, appends) = (16, 25);
    let all: Vec<Point> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let store = &store;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..appends {
                        let points: Vec<Point> = (0..20)
                            .map(|s| {
                                gauge(
                                    &format!("host-{thread}"),
                                    &format!("m{s}"),
                                    T0 + i as Millis * 10_000,
                                    (i * s) as f64,
                                )
                            })
                            .collect();
                        store.append(&points).unwrap();
                        mine.extend(points);
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect()
    });
    let stats = store.stats();
    let total = (threads * appends) as u64;
    assert_eq!(stats.appends, total);
    assert!(
        stats.wal_syncs >= 1 && stats.wal_syncs * 2 <= total,
        "{} appends from {threads} threads at once took {} fsyncs: they should share them",
        total,
        stats.wal_syncs
    );
    abandon(store);
    let store = open(dir.path());
    assert_eq!(held(&store, &all), exact(&all), "every acknowledged point after a crash");
}

// ---------------------------------------------------------------------------------------------
// Points sent twice, late or invalid

#[test]
fn a_batch_sent_twice_is_stored_once() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let points = batch(1, 12);
    assert_eq!(store.append(&points).unwrap().accepted, 12);
    let again = store.append(&points).unwrap();
    assert_eq!(
        (again.accepted, again.replaced),
        (12, 12),
        "a resend replaces the points it repeats: {again:?}"
    );
    assert_eq!(held(&store, &points), exact(&points), "one point a series and timestamp");
    let mut changed = points.clone();
    changed[11].value = -1.0;
    store.append(&changed).unwrap();
    assert_eq!(held(&store, &points).len(), 12);
    assert_eq!(
        raw(&store, &changed[11].series(), changed[11].timestamp, changed[11].timestamp),
        [(changed[11].timestamp, (-1.0f64).to_bits())],
        "the newer value wins"
    );
    assert_eq!(store.stats().points, 12);
}

#[test]
fn replaying_the_log_and_resending_do_not_duplicate_points() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let first = batch(1, 6);
    let second: Vec<Point> = batch(1, 12).split_off(6);
    store.append(&first).unwrap();
    store.flush().unwrap();
    store.append(&first).unwrap();
    store.append(&second).unwrap();
    abandon(store);

    let store = open(dir.path());
    let all: Vec<Point> = first.iter().chain(&second).cloned().collect();
    assert_eq!(held(&store, &all), exact(&all), "after replaying a log that holds the first batch twice");
    // The sender did not get its acks: it sends both again.
    store.append(&first).unwrap();
    store.append(&second).unwrap();
    assert_eq!(held(&store, &all), exact(&all), "after the resends");
    assert_eq!(store.stats().points, 12);
    store.flush().unwrap();
    drop(store);
    let store = open(dir.path());
    assert_eq!(held(&store, &all), exact(&all), "after a checkpoint and a restart");
    assert_eq!(store.stats().points, 12);
}

#[test]
fn points_out_of_order_are_kept_within_the_window_and_refused_behind_it() {
    let dir = testkit::scratch_dir();
    let mut options = options(dir.path());
    options.out_of_order = Duration::from_secs(60);
    let store = Store::open(options).unwrap();
    let at = |seconds: Millis, value: f64| gauge("web-01", "cpu.busy", T0 + seconds * SECOND, value);
    store.append(&[at(100, 1.0)]).unwrap();
    let outcome = store.append(&[at(50, 2.0), at(70, 3.0)]).unwrap();
    assert_eq!((outcome.accepted, outcome.late), (2, 0), "50 s behind the newest: in the window");
    store.append(&[at(300, 4.0)]).unwrap();
    let outcome = store.append(&[at(40, 5.0), at(310, 6.0)]).unwrap();
    assert_eq!(
        (outcome.accepted, outcome.late, outcome.refused()),
        (1, 1, 1),
        "260 s behind: late: {outcome:?}"
    );
    let got = store.query(&RangeQuery::raw(key("web-01", "cpu.busy"), T0, T0 + HOUR));
    let want: Vec<(Millis, f64)> = [(50, 2.0), (70, 3.0), (100, 1.0), (300, 4.0), (310, 6.0)]
        .iter()
        .map(|&(s, v)| (T0 + s * SECOND, v))
        .collect();
    assert_eq!(got, want, "in time order, the late point left out");
    assert_eq!(store.stats().outcome.late, 1);
}

#[test]
fn invalid_points_are_refused_and_counted_and_old_ones_kept() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let mut too_many_tags = Sample::gauge("m", 1.0);
    for i in 0..40 {
        too_many_tags = too_many_tags.tag(format!("t{i}"), "v");
    }
    let points = vec![
        gauge("web-01", "ok", T0, 1.0),
        gauge("web-01", "nan", T0, f64::NAN),
        gauge("web-01", "inf", T0, f64::NEG_INFINITY),
        gauge("web 01", "bad.host", T0, 1.0),
        gauge("web-01", &"x".repeat(300), T0, 1.0),
        too_many_tags.at("web-01", T0),
        gauge("web-01", "old", 86_400_000, 2.0),
    ];
    let outcome = store.append(&points).unwrap();
    let r = outcome.rejected;
    assert_eq!(
        (outcome.accepted, r.not_finite, r.bad_name, r.too_long, r.too_many_tags, r.too_old),
        (2, 2, 1, 1, 1, 0),
        "{outcome:?}"
    );
    assert_eq!(
        store.query(&RangeQuery::raw(key("web-01", "old"), 0, T0)),
        [(86_400_000, 2.0)],
        "a store keeps old points"
    );
    assert_eq!(store.series(None, None).len(), 2, "no series for refused points");
    assert_eq!(store.stats().outcome.rejected.total(), 5);
}

// ---------------------------------------------------------------------------------------------
// Queries, rollups and retention

#[test]
fn a_raw_query_returns_exactly_the_points_in_range() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let a = series_every_10s("web-01", "cpu.busy", 3 * 360, |i| i as f64 * 0.5);
    let b = series_every_10s("web-02", "cpu.busy", 3 * 360, |i| -(i as f64));
    let check = |store: &Store, what: &str| {
        for (from, to) in [
            (T0, T0),
            (T0 + 5 * SECOND, T0 + 35 * SECOND),
            (T0 - HOUR, T0 + 2 * HOUR + 10 * SECOND),
            (T0 + 3 * HOUR, T0 + 4 * HOUR),
        ] {
            let want: Vec<(Millis, f64)> = a
                .iter()
                .filter(|p| (from..=to).contains(&p.timestamp))
                .map(|p| (p.timestamp, p.value))
                .collect();
            assert_eq!(
                store.query(&RangeQuery::raw(key("web-01", "cpu.busy"), from, to)),
                want,
                "{what}: web-01 from {from} to {to}"
            );
        }
        assert!(
            store.query(&RangeQuery::raw(key("web-03", "cpu.busy"), T0, T0 + DAY)).is_empty(),
            "an unknown series"
        );
        assert_eq!(store.query(&RangeQuery::raw(key("web-02", "cpu.busy"), T0, T0 + DAY)).len(), 1080);
    };
    for part in a.chunks(100).zip(b.chunks(100)) {
        store.append(&[part.0, part.1].concat()).unwrap();
    }
    check(&store, "in memory");
    store.flush().unwrap();
    check(&store, "after a checkpoint");
    drop(store);
    check(&open(dir.path()), "after reopening");
}

#[test]
fn step_queries_sum_up_each_step() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let points = series_every_10s("web-01", "load.1min", 4 * 360, |i| ((i * 37) % 101) as f64 / 4.0 - 5.0);
    store.append(&points).unwrap();
    let series = key("web-01", "load.1min");
    let (from, to) = (T0 + 95 * MINUTE + 5 * SECOND, T0 + 3 * HOUR + 7 * MINUTE);
    for step in [MINUTE, 70 * SECOND, 15 * MINUTE, HOUR] {
        for aggregate in AGGREGATES {
            let got = store.query(&every(&series, from, to, step, aggregate));
            assert_close(
                &got,
                &expected(&points, from, to, step, aggregate),
                &format!("{aggregate:?} every {step} ms"),
            );
        }
    }
    store.flush().unwrap();
    for aggregate in AGGREGATES {
        let got = store.query(&every(&series, T0, T0 + DAY, 15 * MINUTE, aggregate));
        assert_close(
            &got,
            &expected(&points, T0, T0 + DAY, 15 * MINUTE, aggregate),
            &format!("{aggregate:?} after a checkpoint"),
        );
    }
}

/// Options with `chunk_span` of 1 h, raw points kept 6 h, 1-minute rollups kept 1 day and
/// 10-minute ones kept 2 days.
fn short_retention(dir: &Path) -> StoreOptions {
    let mut options = options(dir);
    options.chunk_span = Duration::from_secs(3600);
    options.retention = Duration::from_secs(6 * 3600);
    options.rollups = vec![
        RollupLevel { step: Duration::from_secs(60), retention: Duration::from_secs(86_400) },
        RollupLevel { step: Duration::from_secs(600), retention: Duration::from_secs(2 * 86_400) },
    ];
    options
}

#[test]
fn a_coarse_step_is_answered_from_the_rollup_once_raw_points_are_gone() {
    let dir = testkit::scratch_dir();
    let store = Store::open(short_retention(dir.path())).unwrap();
    let points = series_every_10s("web-01", "cpu.busy", 2 * 8640, |i| ((i * 7919) % 1000) as f64 / 10.0);
    for part in points.chunks(360) {
        store.append(part).unwrap();
    }
    let now = T0 + 2 * DAY;
    store.enforce_retention(now).unwrap();
    let series = key("web-01", "cpu.busy");
    let (from, to) = (T0 + 28 * HOUR, T0 + 31 * HOUR - 1);
    assert!(
        store.query(&RangeQuery::raw(series.clone(), from, to)).is_empty(),
        "raw points older than 6 h + 1 h are gone"
    );
    for (step, what) in [(MINUTE, "1-minute"), (30 * MINUTE, "10-minute")] {
        for aggregate in AGGREGATES {
            let got = store.query(&every(&series, from, to, step, aggregate));
            assert_close(
                &got,
                &expected(&points, from, to, step, aggregate),
                &format!("{aggregate:?} from the {what} rollup"),
            );
        }
    }
    let recent = (now - 2 * HOUR, now - 1);
    assert_eq!(
        store.query(&RangeQuery::raw(series.clone(), recent.0, recent.1)).len(),
        720,
        "recent raw points stay"
    );
    drop(store);
    let store = Store::open(short_retention(dir.path())).unwrap();
    let got = store.query(&every(&series, from, to, 30 * MINUTE, Aggregate::Max));
    assert_close(
        &got,
        &expected(&points, from, to, 30 * MINUTE, Aggregate::Max),
        "the rollup after reopening",
    );
}

#[test]
fn rollups_answer_as_the_raw_points_do_at_every_stage() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    // Ten hours and a bit: some buckets written, the newest still under way.
    let points = series_every_10s("web-01", "mem.used", 10 * 360 + 17, |i| {
        (1u64 << 30) as f64 + ((i * 13) % 29) as f64 * 4096.0
    });
    for part in points.chunks(500) {
        store.append(part).unwrap();
    }
    let series = key("web-01", "mem.used");
    let check = |store: &Store, what: &str| {
        for step in [5 * MINUTE, HOUR, 3 * HOUR] {
            for aggregate in AGGREGATES {
                let got = store.query(&every(&series, T0, T0 + DAY, step, aggregate));
                assert_close(
                    &got,
                    &expected(&points, T0, T0 + DAY, step, aggregate),
                    &format!("{what}: {aggregate:?} every {step} ms"),
                );
            }
        }
    };
    check(&store, "in memory");
    store.flush().unwrap();
    check(&store, "after a checkpoint");
    abandon(store);
    check(&open(dir.path()), "after a crash");
}

#[test]
fn retention_drops_each_level_after_its_time_and_its_files_with_it() {
    let dir = testkit::scratch_dir();
    let store = Store::open(short_retention(dir.path())).unwrap();
    let points = series_every_10s("web-01", "disk.io.util", 4 * 8640, |i| (i % 100) as f64);
    for part in points.chunks(720) {
        store.append(part).unwrap();
    }
    store.flush().unwrap();
    let before = store.stats();
    let now = T0 + 4 * DAY;
    store.enforce_retention(now).unwrap();
    let after = store.stats();
    assert!(
        after.block_bytes + after.rollup_bytes < before.block_bytes + before.rollup_bytes,
        "files dropped: {before:?} then {after:?}"
    );
    assert!(after.points < before.points / 4, "raw points dropped: {} of {}", after.points, before.points);
    let series = key("web-01", "disk.io.util");
    let count = |from: Millis, to: Millis, step: Option<Millis>| match step {
        None => store.query(&RangeQuery::raw(series.clone(), from, to)).len(),
        Some(step) => store.query(&every(&series, from, to, step, Aggregate::Count)).len(),
    };
    // Each level keeps at least its retention, and at most one chunk span more (1 h of raw
    // points; 240 steps of a rollup: 4 h of minutes, 40 h of 10 minutes).
    assert_eq!(count(now - 7 * HOUR - 10 * MINUTE, now - 7 * HOUR, None), 0, "raw points past 6 h + 1 h");
    assert_eq!(count(now - 6 * HOUR, now - 6 * HOUR + 10 * MINUTE - 1, None), 60, "raw points within 6 h");
    assert_eq!(
        count(now - DAY - 5 * HOUR, now - DAY - 4 * HOUR - 1, Some(MINUTE)),
        0,
        "minutes past 1 day + 4 h"
    );
    assert_eq!(count(now - DAY, now - DAY + HOUR - 1, Some(MINUTE)), 60, "minutes within 1 day");
    assert_eq!(count(T0, T0 + 8 * HOUR - 1, Some(10 * MINUTE)), 0, "10 minutes past 2 days + 40 h");
    assert_eq!(
        count(now - 2 * DAY, now - 2 * DAY + HOUR - 1, Some(10 * MINUTE)),
        6,
        "10 minutes within 2 days"
    );
    drop(store);
    let store = Store::open(short_retention(dir.path())).unwrap();
    assert!(
        store.query(&RangeQuery::raw(series.clone(), T0, now - 8 * HOUR)).is_empty(),
        "still gone after reopening"
    );
}

#[test]
fn node_data_takes_under_two_bytes_a_point() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    // A node's series every 10 s for 5 h: two 2-hour chunks sealed, the third under way.
    let batches = fleet(NodeSpec { hosts: 1, start: T0, ..NodeSpec::default() }, 5 * 360);
    let series = SERIES_PER_HOST as u64;
    for tick in batches.chunks(6) {
        store.append(&tick.concat()).unwrap();
    }
    store.flush().unwrap();
    let stats = store.stats();
    assert_eq!(stats.points, 5 * 360 * series);
    assert!(
        stats.block_points >= 2 * 720 * series,
        "two chunk spans in block files after a checkpoint: {stats:?}"
    );
    let per_point = stats.bytes_per_point();
    assert!(
        per_point > 0.1 && per_point <= 2.0,
        "{per_point:.2} bytes a point in block files (16 raw, 1.37 in the Gorilla paper)"
    );
    let all: Vec<Point> = batches.concat();
    let some: Vec<Point> = all.iter().filter(|p| p.metric.starts_with("cpu.")).cloned().collect();
    assert_eq!(held(&store, &some), exact(&some), "and every point reads back");
}

#[test]
fn hosts_and_series_are_listed() {
    let dir = testkit::scratch_dir();
    let store = open(dir.path());
    let points = vec![
        Sample::gauge("cpu.busy", 1.0).tag("cpu", "1").at("web-02", T0),
        Sample::gauge("cpu.busy", 1.0).tag("cpu", "0").at("web-02", T0),
        Sample::gauge("cpu.busy", 1.0).at("web-01", T0),
        Sample::gauge("mem.used", 1.0).at("web-01", T0),
        Sample::counter("net.if.in.bytes", 1.0).tag("iface", "eth0").at("db-1", T0),
    ];
    store.append(&points).unwrap();
    let check = |store: &Store| {
        assert_eq!(store.hosts(), ["db-1", "web-01", "web-02"]);
        let names = |keys: Vec<SeriesKey>| keys.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            names(store.series(Some("web-02"), None)),
            ["web-02 cpu.busy{cpu=0}", "web-02 cpu.busy{cpu=1}"]
        );
        assert_eq!(
            names(store.series(None, Some("cpu.busy"))),
            ["web-01 cpu.busy", "web-02 cpu.busy{cpu=0}", "web-02 cpu.busy{cpu=1}"]
        );
        assert_eq!(names(store.series(Some("web-01"), Some("mem.used"))), ["web-01 mem.used"]);
        assert_eq!(store.series(None, None).len(), 5);
        assert!(store.series(Some("nobody"), None).is_empty());
    };
    check(&store);
    store.flush().unwrap();
    drop(store);
    check(&open(dir.path()));
}

// ---------------------------------------------------------------------------------------------
// The server

/// Now, in milliseconds since the epoch, down to a multiple of 10 s.
fn now_ms() -> Millis {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis;
    now - now % 10_000
}

/// A store served on a free port of 127.0.0.1.
struct Served {
    store: Arc<Store>,
    addr: SocketAddr,
    shutdown: Shutdown,
    server: Option<monitor::store::StoreServer>,
}

impl Served {
    fn start(dir: &Path) -> Served {
        let store = Arc::new(open(dir));
        let shutdown = Shutdown::new();
        let server = serve("127.0.0.1:0".parse().unwrap(), Arc::clone(&store), &shutdown).unwrap();
        Served { store, addr: server.local_addr(), shutdown, server: Some(server) }
    }

    fn connect(&self) -> FrameReader<TcpStream> {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(testkit::DEFAULT_DEADLINE)).unwrap();
        FrameReader::new(stream)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.stop();
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

/// Sends a batch and reads the answer.
fn exchange(client: &mut FrameReader<TcpStream>, seq: u64, points: &[Point]) -> Message {
    write_message(client.get_mut(), &Message::Batch { seq, points: points.to_vec() }).unwrap();
    client.read_message().unwrap().expect("an answer")
}

/// Copies `from` (a store's directory, as it is on disk now) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() { copy_dir(&path, &target) } else { fs::copy(&path, &target).map(|_| ()).unwrap() }
    }
}

#[test]
fn the_server_acks_a_batch_only_once_its_points_are_durable() {
    let dir = testkit::scratch_dir();
    let served = Served::start(dir.path());
    let mut client = served.connect();
    let now = now_ms();
    let points: Vec<Point> = (0..50).map(|i| gauge("web-01", &format!("m{i}"), now, i as f64)).collect();
    assert_eq!(exchange(&mut client, 7, &points), Message::Ack { seq: 7, accepted: 50, rejected: 0 });
    // What is on disk the moment the ack came is enough to find every point again.
    let copy = testkit::scratch_dir();
    copy_dir(dir.path(), copy.path());
    assert_eq!(held(&open(copy.path()), &points), exact(&points), "the acked points, from the files alone");
    assert_eq!(held(&served.store, &points), exact(&points));

    assert_eq!(
        exchange(&mut client, 7, &points),
        Message::Ack { seq: 7, accepted: 50, rejected: 0 },
        "a resend is acked"
    );
    assert_eq!(held(&served.store, &points), exact(&points), "and stored once");
}

#[test]
fn the_server_counts_invalid_points_as_rejected() {
    let dir = testkit::scratch_dir();
    let served = Served::start(dir.path());
    let mut client = served.connect();
    let now = now_ms();
    let points = vec![
        gauge("web-01", "ok", now, 1.0),
        gauge("web-01", "nan", now, f64::NAN),
        gauge("web-01", "ancient", now - 30 * DAY, 1.0),
        gauge("web-01", "future", now + DAY, 1.0),
        gauge("web-01", "ok.too", now - 10_000, 2.0),
    ];
    assert_eq!(exchange(&mut client, 1, &points), Message::Ack { seq: 1, accepted: 2, rejected: 3 });
    assert_eq!(served.store.series(None, None), [key("web-01", "ok"), key("web-01", "ok.too")]);
}

#[test]
fn the_server_refuses_what_is_not_a_batch_and_closes() {
    let dir = testkit::scratch_dir();
    let served = Served::start(dir.path());
    for payload in [b"hello, store".to_vec(), {
        let mut ack = Vec::new();
        monitor::wire::encode(&Message::Ack { seq: 1, accepted: 1, rejected: 0 }, &mut ack);
        ack
    }] {
        let mut client = served.connect();
        write_frame(client.get_mut(), &payload).unwrap();
        let answer = client.read_message().unwrap();
        assert!(matches!(answer, Some(Message::Refused { .. })), "{payload:?} answered {answer:?}");
        let mut rest = Vec::new();
        let read = client.get_mut().read_to_end(&mut rest);
        assert!(matches!(read, Ok(0)), "then the connection is closed: {read:?}");
    }
    // A batch whose series repeats a tag name: the frame is refused, not its points.
    let mut repeated = vec![b'm', monitor::wire::PROTOCOL_VERSION, b'B', 1, 2, 1, b'h', 1, b'a'];
    repeated.extend([1, 0, 0, 0, 2, 1, 0, 1, 0, 1, 0]);
    varint(&mut repeated, (now_ms() as u64) << 1);
    repeated.extend(1.0f64.to_le_bytes());
    let mut client = served.connect();
    write_frame(client.get_mut(), &repeated).unwrap();
    let answer = client.read_message().unwrap();
    assert!(matches!(answer, Some(Message::Refused { .. })), "a tag named twice: {answer:?}");

    let mut client = served.connect();
    let ok = [gauge("web-01", "m", now_ms(), 1.0)];
    assert_eq!(
        exchange(&mut client, 2, &ok),
        Message::Ack { seq: 2, accepted: 1, rejected: 0 },
        "other connections go on"
    );
}

#[test]
fn the_server_takes_many_connections_at_once() {
    let dir = testkit::scratch_dir();
    let served = Served::start(dir.path());
    let now = now_ms() - HOUR;
    let all: Vec<Point> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..4)
            .map(|c| {
                let served = &served;
                scope.spawn(move || {
                    let mut client = served.connect();
                    let mut sent = Vec::new();
                    for seq in 0..20u64 {
                        let points: Vec<Point> = (0..100)
                            .map(|s| {
                                gauge(
                                    &format!("host-{c}"),
                                    &format!("m{s}"),
                                    now + seq as Millis * 10_000,
                                    (seq * s) as f64,
                                )
                            })
                            .collect();
                        assert_eq!(
                            exchange(&mut client, seq, &points),
                            Message::Ack { seq, accepted: 100, rejected: 0 }
                        );
                        sent.extend(points);
                    }
                    sent
                })
            })
            .collect();
        clients.into_iter().flat_map(|client| client.join().unwrap()).collect()
    });
    assert_eq!(held(&served.store, &all), exact(&all));
    assert_eq!(served.store.stats().points, 8000);
}
