//! Stage 2: the wire. The batch codec (round trips, compactness, hostile bytes), frames on a
//! stream, per-point validation, the on-disk spool (order, crash recovery, its bound), and the
//! sender against fake relays written here: in order over one connection, failover, an outage, a
//! restart, a relay that refuses.

mod common;

use std::fs;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{ReservedPort, by_series, varint};

use monitor::wire::{
    FrameDecoder, FrameReader, MAGIC, MAX_BATCH_POINTS, MAX_DECODED_BYTES, MAX_FUTURE, MAX_NAME_BYTES,
    MAX_PAST, MAX_PAYLOAD_BYTES, MAX_STRING_BYTES, MAX_TAGS, Message, PROTOCOL_VERSION, Reject, Rejections,
    Sender, SenderConfig, Spool, WireError, decode, decoded_size, encode, encode_frame, keep_valid, validate,
    write_frame, write_message,
};
use monitor::{Kind, Millis, Point, Sample, SeriesKey, Shutdown, Tags};
use nbnet::{Codec, LengthCodec};
use proptest::prelude::*;
use testkit::test;

// ---------------------------------------------------------------------------------------------
// Points and messages

/// Now, in milliseconds since the epoch.
fn now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis
}

/// One reading of a node: `series` series of `host` at `timestamp`, five metrics over cpus.
fn node_points(host: &str, timestamp: Millis, series: usize) -> Vec<Point> {
    let metrics = ["cpu.busy", "cpu.iowait", "net.if.in.bytes", "disk.io.read_bytes", "mem.used.percent"];
    (0..series)
        .map(|i| {
            let sample = if i % 2 == 0 {
                Sample::gauge(metrics[i % 5], i as f64 * 1.25)
            } else {
                Sample::counter(metrics[i % 5], (timestamp % 100_000) as f64 + i as f64)
            };
            sample.tag("cpu", (i / 5).to_string()).at(host, timestamp)
        })
        .collect()
}

/// A point's every field, its value as bits: NaN equals itself and -0.0 differs from 0.0.
type Exact = (SeriesKey, Millis, u64, Kind);

fn exact(points: &[Point]) -> Vec<Exact> {
    points.iter().map(|p| (p.series(), p.timestamp, p.value.to_bits(), p.kind)).collect()
}

/// A message, comparable exactly (see [`exact`]).
fn exact_message(message: &Message) -> String {
    match message {
        Message::Batch { seq, points } => format!("batch {seq} {:?}", exact(points)),
        other => format!("{other:?}"),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["web-01", "db-1", "cpu.busy", "net.if.in.bytes", ""])
            .prop_map(String::from),
        "\\PC{0,12}",
    ]
}

fn point() -> impl Strategy<Value = Point> {
    (
        text(),
        text(),
        prop::collection::btree_map(prop_oneof!["[a-c]{1,2}", "\\PC{0,6}"], text(), 0..4),
        prop_oneof![any::<i64>(), (1_600_000_000_000i64..1_800_000_000_000)],
        any::<f64>(),
        any::<bool>(),
    )
        .prop_map(|(host, metric, tags, timestamp, value, counter)| Point {
            host,
            metric,
            tags,
            timestamp,
            value,
            kind: if counter { Kind::Counter } else { Kind::Gauge },
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u64>(), prop::collection::vec(point(), 0..20))
            .prop_map(|(seq, points)| Message::Batch { seq, points }),
        (any::<u64>(), any::<u32>(), any::<u32>()).prop_map(|(seq, accepted, rejected)| Message::Ack {
            seq,
            accepted,
            rejected
        }),
        "\\PC{0,40}".prop_map(|reason| Message::Refused { reason }),
    ]
}

fn payload(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    encode(message, &mut out);
    out
}

/// The start of a batch payload with `seq` 1.
fn batch_header() -> Vec<u8> {
    vec![MAGIC, PROTOCOL_VERSION, b'B', 1]
}

// ---------------------------------------------------------------------------------------------
// The codec

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn any_batch_round_trips_exactly(seq in any::<u64>(), points in prop::collection::vec(point(), 0..40)) {
        let sent = Message::Batch { seq, points };
        let got = decode(&payload(&sent)).map_err(|err| TestCaseError::fail(format!("decode: {err}")))?;
        prop_assert_eq!(exact_message(&got), exact_message(&sent), "the batch decoded");
    }

    #[test]
    fn acks_and_refusals_round_trip(seq in any::<u64>(), accepted in any::<u32>(), rejected in any::<u32>(), reason in "\\PC{0,200}") {
        let ack = Message::Ack { seq, accepted, rejected };
        prop_assert_eq!(decode(&payload(&ack)).ok(), Some(ack), "the ack decoded");
        let refused = Message::Refused { reason };
        prop_assert_eq!(decode(&payload(&refused)).ok(), Some(refused), "the refusal decoded");
    }

    #[test]
    fn decode_never_panics_on_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        kind in prop::sample::select(vec![b'B', b'A', b'R']),
        original in message(),
        flip in any::<(usize, u8)>(),
        cut in any::<usize>(),
    ) {
        let _ = decode(&bytes);
        let _ = decode(&[&[MAGIC, PROTOCOL_VERSION, kind][..], &bytes].concat());
        let mut damaged = payload(&original);
        let at = flip.0 % damaged.len();
        damaged[at] ^= flip.1;
        let _ = decode(&damaged);
        damaged.truncate(cut % (damaged.len() + 1));
        let _ = decode(&damaged);
    }

    #[test]
    fn any_split_of_a_stream_of_frames_gives_the_same_messages(
        messages in prop::collection::vec(message(), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for message in &messages {
            encode_frame(message, &mut wire);
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (wire.len() + 1)).collect();
        cuts.push(wire.len());
        cuts.sort_unstable();
        let mut decoder = FrameDecoder::default();
        let (mut got, mut from) = (Vec::new(), 0);
        for cut in cuts {
            decoder.extend(&wire[from..cut]);
            from = cut;
            while let Some(message) = decoder.next_message().map_err(|err| TestCaseError::fail(err.to_string()))? {
                got.push(exact_message(&message));
            }
        }
        let want: Vec<String> = messages.iter().map(exact_message).collect();
        prop_assert_eq!(got, want, "the messages decoded from pieces");
        prop_assert_eq!(decoder.buffered(), 0, "nothing left over");
    }
}

#[test]
fn every_payload_starts_with_the_magic_and_the_version() {
    let batch = payload(&Message::Batch { seq: 9, points: node_points("web-01", now_ms(), 3) });
    let ack = payload(&Message::Ack { seq: 9, accepted: 3, rejected: 0 });
    let refused = payload(&Message::Refused { reason: "no".into() });
    for bytes in [&batch, &ack, &refused] {
        assert_eq!(bytes[..2], [MAGIC, PROTOCOL_VERSION], "magic and version lead {bytes:?}");
    }

    let mut newer = batch.clone();
    newer[1] = PROTOCOL_VERSION + 1;
    let err = decode(&newer).expect_err("a batch of another version is refused");
    assert!(matches!(err, WireError::Version { found } if found == PROTOCOL_VERSION + 1), "{err:?}");
    assert!(
        err.to_string().contains(&(PROTOCOL_VERSION + 1).to_string()),
        "the message names the version: {err}"
    );

    // A refusal reads the same in every version, so the peer learns why it was turned away.
    let mut newer_refusal = refused.clone();
    newer_refusal[1] = PROTOCOL_VERSION + 1;
    assert_eq!(decode(&newer_refusal).ok(), Some(Message::Refused { reason: "no".into() }));

    let mut alien = ack.clone();
    alien[0] ^= 0xff;
    assert!(matches!(decode(&alien), Err(WireError::BadMagic { .. })), "a bad magic byte is named");
    let mut unknown = ack.clone();
    unknown[2] = b'Z';
    assert!(decode(&unknown).is_err(), "an unknown message type is refused");
    let mut trailing = ack;
    trailing.push(0);
    assert!(decode(&trailing).is_err(), "bytes after the message are refused");
}

#[test]
fn repeated_series_cost_one_index_and_points_about_ten_bytes() {
    let t0 = 1_700_000_000_000;
    let one = payload(&Message::Batch { seq: 1, points: node_points("web-01", t0, 1) });
    let mut two_points = node_points("web-01", t0, 1);
    two_points.extend(node_points("web-01", t0 + 10_000, 1));
    let two = payload(&Message::Batch { seq: 1, points: two_points });
    assert!(
        two.len() - one.len() <= 12,
        "a second point of the same series costs an index, a delta and a value: {} bytes",
        two.len() - one.len()
    );

    // A node: 100 series read 10 times, 10 s apart.
    let points: Vec<Point> =
        (0..10).flat_map(|i| node_points("web-01.example.com", t0 + i * 10_000, 100)).collect();
    let bytes = payload(&Message::Batch { seq: 1, points });
    assert!(bytes.len() <= 1000 * 12 + 2500, "1000 points of 100 series took {} bytes", bytes.len());
}

#[test]
fn a_long_refusal_is_cut_at_a_character_boundary() {
    // 'é' is two bytes: after one 'a', byte MAX_STRING_BYTES is inside a character.
    let reason = format!("a{}", "é".repeat(MAX_STRING_BYTES / 2));
    let bytes = payload(&Message::Refused { reason: reason.clone() });
    match decode(&bytes) {
        Ok(Message::Refused { reason: cut }) => {
            assert!(cut.len() <= MAX_STRING_BYTES && reason.starts_with(&cut), "{} bytes", cut.len());
            assert_eq!(cut.len(), MAX_STRING_BYTES - 1, "as many whole characters as fit");
        }
        other => panic!("the refusal must read back, cut: {other:?}"),
    }
}

#[test]
fn the_decoded_size_of_points_is_counted_as_documented() {
    let mut point = Sample::gauge("cpu.busy", 1.0).tag("cpu", "0").tag("mode", "user").at("web-01", 1);
    let text = "web-01".len() + "cpu.busy".len() + "cpu0".len() + "modeuser".len();
    let one = std::mem::size_of::<Point>() + text + 2 * 64;
    assert_eq!(decoded_size(std::slice::from_ref(&point)), one, "a Point, its text and 64 bytes a tag");
    point.tags.clear();
    assert_eq!(decoded_size(&[point]), one - 2 * 64 - "cpu0modeuser".len());
}

/// A batch of one point now, of a series `h` with the tags named by `tags`: indices into the
/// string table `h`, `a`, `b` (each tag's value is `h`).
fn batch_with_tags(tags: &[u8]) -> Vec<u8> {
    let mut bytes = batch_header();
    bytes.extend([3, 1, b'h', 1, b'a', 1, b'b']);
    bytes.extend([1, 0, 0, 0, tags.len() as u8]);
    for &name in tags {
        bytes.extend([name, 0]);
    }
    bytes.extend([1, 0]);
    varint(&mut bytes, (now_ms() as u64) << 1);
    bytes.extend(1.0f64.to_le_bytes());
    bytes
}

#[test]
fn a_series_tags_must_be_sorted_by_name_and_each_name_once() {
    assert!(decode(&batch_with_tags(&[1, 2])).is_ok(), "a, b: sorted");
    for tags in [[2, 1], [1, 1]] {
        let err = decode(&batch_with_tags(&tags)).expect_err("tags out of order or repeated");
        assert!(matches!(err, WireError::UnsortedTags { .. }), "{tags:?}: {err}");
    }
}

#[test]
fn counts_and_lengths_are_checked_before_anything_is_allocated() {
    // Counts far beyond what the bytes could hold: refused, not reserved.
    for count in [1 << 20, 1 << 40, u64::MAX >> 1, u64::MAX] {
        let mut strings = batch_header();
        varint(&mut strings, count);
        assert!(decode(&strings).is_err(), "a string count of {count} in a short payload");
        let mut long = batch_header();
        varint(&mut long, 1);
        varint(&mut long, count);
        long.extend_from_slice(b"abc");
        assert!(decode(&long).is_err(), "a string length of {count} in a short payload");
        let mut points = batch_header();
        points.extend([0, 0]);
        varint(&mut points, count);
        assert!(decode(&points).is_err(), "a point count of {count} in a short payload");
    }
    let mut unending = batch_header();
    unending.extend([0xff; 11]);
    assert!(decode(&unending).is_err(), "a varint of more than 10 bytes");

    // One host, one series, and more points than a batch may carry, each in its 10 bytes.
    let mut over = batch_header();
    over.extend([1, 1, b'h', 1, 0, 0, 0, 0]);
    varint(&mut over, MAX_BATCH_POINTS as u64 + 1);
    for _ in 0..=MAX_BATCH_POINTS {
        over.extend([0, 0]);
        over.extend(1.0f64.to_le_bytes());
    }
    assert!(decode(&over).is_err(), "{} points, over MAX_BATCH_POINTS", MAX_BATCH_POINTS + 1);

    // A series of 64 tags of 1 KiB values, sent once, named by 2000 points of 10 bytes: a 21 KB
    // payload that would decode into about 150 MB.
    let big = "v".repeat(MAX_STRING_BYTES);
    let mut bomb = batch_header();
    varint(&mut bomb, 65);
    varint(&mut bomb, big.len() as u64);
    bomb.extend_from_slice(big.as_bytes());
    for tag in 0..64 {
        let name = format!("t{tag:02}");
        varint(&mut bomb, name.len() as u64);
        bomb.extend_from_slice(name.as_bytes());
    }
    bomb.extend([1, 0, 0, 0, 64]);
    for tag in 1..=64 {
        bomb.extend([tag, 0]);
    }
    varint(&mut bomb, 2000);
    for _ in 0..2000 {
        bomb.extend([0, 0]);
        bomb.extend(1.0f64.to_le_bytes());
    }
    let template =
        decode(&[&bomb[..bomb.len() - 2000 * 10 - 2], &[1, 0, 0][..], &1.0f64.to_le_bytes()].concat());
    assert!(template.is_ok(), "one point of the big series decodes: {:?}", template.err());
    let err = decode(&bomb).expect_err("2000 points of it would take 150 MB");
    assert!(matches!(err, WireError::TooLarge { .. }), "refused as too large: {err}");
}

#[test]
fn varints_carry_64_bits_and_no_more() {
    let ack = payload(&Message::Ack { seq: 1, accepted: 0, rejected: 0 });
    assert_eq!(ack[3..], [1, 0, 0], "after magic, version and type: seq, accepted, rejected");
    let with_seq = |seq: &[u8]| [&ack[..3], seq, &[0, 0]].concat();
    let largest = with_seq(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(decode(&largest).unwrap(), Message::Ack { seq: u64::MAX, accepted: 0, rejected: 0 });
    for tenth in [0x02, 0x7f] {
        let over = with_seq(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, tenth]);
        assert!(matches!(decode(&over), Err(WireError::BadVarint { at: 3 })), "a 65th bit: {tenth:#x}");
    }
    let eleven = with_seq(&[0xff; 11]);
    assert!(matches!(decode(&eleven), Err(WireError::BadVarint { at: 3 })), "eleven bytes");
}

#[test]
fn every_truncation_of_a_batch_is_refused() {
    let mut points = node_points("web-01", now_ms(), 20);
    points[3].value = f64::NAN;
    let bytes = payload(&Message::Batch { seq: 77, points });
    for len in 0..bytes.len() {
        let err = decode(&bytes[..len]).expect_err("a proper prefix is not a message");
        assert!(
            matches!(err, WireError::Truncated { at } if at == len),
            "the first {len} bytes: {err} (`at` is the length given)"
        );
    }
    assert!(decode(&bytes).is_ok(), "the whole payload decodes");
}

// ---------------------------------------------------------------------------------------------
// Frames

#[test]
fn frames_are_nbnet_length_frames() {
    let message = Message::Batch { seq: 5, points: node_points("web-01", now_ms(), 4) };
    let body = payload(&message);
    let mut frame = Vec::new();
    encode_frame(&message, &mut frame);
    assert_eq!(frame[..10], *format!("{:010}", body.len()).as_bytes(), "a 10-digit length leads");
    assert_eq!(frame[10..], body[..], "then the payload");
    assert_eq!(
        LengthCodec::new(MAX_PAYLOAD_BYTES).decode(&frame).unwrap(),
        Some((body.clone(), frame.len()))
    );

    let (mut written, mut sent) = (Vec::new(), Vec::new());
    write_frame(&mut written, &body).unwrap();
    write_message(&mut sent, &message).unwrap();
    assert_eq!(
        (written.as_slice(), sent.as_slice()),
        (frame.as_slice(), frame.as_slice()),
        "the writers agree"
    );

    let mut bad = FrameDecoder::default();
    bad.extend(b"00000x0005hello");
    assert!(matches!(bad.next_message(), Err(WireError::BadHeader { .. })), "a header that is not digits");
    let mut huge = FrameDecoder::default();
    huge.extend(format!("{:010}", MAX_PAYLOAD_BYTES + 1).as_bytes());
    assert!(
        matches!(huge.next_message(), Err(WireError::FrameTooLong { .. })),
        "a length over the limit is refused from the header alone"
    );
    let mut small = FrameDecoder::new(100);
    small.extend(b"0000000101");
    assert!(matches!(small.next_message(), Err(WireError::FrameTooLong { len: 101, max: 100 })));
}

/// A stream that gives one byte per read.
struct Trickle<R>(R);

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len().min(1);
        self.0.read(&mut buf[..len])
    }
}

#[test]
fn the_frame_reader_ends_cleanly_between_frames_and_not_inside_one() {
    let messages = [
        Message::Batch { seq: 1, points: node_points("a", now_ms(), 7) },
        Message::Ack { seq: 1, accepted: 7, rejected: 0 },
        Message::Refused { reason: "protocol version 1 unsupported".into() },
    ];
    let mut wire = Vec::new();
    for message in &messages {
        encode_frame(message, &mut wire);
    }
    let mut reader = FrameReader::new(Trickle(io::Cursor::new(wire.clone())));
    for message in &messages {
        assert_eq!(reader.read_message().unwrap().as_ref(), Some(message), "read byte by byte");
    }
    assert!(matches!(reader.read_message(), Ok(None)), "a clean end between frames");

    let mut cut = FrameReader::new(io::Cursor::new(wire[..wire.len() - 3].to_vec()));
    assert!(cut.read_message().unwrap().is_some() && cut.read_message().unwrap().is_some());
    assert!(matches!(cut.read_message(), Err(WireError::ClosedInFrame { .. })), "an end inside a frame");
}

// ---------------------------------------------------------------------------------------------
// Validation

fn good_point(now: Millis) -> Point {
    Sample::gauge("net.if.in.bytes", 12.5)
        .tag("iface", "eth0")
        .tag("mount", "/var/log")
        .at("web-01.example.com", now)
}

#[test]
fn refusals_are_counted_under_their_documented_names() {
    let names = Reject::ALL.map(Reject::as_str);
    assert_eq!(names, ["not_finite", "too_old", "too_new", "too_many_tags", "too_long", "bad_name"]);
    let (mut all, mut more) = (Rejections::default(), Rejections::default());
    all.count(Reject::TooOld);
    more.count(Reject::TooOld);
    more.count(Reject::BadName);
    all.add(&more);
    assert_eq!((all.get(Reject::TooOld), all.get(Reject::BadName), all.total()), (2, 1, 3), "{all:?}");

    let ack = payload(&Message::Ack { seq: 1, accepted: 0, rejected: 0 });
    let mut alien = ack.clone();
    alien[0] ^= 0xff;
    let mut newer = ack.clone();
    newer[1] = PROTOCOL_VERSION + 1;
    for (bytes, reason) in [(alien, "bad_magic"), (newer, "version"), (ack[..4].to_vec(), "truncated")] {
        assert_eq!(decode(&bytes).expect_err(reason).reason(), reason);
    }
}

#[test]
fn validation_refuses_nan_and_infinite_values() {
    let now = now_ms();
    assert_eq!(validate(&good_point(now), now), Ok(()), "a good point");
    for value in [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let point = Point { value, ..good_point(now) };
        assert_eq!(validate(&point, now), Err(Reject::NotFinite), "value {value}");
    }
    for value in [0.0, -0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE, -1e-300] {
        let point = Point { value, ..good_point(now) };
        assert_eq!(validate(&point, now), Ok(()), "value {value}");
    }
}

#[test]
fn validation_refuses_timestamps_far_from_now_at_the_stated_bounds() {
    let now = 1_700_000_000_000;
    let at = |timestamp| validate(&Point { timestamp, ..good_point(now) }, now);
    assert_eq!(MAX_PAST, 7 * 24 * 3600 * 1000, "7 days");
    assert_eq!(MAX_FUTURE, 10 * 60 * 1000, "10 minutes");
    assert_eq!(at(now - MAX_PAST), Ok(()), "exactly MAX_PAST old");
    assert_eq!(at(now - MAX_PAST - 1), Err(Reject::TooOld));
    assert_eq!(at(now + MAX_FUTURE), Ok(()), "exactly MAX_FUTURE ahead");
    assert_eq!(at(now + MAX_FUTURE + 1), Err(Reject::TooNew));
    assert_eq!(at(0), Err(Reject::TooOld), "1970");
    assert_eq!(at(Millis::MIN), Err(Reject::TooOld));
    assert_eq!(at(Millis::MAX), Err(Reject::TooNew));
    for now in [Millis::MIN, Millis::MAX] {
        let point = Point { timestamp: now, ..good_point(now) };
        assert_eq!(validate(&point, now), Ok(()), "no overflow at now = {now}");
    }
}

#[test]
fn validation_refuses_oversized_tag_sets_and_names() {
    let now = now_ms();
    let tags = |count: usize| -> Tags { (0..count).map(|i| (format!("t{i}"), "v".to_owned())).collect() };
    assert_eq!(validate(&Point { tags: tags(MAX_TAGS), ..good_point(now) }, now), Ok(()), "MAX_TAGS tags");
    assert_eq!(
        validate(&Point { tags: tags(MAX_TAGS + 1), ..good_point(now) }, now),
        Err(Reject::TooManyTags)
    );
    assert_eq!(validate(&Point { tags: tags(1000), ..good_point(now) }, now), Err(Reject::TooManyTags));

    let longest = "a".repeat(MAX_NAME_BYTES);
    let over = "a".repeat(MAX_NAME_BYTES + 1);
    for name in [&longest, &over] {
        let want = if name.len() > MAX_NAME_BYTES { Err(Reject::TooLong) } else { Ok(()) };
        let tagged = |key: &str, value: &str| Tags::from([(key.to_owned(), value.to_owned())]);
        let cases = [
            ("host", Point { host: name.clone(), ..good_point(now) }),
            ("metric", Point { metric: name.clone(), ..good_point(now) }),
            ("tag name", Point { tags: tagged(name, "v"), ..good_point(now) }),
            ("tag value", Point { tags: tagged("k", name), ..good_point(now) }),
        ];
        for (what, point) in cases {
            assert_eq!(validate(&point, now), want, "a {what} of {} bytes", name.len());
        }
    }
}

#[test]
fn validation_refuses_empty_names_and_bad_characters() {
    let now = now_ms();
    let with_tag = |key: &str, value: &str| Point {
        tags: Tags::from([(key.to_owned(), value.to_owned())]),
        ..good_point(now)
    };
    let bad = [
        ("empty host", Point { host: String::new(), ..good_point(now) }),
        ("empty metric", Point { metric: String::new(), ..good_point(now) }),
        ("space in metric", Point { metric: "cpu busy".into(), ..good_point(now) }),
        ("newline in host", Point { host: "web\n01".into(), ..good_point(now) }),
        ("non-ASCII metric", Point { metric: "débit".into(), ..good_point(now) }),
        ("space in tag name", with_tag("a b", "v")),
        ("empty tag name", with_tag("", "v")),
        ("empty tag value", with_tag("k", "")),
        ("tab in tag value", with_tag("k", "a\tb")),
        ("comma in tag value", with_tag("k", "a,b")),
        ("equals in tag value", with_tag("k", "a=b")),
        ("brace in tag value", with_tag("k", "{x}")),
    ];
    for (what, point) in bad {
        assert_eq!(validate(&point, now), Err(Reject::BadName), "{what}");
    }
    let good = [
        Point { host: "ip-10-0-0-1.ec2.internal".into(), ..good_point(now) },
        Point { metric: "nginx:requests_total".into(), ..good_point(now) },
        with_tag("device", "sda1"),
        with_tag("path", "GET /api/v1/items"),
        with_tag("mount", "/mnt/média"),
    ];
    for point in good {
        assert_eq!(validate(&point, now), Ok(()), "{point}");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn validation_counts_each_refusal_under_its_reason(
        defects in prop::collection::vec(prop::option::of(prop::sample::select(Reject::ALL.to_vec())), 0..40),
    ) {
        let now = 1_700_000_000_000;
        let mut points = Vec::new();
        let mut want_kept = Vec::new();
        let mut want = Rejections::default();
        for (i, defect) in defects.iter().enumerate() {
            let mut point = Point { value: i as f64, ..good_point(now) };
            match defect {
                None => want_kept.push(point.clone()),
                Some(reject) => {
                    *match reject {
                        Reject::NotFinite => { point.value = f64::NAN; &mut want.not_finite }
                        Reject::TooOld => { point.timestamp = now - MAX_PAST - 1 - i as Millis; &mut want.too_old }
                        Reject::TooNew => { point.timestamp = now + MAX_FUTURE + 1 + i as Millis; &mut want.too_new }
                        Reject::TooManyTags => {
                            point.tags = (0..=MAX_TAGS).map(|t| (format!("t{t}"), "v".to_owned())).collect();
                            &mut want.too_many_tags
                        }
                        Reject::TooLong => { point.metric = "m".repeat(MAX_NAME_BYTES + 1 + i); &mut want.too_long }
                        Reject::BadName => { point.host = String::new(); &mut want.bad_name }
                    } += 1;
                    prop_assert_eq!(validate(&point, now), Err(*reject), "the point with {:?}", reject);
                }
            }
            points.push(point);
        }
        let mut counted = Rejections::default();
        let dropped = keep_valid(&mut points, now, &mut counted);
        prop_assert_eq!(exact(&points), exact(&want_kept), "the good points, in order");
        prop_assert_eq!(counted, want, "the refusals by reason");
        prop_assert_eq!(dropped as u64, want.total(), "the number dropped");
        for reject in Reject::ALL {
            prop_assert_eq!(counted.get(reject), want.get(reject), "{}", reject.as_str());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The spool

/// Record `i` of `len` bytes: its number, repeated.
fn record(i: usize, len: usize) -> Vec<u8> {
    (i as u32).to_le_bytes().iter().copied().cycle().take(len).collect()
}

/// Everything `spool` holds, front to back, popping it.
fn drain(spool: &mut Spool) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    while let Some(record) = spool.front().unwrap() {
        records.push(record);
        spool.pop_front().unwrap();
    }
    records
}

/// The spool's segment files, oldest first.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    files.sort();
    files
}

fn disk_bytes(dir: &Path) -> u64 {
    segments(dir).iter().map(|path| fs::metadata(path).unwrap().len()).sum()
}

/// Where each of the last segment's records starts in it, given every record pushed (all still
/// held): the index of its first record, and each record's start and end.
fn last_segment_layout(dir: &Path, records: &[Vec<u8>]) -> (PathBuf, usize, Vec<(usize, usize)>) {
    let last = segments(dir).pop().expect("a segment file");
    let size = fs::metadata(&last).unwrap().len() as usize;
    let (mut first, mut sum) = (records.len(), 0);
    while sum < size {
        first -= 1;
        sum += 8 + records[first].len();
    }
    assert_eq!(sum, size, "the last segment holds whole records, each 8 bytes of header and the record");
    let mut at = 0;
    let spans = records[first..]
        .iter()
        .map(|record| {
            let span = (at, at + 8 + record.len());
            at = span.1;
            span
        })
        .collect();
    (last, first, spans)
}

#[test]
fn the_spool_keeps_its_order_across_reopening() {
    let dir = testkit::scratch_dir();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert!(spool.is_empty() && spool.front().unwrap().is_none(), "a new spool is empty");
    for i in 0..10 {
        spool.push(&record(i, 100 + i)).unwrap();
    }
    for i in 0..3 {
        assert_eq!(spool.front().unwrap(), Some(record(i, 100 + i)), "front {i}");
        assert_eq!(spool.front().unwrap(), Some(record(i, 100 + i)), "front {i} again: front does not pop");
        spool.pop_front().unwrap();
    }
    drop(spool);

    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(spool.len(), 7, "the 7 records not popped, and not the popped ones");
    spool.push(&record(10, 110)).unwrap();
    drop(spool);
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    let want: Vec<Vec<u8>> = (3..11).map(|i| record(i, 100 + i)).collect();
    assert_eq!(drain(&mut spool), want, "records 3 to 10, in order");
    assert!(spool.is_empty());
    drop(spool);
    assert!(Spool::open(dir.path(), 1 << 20).unwrap().is_empty(), "popped records stay popped");
}

#[test]
fn the_spool_goes_on_in_new_segments_after_reopening_and_holds_exactly_its_bound() {
    let dir = testkit::scratch_dir();
    // Records of 1,000 bytes (1,008 with their header) in a 64 KiB spool: several segments.
    let mut spool = Spool::open(dir.path(), 64 << 10).unwrap();
    for i in 0..20 {
        spool.push(&record(i, 1000)).unwrap();
    }
    for _ in 0..4 {
        spool.pop_front().unwrap();
    }
    drop(spool);
    let mut spool = Spool::open(dir.path(), 64 << 10).unwrap();
    assert_eq!(spool.len(), 16, "the first segment's records not popped are kept");
    for i in 20..40 {
        spool.push(&record(i, 1000)).unwrap();
    }
    drop(spool);
    let mut spool = Spool::open(dir.path(), 64 << 10).unwrap();
    let want: Vec<Vec<u8>> = (4..40).map(|i| record(i, 1000)).collect();
    assert_eq!(drain(&mut spool), want, "records 4 to 39, in order, across segments made after reopening");
    drop(spool);

    // A bound of exactly five records holds five, whether they are pushed or found at opening.
    let five = 5 * 1008;
    let mut spool = Spool::open(dir.path(), five).unwrap();
    for i in 0..5 {
        spool.push(&record(i, 1000)).unwrap();
    }
    assert_eq!(
        (spool.len(), spool.dropped(), spool.bytes()),
        (5, 0, five),
        "five records fit a bound of five"
    );
    for i in 5..10 {
        spool.push(&record(i, 1000)).unwrap();
    }
    drop(spool);
    let spool = Spool::open(dir.path(), 64 << 10).unwrap();
    assert_eq!(spool.len(), 5, "the five newest");
    drop(spool);
    let mut spool = Spool::open(dir.path(), 3 * 1008).unwrap();
    assert_eq!((spool.len(), spool.dropped()), (3, 2), "a smaller bound at opening drops the oldest");
    spool.pop_front().unwrap();
    assert_eq!(spool.bytes(), 2 * 1008, "what a pop frees, header included");
    assert_eq!(drain(&mut spool), (8..10).map(|i| record(i, 1000)).collect::<Vec<_>>());
}

#[test]
fn a_record_damaged_or_cut_while_the_spool_is_open_is_dropped_and_counted() {
    let dir = testkit::scratch_dir();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    for i in 0..3 {
        spool.push(&record(i, 100)).unwrap();
    }
    let file = segments(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&file).unwrap();
    bytes[108 + 8 + 50] ^= 0x40; // inside record 1's data
    bytes.truncate(2 * 108 + 50); // inside record 2
    fs::write(&file, &bytes).unwrap();
    assert_eq!(drain(&mut spool), [record(0, 100)], "only the record left whole");
    assert_eq!(spool.dropped(), 2, "the damaged one and the cut one are counted");
}

proptest! {
    #![proptest_config(testkit::proptest_config(24))]

    #[test]
    fn the_spool_recovers_a_torn_tail_at_any_byte(
        lens in prop::collection::vec(0..300usize, 1..20),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = testkit::scratch_dir();
        let records: Vec<Vec<u8>> = lens.iter().enumerate().map(|(i, &len)| record(i, len)).collect();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        for record in &records {
            spool.push(record).unwrap();
        }
        drop(spool);
        let (last, first, spans) = last_segment_layout(dir.path(), &records);
        let size = spans.last().map_or(0, |span| span.1);
        let cut = cut.index(size);
        fs::OpenOptions::new().write(true).open(&last).unwrap().set_len(cut as u64).unwrap();

        let whole = spans.iter().filter(|span| span.1 <= cut).count();
        let mut want = records[..first + whole].to_vec();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        prop_assert_eq!(spool.len(), want.len(), "the records before the cut at {}", cut);
        spool.push(b"after the crash").unwrap();
        drop(spool);
        want.push(b"after the crash".to_vec());
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        prop_assert_eq!(drain(&mut spool), want, "the good records, then the one pushed after recovery");
    }

    #[test]
    fn the_spool_recovers_from_a_flipped_byte(
        lens in prop::collection::vec(1..300usize, 1..20),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
    ) {
        let dir = testkit::scratch_dir();
        let records: Vec<Vec<u8>> = lens.iter().enumerate().map(|(i, &len)| record(i, len)).collect();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        for record in &records {
            spool.push(record).unwrap();
        }
        drop(spool);
        let (last, first, spans) = last_segment_layout(dir.path(), &records);
        let mut bytes = fs::read(&last).unwrap();
        let at = at.index(bytes.len());
        bytes[at] ^= mask;
        fs::write(&last, &bytes).unwrap();

        let damaged = spans.iter().position(|span| span.0 <= at && at < span.1).unwrap();
        let want = records[..first + damaged].to_vec();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        prop_assert_eq!(drain(&mut spool), want, "the records before the damaged one (byte {} flipped)", at);
    }
}

#[test]
fn the_spool_drops_the_oldest_records_over_its_bound_and_counts_them() {
    let dir = testkit::scratch_dir();
    let max_bytes = 64 << 10;
    let mut spool = Spool::open(dir.path(), max_bytes).unwrap();
    for i in 0..200 {
        spool.push(&record(i, 1000)).unwrap();
        assert!(spool.bytes() <= max_bytes, "the records held stay under the bound");
        assert!(
            disk_bytes(dir.path()) <= max_bytes + max_bytes / 8,
            "the files stay under the bound and a segment"
        );
    }
    let held = (max_bytes / 1008) as usize;
    assert_eq!(spool.len(), held, "as many 1000-byte records as fit");
    assert_eq!(spool.dropped(), (200 - held) as u64, "the dropped ones are counted");
    assert_eq!(spool.front().unwrap(), Some(record(200 - held, 1000)), "the oldest were dropped");

    spool.push(&vec![7; max_bytes as usize]).unwrap();
    assert_eq!(spool.dropped(), (201 - held) as u64, "a record larger than the bound is dropped too");
    assert_eq!(spool.len(), held, "and drops nothing else");
    drop(spool);

    let mut spool = Spool::open(dir.path(), max_bytes).unwrap();
    let want: Vec<Vec<u8>> = (200 - held..200).map(|i| record(i, 1000)).collect();
    assert_eq!(drain(&mut spool), want, "the newest records, in order, after reopening");
}

#[test]
fn the_spool_deletes_segments_once_their_records_are_popped() {
    let dir = testkit::scratch_dir();
    let max_bytes = 1 << 20;
    let mut spool = Spool::open(dir.path(), max_bytes).unwrap();
    for i in 0..600 {
        spool.push(&record(i, 1000)).unwrap();
    }
    assert!(segments(dir.path()).len() > 1, "600 KB of records span segments of an eighth of the bound");
    assert_eq!(drain(&mut spool).len(), 600);
    assert!(
        disk_bytes(dir.path()) <= max_bytes / 8,
        "popped segments are deleted: {} bytes left",
        disk_bytes(dir.path())
    );
    spool.push(b"one more").unwrap();
    drop(spool);
    let mut spool = Spool::open(dir.path(), max_bytes).unwrap();
    assert_eq!(drain(&mut spool), vec![b"one more".to_vec()], "only the record not popped");
}

// ---------------------------------------------------------------------------------------------
// Fake relays and ports

/// What a fake relay does with what it reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Records each batch, then acks it.
    Ack,
    /// Accepts connections and never reads or answers.
    Silent,
    /// Answers the first batch of a connection with a refusal (it speaks another version) and closes.
    Refuse,
    /// Reads a batch and closes the connection without an answer, as a relay that crashes.
    HangUp,
    /// Acks each batch and then closes the connection, as a relay that restarts between batches.
    AckThenClose,
    /// Acks a batch it was never sent (the batch's seq + 1000), as a relay with a bug.
    WrongAck,
    /// Acks each batch with its first point counted as rejected, as a relay whose store found it
    /// too late.
    RejectFirst,
}

#[derive(Debug, Default)]
struct Log {
    connections: usize,
    hang_ups: usize,
    /// When each hang-up came.
    hung_up_at: Vec<Instant>,
    batches: Vec<(u64, Vec<Point>)>,
}

/// A relay on loopback, in threads, decoding frames with the crate's own reader.
struct FakeRelay {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeRelay {
    fn start(mode: Mode) -> FakeRelay {
        FakeRelay::on(TcpListener::bind("127.0.0.1:0").unwrap(), mode)
    }

    fn on(listener: TcpListener, mode: Mode) -> FakeRelay {
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (mode, log, stop) = (mode.clone(), log.clone(), stop.clone());
            thread::spawn(move || {
                let mut held = Vec::new();
                for stream in listener.incoming() {
                    if stop.load(SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    log.lock().unwrap().connections += 1;
                    if *mode.lock().unwrap() == Mode::Silent {
                        held.push(stream);
                    } else {
                        let (mode, log) = (mode.clone(), log.clone());
                        thread::spawn(move || serve(stream, &mode, &log));
                    }
                }
            })
        };
        FakeRelay { addr, mode, log, stop, acceptor: Some(acceptor) }
    }

    /// Behaves as `mode` from the next batch (or, for `Silent`, connection) on.
    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }

    fn batches(&self) -> Vec<(u64, Vec<Point>)> {
        self.log.lock().unwrap().batches.clone()
    }

    fn points(&self) -> Vec<Point> {
        self.batches().into_iter().flat_map(|(_, points)| points).collect()
    }

    /// The batches' seqs, checked to be strictly increasing: each batch came once, in order.
    fn seqs_in_order(&self) -> Vec<u64> {
        let seqs: Vec<u64> = self.batches().iter().map(|(seq, _)| *seq).collect();
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "batches came once each, in order: {seqs:?}");
        seqs
    }
}

impl Drop for FakeRelay {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(stream: TcpStream, mode: &Mutex<Mode>, log: &Mutex<Log>) {
    let mut reader = FrameReader::new(stream);
    while let Ok(Some(message)) = reader.read_message() {
        let Message::Batch { seq, points } = message else { continue };
        match *mode.lock().unwrap() {
            Mode::Refuse => {
                let refusal = Message::Refused { reason: "protocol version 1 unsupported".into() };
                let _ = write_message(reader.get_mut(), &refusal);
                return;
            }
            Mode::HangUp => {
                let mut log = log.lock().unwrap();
                log.hang_ups += 1;
                log.hung_up_at.push(Instant::now());
                return;
            }
            Mode::WrongAck => {
                let wrong = Message::Ack { seq: seq + 1000, accepted: points.len() as u32, rejected: 0 };
                if write_message(reader.get_mut(), &wrong).is_err() {
                    return;
                }
                continue;
            }
            Mode::Ack | Mode::AckThenClose | Mode::Silent | Mode::RejectFirst => {}
        }
        let rejected = u32::from(*mode.lock().unwrap() == Mode::RejectFirst);
        let accepted = points.len() as u32 - rejected;
        log.lock().unwrap().batches.push((seq, points));
        let acked = write_message(reader.get_mut(), &Message::Ack { seq, accepted, rejected });
        if acked.is_err() || *mode.lock().unwrap() == Mode::AckThenClose {
            return;
        }
    }
}

fn config(relays: Vec<SocketAddr>) -> SenderConfig {
    let mut config = SenderConfig::new(relays);
    config.connect_timeout = Duration::from_secs(2);
    config.ack_timeout = Duration::from_secs(5);
    config.backoff_min = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(50);
    config
}

fn sender(dir: &Path, config: SenderConfig) -> Sender {
    Sender::new(config, Spool::open(dir, 16 << 20).unwrap())
}

/// `rounds` readings of `series` series of one node, 10 s apart and ending now.
fn readings(rounds: usize, series: usize) -> Vec<Vec<Point>> {
    let start = now_ms() - rounds as Millis * 10_000;
    (0..rounds).map(|round| node_points("web-01", start + round as Millis * 10_000, series)).collect()
}

// ---------------------------------------------------------------------------------------------
// The sender

#[test]
fn the_sender_delivers_batches_in_order_over_one_long_connection() {
    let relay = FakeRelay::start(Mode::Ack);
    let dir = testkit::scratch_dir();
    let mut config = config(vec![relay.addr]);
    config.max_batch_points = 100;
    let mut sender = sender(dir.path(), config);
    let rounds = readings(4, 250);
    for round in &rounds {
        sender.send(round.clone()).unwrap();
    }
    let batches = relay.batches();
    assert_eq!(batches.len(), 12, "250 points a round in batches of at most 100: 3 a round");
    assert!(batches.iter().all(|(_, points)| points.len() <= 100), "no batch over max_batch_points");
    relay.seqs_in_order();
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "every point, in order");
    assert_eq!(relay.connections(), 1, "one connection, kept and reused");
    let stats = sender.stats();
    assert_eq!((stats.batches_acked, stats.points_acked, stats.spooled), (12, 1000, 0), "{stats:?}");
    assert_eq!((stats.connections, stats.failovers, stats.points_rejected), (1, 0, 0), "{stats:?}");
    assert_eq!(stats.relay, Some(relay.addr));

    relay.set_mode(Mode::RejectFirst);
    sender.send(readings(1, 250).remove(0)).unwrap();
    let stats = sender.stats();
    assert_eq!((stats.points_acked, stats.points_rejected), (1247, 3), "the acks' counts add up: {stats:?}");
}

#[test]
fn the_agent_loop_sends_points_as_they_come_and_returns_when_their_channel_closes() {
    let relay = FakeRelay::start(Mode::Ack);
    let dir = testkit::scratch_dir();
    let sender = sender(dir.path(), config(vec![relay.addr]));
    let (points, received) = mpsc::sync_channel(16);
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(sender.run(received, Shutdown::new())));
    let rounds = readings(3, 10);
    for (i, round) in rounds.iter().enumerate() {
        points.send(round.clone()).unwrap();
        testkit::eventually("each round delivered before the next comes", || {
            relay.points().len() == 10 * (i + 1)
        });
    }
    drop(points);
    let stats = finished
        .recv_timeout(testkit::DEFAULT_DEADLINE)
        .expect("run returns once its channel is closed and the spool is empty");
    assert_eq!((stats.points_acked, stats.spooled), (30, 0), "{stats:?}");
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()));
}

#[test]
fn a_batch_over_the_protocol_s_limits_is_sent_in_parts() {
    let relay = FakeRelay::start(Mode::Ack);
    let dir = testkit::scratch_dir();
    let mut config = config(vec![relay.addr]);
    config.max_batch_points = MAX_BATCH_POINTS;
    let mut sender = sender(dir.path(), config);
    let now = now_ms();

    // 5,000 series with 1,000 bytes of their own tags each: a payload over MAX_PAYLOAD_BYTES.
    let wide: Vec<Point> = (0..5000)
        .map(|i| {
            let mut sample = Sample::gauge("wide.value", i as f64);
            for tag in ["a", "b", "c", "d"] {
                sample = sample.tag(tag, format!("{tag}{i:0>249}"));
            }
            sample.at("web-01", now - 60_000)
        })
        .collect();
    sender.send(wide.clone()).unwrap();
    assert!(relay.batches().len() >= 2, "one batch would be over MAX_PAYLOAD_BYTES");
    assert_eq!(exact(&relay.points()), exact(&wide), "every point, in order");
    drop(wide);

    // One series with 8,000 bytes of tags and 8,000 points: a small payload (the tags are sent
    // once) that would take more than MAX_DECODED_BYTES decoded.
    let mut sample = Sample::gauge("tall.value", 0.0);
    for tag in 0..16 {
        sample = sample.tag(format!("t{tag:0>249}"), "v".repeat(250));
    }
    let tall: Vec<Point> =
        (0..8000).map(|i| sample.clone().at("web-01", now - 8_000_000 + i * 1000)).collect();
    assert!(decoded_size(&tall) > MAX_DECODED_BYTES, "the test's batch is over the bound");
    let before = relay.batches().len();
    sender.send(tall).unwrap();
    assert_eq!(sender.stats().spooled, 0, "every part acked");
    let times: Vec<Millis> = relay.points().iter().skip(5000).map(|p| p.timestamp).collect();
    assert_eq!(times.len(), 8000, "every point");
    assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "in order");
    assert!(relay.batches().len() - before >= 2, "one batch would be over MAX_DECODED_BYTES");
}

#[test]
fn the_sender_drops_invalid_points_before_sending_and_counts_them() {
    let relay = FakeRelay::start(Mode::Ack);
    let dir = testkit::scratch_dir();
    let mut sender = sender(dir.path(), config(vec![relay.addr]));
    let now = now_ms();
    let good = node_points("web-01", now, 3);
    let mut points = good.clone();
    points.insert(1, Sample::gauge("cpu.busy", f64::NAN).at("web-01", now));
    points.push(Sample::gauge("cpu.busy", 1.0).at("web-01", 0));
    sender.send(points).unwrap();
    assert_eq!(exact(&relay.points()), exact(&good), "only the valid points reach the relay");
    assert_eq!(sender.stats().points_invalid, 2);
}

#[test]
fn a_connection_the_relay_closed_is_replaced_at_once() {
    let relay = FakeRelay::start(Mode::AckThenClose);
    let dir = testkit::scratch_dir();
    let mut sender = sender(dir.path(), config(vec![relay.addr]));
    let rounds = readings(3, 10);
    for (i, round) in rounds.iter().enumerate() {
        sender.send(round.clone()).unwrap();
        assert_eq!(sender.stats().spooled, 0, "round {i} is delivered in its own call, on a new connection");
    }
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "every point, once, in order");
    relay.seqs_in_order();
    assert_eq!(relay.connections(), 3, "one connection a batch, as the relay closes each");
}

#[test]
fn the_sender_fails_over_when_a_relay_refuses_connections() {
    let down = ReservedPort::new();
    let relay = FakeRelay::start(Mode::Ack);
    let dir = testkit::scratch_dir();
    let mut sender = sender(dir.path(), config(vec![down.addr, relay.addr]));
    let rounds = readings(3, 20);
    for round in &rounds {
        sender.send(round.clone()).unwrap();
    }
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "everything reaches the second relay");
    let stats = sender.stats();
    assert!(stats.failovers >= 1, "the move to the second relay is counted: {stats:?}");
    assert_eq!((stats.spooled, stats.relay), (0, Some(relay.addr)));
}

#[test]
fn the_sender_fails_over_when_a_relay_does_not_answer() {
    let silent = FakeRelay::start(Mode::Silent);
    let relay = FakeRelay::start(Mode::Ack);
    let dir = testkit::scratch_dir();
    let mut config = config(vec![silent.addr, relay.addr]);
    config.ack_timeout = Duration::from_millis(300);
    let mut sender = sender(dir.path(), config);
    let rounds = readings(3, 20);
    for round in &rounds {
        sender.send(round.clone()).unwrap();
    }
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "the batch unacked by the first is resent");
    relay.seqs_in_order();
    testkit::eventually("the silent relay to count its connection", || silent.connections() >= 1);
    assert_eq!(silent.connections(), 1, "once failed over, the sender stays with the relay that answers");
    assert!(sender.stats().failovers >= 1);
}

#[test]
fn the_sender_spools_through_an_outage_and_then_delivers_everything_in_order() {
    let port = ReservedPort::new();
    let dir = testkit::scratch_dir();
    let mut sender = sender(dir.path(), config(vec![port.addr]));
    let rounds = readings(10, 20);
    for round in &rounds {
        sender.send(round.clone()).unwrap();
    }
    let stats = sender.stats();
    assert_eq!((stats.spooled, stats.batches_acked), (10, 0), "no relay: every batch spooled {stats:?}");

    let relay = FakeRelay::on(port.listen(), Mode::Ack);
    sender.send(Vec::new()).unwrap();
    assert_eq!(relay.seqs_in_order().len(), 10, "each spooled batch, once");
    assert_eq!(by_series(&relay.points()), by_series(&rounds.concat()), "every series whole and in order");
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "in the order sent");
    assert_eq!(sender.stats().spooled, 0, "acked batches leave the spool");
}

#[test]
fn spooled_batches_survive_an_agent_restart() {
    let port = ReservedPort::new();
    let dir = testkit::scratch_dir();
    let rounds = readings(4, 20);
    let mut first = sender(dir.path(), config(vec![port.addr]));
    for round in &rounds[..3] {
        first.send(round.clone()).unwrap();
    }
    assert_eq!(first.stats().spooled, 3);
    drop(first);

    let relay = FakeRelay::on(port.listen(), Mode::Ack);
    let mut second = sender(dir.path(), config(vec![relay.addr]));
    second.send(rounds[3].clone()).unwrap();
    assert_eq!(
        exact(&relay.points()),
        exact(&rounds.concat()),
        "the last run's batches first, then the new one"
    );
    assert_eq!(relay.seqs_in_order().len(), 4, "seqs keep increasing across the restart");
    assert_eq!(second.stats().spooled, 0);
}

#[test]
fn an_ack_of_a_batch_never_sent_delivers_nothing() {
    let liar = FakeRelay::start(Mode::WrongAck);
    let dir = testkit::scratch_dir();
    let rounds = readings(2, 5);
    let mut sender = sender(dir.path(), config(vec![liar.addr]));
    sender.send(rounds[0].clone()).unwrap();
    let stats = sender.stats();
    assert_eq!((stats.points_acked, stats.spooled), (0, 1), "the batch waits in the spool: {stats:?}");
    liar.set_mode(Mode::Ack);
    sender.send(rounds[1].clone()).unwrap();
    assert_eq!(exact(&liar.points()), exact(&rounds.concat()), "everything, once the acks are right");
}

#[test]
fn a_relay_that_refuses_is_not_asked_again_and_again() {
    let refuser = FakeRelay::start(Mode::Refuse);
    let dir = testkit::scratch_dir();
    let rounds = readings(4, 5);
    let mut sender = sender(dir.path(), config(vec![refuser.addr]));
    for round in &rounds[..3] {
        sender.send(round.clone()).unwrap();
    }
    assert_eq!(refuser.connections(), 1, "refused once, the relay is left alone");
    let stats = sender.stats();
    assert_eq!(
        (stats.refusals, stats.spooled, stats.failovers),
        (1, 3, 0),
        "the refusal is counted, nothing is lost, and one relay is no failover: {stats:?}"
    );
    drop(sender);

    let relay = FakeRelay::start(Mode::Ack);
    let mut sender =
        Sender::new(config(vec![refuser.addr, relay.addr]), Spool::open(dir.path(), 16 << 20).unwrap());
    sender.send(rounds[3].clone()).unwrap();
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "the next relay gets everything");
    assert_eq!(sender.stats().refusals, 1);

    // The good relay fails: the sender moves on, past the refuser it leaves alone, and back.
    relay.set_mode(Mode::HangUp);
    let later = readings(2, 5);
    sender.send(later[0].clone()).unwrap();
    relay.set_mode(Mode::Ack);
    sender.send(later[1].clone()).unwrap();
    assert_eq!(refuser.connections(), 2, "the refuser is not asked again within refused_wait");
    assert_eq!(sender.stats().spooled, 0, "the good relay gets the rest: {:?}", sender.stats());
}

#[test]
fn a_full_spool_drops_its_oldest_batches_and_the_sender_counts_them() {
    let port = ReservedPort::new();
    let dir = testkit::scratch_dir();
    let mut sender = Sender::new(config(vec![port.addr]), Spool::open(dir.path(), 16 << 10).unwrap());
    for round in readings(40, 50) {
        sender.send(round).unwrap();
    }
    let stats = sender.stats();
    assert!(stats.dropped > 0, "40 rounds of 50 points do not fit in 16 KiB: {stats:?}");
    assert_eq!(stats.dropped + stats.spooled as u64, 40, "every batch is spooled or counted dropped");
}

#[test]
fn the_agent_loop_retries_until_the_relay_answers_again() {
    let relay = FakeRelay::start(Mode::HangUp);
    let dir = testkit::scratch_dir();
    let sender = sender(dir.path(), config(vec![relay.addr]));
    let (points, received) = mpsc::sync_channel(16);
    let rounds = readings(5, 20);
    for round in &rounds {
        points.send(round.clone()).unwrap();
    }
    let shutdown = Shutdown::new();
    let running = {
        let shutdown = shutdown.clone();
        thread::spawn(move || sender.run(received, shutdown))
    };
    testkit::eventually("a first try, which the relay hangs up on", || {
        relay.log.lock().unwrap().hang_ups >= 1
    });

    // No new points from here on: the loop must try again by itself.
    relay.set_mode(Mode::Ack);
    testkit::eventually("every point reaches the relay", || relay.points().len() >= 100);
    shutdown.stop();
    let stats = running.join().unwrap();
    relay.seqs_in_order();
    assert_eq!(exact(&relay.points()), exact(&rounds.concat()), "every point once, in order");
    assert_eq!((stats.points_acked, stats.spooled), (100, 0), "{stats:?}");
    drop(points);
}

#[test]
fn the_agent_loop_waits_longer_after_each_failure() {
    let relay = FakeRelay::start(Mode::HangUp);
    let dir = testkit::scratch_dir();
    let mut config = config(vec![relay.addr]);
    config.backoff_min = Duration::from_millis(20);
    config.backoff_max = Duration::from_secs(1);
    let sender = sender(dir.path(), config);
    let (points, received) = mpsc::sync_channel(16);
    points.send(readings(1, 5).remove(0)).unwrap();
    let shutdown = Shutdown::new();
    let running = {
        let shutdown = shutdown.clone();
        thread::spawn(move || sender.run(received, shutdown))
    };
    testkit::eventually("six tries, each hung up on", || relay.log.lock().unwrap().hang_ups >= 6);
    shutdown.stop();
    running.join().unwrap();
    let times = relay.log.lock().unwrap().hung_up_at.clone();
    // Waits that double from 20 ms, each at least half random: at least 10 + 20 + 40 + 80 + 160 ms
    // between the first try and the sixth. Without the doubling they would take 50 ms.
    let span = times[5] - times[0];
    assert!(span >= Duration::from_millis(300), "six tries in {span:?}: the waits do not grow");
    drop(points);
}

#[test]
fn the_agent_loop_stops_at_once_and_keeps_unsent_points_on_disk() {
    let port = ReservedPort::new();
    let dir = testkit::scratch_dir();
    let mut config = config(vec![port.addr]);
    config.backoff_min = Duration::from_secs(30);
    config.backoff_max = Duration::from_secs(30);
    let sender = sender(dir.path(), config);
    let (points, received) = mpsc::sync_channel(16);
    let shutdown = Shutdown::new();
    let (done, finished) = mpsc::channel();
    {
        let shutdown = shutdown.clone();
        thread::spawn(move || done.send(sender.run(received, shutdown)));
    }
    let rounds = readings(3, 20);
    points.send(rounds[0].clone()).unwrap();
    testkit::eventually("the first points are spooled", || disk_bytes(dir.path()) > 0);
    // The loop now waits out its 30 s backoff; these wait in the channel.
    points.send(rounds[1].clone()).unwrap();
    points.send(rounds[2].clone()).unwrap();

    let stopped = Instant::now();
    shutdown.stop();
    let stats = finished.recv_timeout(Duration::from_secs(10)).expect("run returns soon after the stop");
    assert!(stopped.elapsed() < Duration::from_secs(5), "the backoff waits on the shutdown, not a sleep");
    assert_eq!(stats.points_acked, 0);
    drop(points);

    let mut spool = Spool::open(dir.path(), 16 << 20).unwrap();
    let mut kept = Vec::new();
    for record in drain(&mut spool) {
        match decode(&record) {
            Ok(Message::Batch { points, .. }) => kept.extend(points),
            other => panic!("a spooled record is a batch: {other:?}"),
        }
    }
    assert_eq!(
        exact(&kept),
        exact(&rounds.concat()),
        "every point is in the spool for the next run, in order"
    );
}
