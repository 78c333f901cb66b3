//! Stage 1: the protocol. Frames round-trip through `encode` and the decoder, the header is laid
//! out byte by byte as the chapter's table says, the decoder survives any bytes and any split of
//! the stream into reads, refuses an oversized frame from its length alone, and skips a frame of
//! an unknown version or kind (reporting its id) without losing the frames after it.

mod common;

use std::time::Duration;

use proptest::prelude::*;
use rpc::{Frame, FrameDecoder, FrameError, Kind, from_payload, to_payload};
use serde::{Deserialize, Serialize};
use testkit::test;

const KINDS: [Kind; 8] = [
    Kind::Request,
    Kind::Response,
    Kind::Error,
    Kind::Cancel,
    Kind::Subscribe,
    Kind::Item,
    Kind::End,
    Kind::Credit,
];

fn frame_strategy() -> impl Strategy<Value = Frame> {
    (
        0..KINDS.len(),
        any::<u64>(),
        "[a-z_.]{0,40}",
        prop::option::of(1..=u32::MAX),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(kind, id, method, deadline, payload)| Frame {
            kind: KINDS[kind],
            id,
            method,
            deadline: deadline.map(|ms| Duration::from_millis(u64::from(ms))),
            payload,
        })
}

/// Every frame in `bytes`, fed in pieces cut at `cuts`.
fn decode_all(bytes: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new(1 << 20);
    let mut frames = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    for piece in points.windows(2) {
        decoder.extend(&bytes[piece[0]..piece[1]]);
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
    }
    assert_eq!(decoder.buffered(), 0, "every byte belongs to a frame");
    frames
}

#[test]
fn the_header_is_laid_out_byte_by_byte() {
    let frame = Frame {
        kind: Kind::Request,
        id: 0x0102_0304_0506_0708,
        method: "echo".into(),
        deadline: Some(Duration::from_millis(1500)),
        payload: vec![0xAA, 0xBB],
    };
    let bytes = frame.to_bytes().unwrap();
    #[rustfmt::skip]
    let expected = [
        0, 0, 0, 21,                    // length of what follows: 15 + 4 + 2
        1,                              // version
        1,                              // kind: request
        1, 2, 3, 4, 5, 6, 7, 8,         // request id, big-endian
        0, 0, 0x05, 0xDC,               // deadline: 1500 ms
        4,                              // method length
        b'e', b'c', b'h', b'o',         // method
        0xAA, 0xBB,                     // payload
    ];
    assert_eq!(bytes, expected, "the bytes of {frame:?}, field by field");
    assert_eq!(frame.encoded_len(), expected.len(), "encoded_len() of {frame:?}");
    let none = Frame::new(Kind::Cancel, 9, Vec::new()).to_bytes().unwrap();
    assert_eq!(
        none,
        [0, 0, 0, 15, 1, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0],
        "no deadline is 0, no method is length 0"
    );
}

#[test]
fn kinds_have_their_wire_values() {
    for (value, kind) in (1..=8).zip(KINDS) {
        assert_eq!(kind as u8, value, "the wire value of {kind:?}");
        assert_eq!(Kind::from_u8(value), Some(kind), "Kind::from_u8({value})");
    }
    assert_eq!(Kind::from_u8(0), None, "Kind::from_u8(0)");
    assert_eq!(Kind::from_u8(9), None, "Kind::from_u8(9)");
}

#[test]
fn a_frame_needs_all_its_bytes() {
    let bytes = Frame::request(7, "ping", vec![1, 2, 3]).to_bytes().unwrap();
    let mut decoder = FrameDecoder::new(1024);
    for byte in &bytes[..bytes.len() - 1] {
        decoder.extend(std::slice::from_ref(byte));
        assert_eq!(decoder.next_frame(), Ok(None), "incomplete until the last byte");
    }
    decoder.extend(&bytes[bytes.len() - 1..]);
    assert_eq!(
        decoder.next_frame().unwrap().unwrap(),
        Frame::request(7, "ping", vec![1, 2, 3]),
        "the frame decoded once its last byte came"
    );
    assert_eq!(decoder.next_frame(), Ok(None), "the next frame, with no bytes left");
}

#[test]
fn an_oversized_frame_is_refused_from_its_length_alone() {
    let mut decoder = FrameDecoder::new(1024);
    decoder.extend(&[0x7F, 0xFF, 0xFF, 0xFF]);
    let err = decoder.next_frame().expect_err("2 GB is over the maximum");
    assert!(matches!(err, FrameError::TooLarge { len: 0x7FFF_FFFF, max: 1024 }), "{err:?}");
    assert!(err.is_fatal(), "an oversized length is fatal: {err:?}");
    let mut exactly = FrameDecoder::new(1024);
    let payload = vec![0; 1024 - 15];
    let fits = Frame::new(Kind::Item, 1, payload).to_bytes().unwrap();
    exactly.extend(&fits);
    assert!(exactly.next_frame().unwrap().is_some(), "a frame of exactly the maximum is accepted");
}

#[test]
fn a_length_shorter_than_the_header_is_malformed() {
    let mut decoder = FrameDecoder::new(1024);
    decoder.extend(&[0, 0, 0, 3, 1, 1, 0]);
    let err = decoder.next_frame().expect_err("3 bytes cannot hold a header");
    assert!(err.is_fatal(), "a length of 3, shorter than a header, is fatal: {err:?}");
    let mut runs_past = FrameDecoder::new(1024);
    runs_past.extend(&[0, 0, 0, 15, 1, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 200]);
    let err = runs_past.next_frame().expect_err("a method of 200 bytes in a 15-byte frame");
    assert!(err.is_fatal(), "a method running past its frame is fatal: {err:?}");
}

#[test]
fn a_fatal_error_is_returned_again_on_every_later_call() {
    let mut decoder = FrameDecoder::new(1024);
    // A method of 200 bytes in a 15-byte frame, then a good frame the decoder must not reach.
    decoder.extend(&[0, 0, 0, 15, 1, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 200]);
    decoder.extend(&Frame::request(2, "ping", vec![]).to_bytes().unwrap());
    let first = decoder.next_frame().expect_err("a method running past its frame");
    assert!(first.is_fatal(), "a method running past its frame is fatal: {first:?}");
    for call in 0..3 {
        assert_eq!(decoder.next_frame(), Err(first.clone()), "call {call} after the fatal error");
    }
}

#[test]
fn buffered_counts_the_bytes_not_yet_returned() {
    let bytes = Frame::request(7, "ping", vec![1, 2, 3]).to_bytes().unwrap();
    let mut decoder = FrameDecoder::new(1024);
    assert_eq!(decoder.buffered(), 0, "bytes buffered by a new decoder");
    decoder.extend(&bytes);
    decoder.extend(&bytes[..5]);
    assert_eq!(decoder.buffered(), bytes.len() + 5, "bytes buffered after a frame and 5 bytes");
    assert!(decoder.next_frame().unwrap().is_some(), "the whole frame");
    assert_eq!(decoder.buffered(), 5, "bytes buffered once the frame was taken");
    assert_eq!(decoder.next_frame(), Ok(None), "the 5 bytes are not a frame yet");
    decoder.extend(&bytes[5..]);
    assert!(decoder.next_frame().unwrap().is_some(), "the second frame, completed");
    assert_eq!(decoder.buffered(), 0, "bytes buffered once both frames were taken");
}

#[test]
fn unknown_versions_and_kinds_are_skipped_with_their_id() {
    let good = Frame::request(3, "echo", b"ok".to_vec()).to_bytes().unwrap();
    let mut bad_version = Frame::request(41, "echo", vec![]).to_bytes().unwrap();
    bad_version[4] = 9;
    let mut bad_kind = Frame::request(42, "echo", vec![]).to_bytes().unwrap();
    bad_kind[5] = 200;
    let mut bad_method = Frame::request(43, "ab", vec![]).to_bytes().unwrap();
    bad_method[19] = 0xFF;
    let mut stream = Vec::new();
    for part in [&bad_version, &good, &bad_kind, &bad_method, &good] {
        stream.extend_from_slice(part);
    }
    let mut decoder = FrameDecoder::new(1024);
    decoder.extend(&stream);
    let err = decoder.next_frame().unwrap_err();
    assert!(
        matches!(err, FrameError::UnknownVersion { version: 9, id: 41 }),
        "the error of frame 41, version 9: {err:?}"
    );
    assert!(
        !err.is_fatal() && err.id() == Some(41),
        "an unknown version is not fatal and names id 41: {err:?}"
    );
    assert_eq!(decoder.next_frame().unwrap().unwrap().id, 3, "the next frame is intact");
    let err = decoder.next_frame().unwrap_err();
    assert!(
        matches!(err, FrameError::UnknownKind { kind: 200, id: 42 }),
        "the error of frame 42, kind 200: {err:?}"
    );
    let err = decoder.next_frame().unwrap_err();
    assert_eq!(err.id(), Some(43), "a method that is not UTF-8: {err:?}");
    assert!(!err.is_fatal(), "a method that is not UTF-8 is not fatal: {err:?}");
    let last = decoder.next_frame().unwrap().unwrap();
    assert_eq!(last.payload, b"ok", "the payload of the last frame, \"{}\"", last.payload.escape_ascii());
    assert_eq!(decoder.next_frame(), Ok(None), "the next frame, with no bytes left");
}

#[test]
fn a_method_name_over_255_bytes_cannot_be_encoded() {
    let frame = Frame::request(1, &"m".repeat(256), vec![]);
    let encoded = frame.to_bytes();
    assert!(
        matches!(encoded, Err(FrameError::MethodTooLong { len: 256 })),
        "a method of 256 bytes encoded as {encoded:?}"
    );
    let encoded = Frame::request(1, &"m".repeat(255), vec![]).to_bytes();
    assert!(encoded.is_ok(), "a method of 255 bytes encoded as {encoded:?}");
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sample {
    name: String,
    values: Vec<u32>,
    limit: Option<u64>,
    pair: (i16, bool),
}

#[test]
fn the_payload_codec_is_compact() {
    let small = to_payload(&(1u32, "ab")).unwrap();
    assert_eq!(small, [1, 2, b'a', b'b'], "postcard: varints and length-prefixed strings");
}

proptest! {
    #![proptest_config(testkit::proptest_config(128))]

    #[test]
    fn frames_round_trip(frame in frame_strategy()) {
        let bytes = frame.to_bytes().unwrap();
        prop_assert_eq!(bytes.len(), frame.encoded_len(), "encoded_len() of {:?}", frame);
        let mut decoder = FrameDecoder::new(1 << 20);
        decoder.extend(&bytes);
        prop_assert_eq!(decoder.next_frame().unwrap(), Some(frame.clone()), "{:?} encoded and decoded", frame);
        prop_assert_eq!(decoder.next_frame().unwrap(), None, "the next frame after {:?}", frame);
    }

    #[test]
    fn any_split_of_the_stream_decodes_the_same_frames(
        frames in prop::collection::vec(frame_strategy(), 1..8),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut bytes = Vec::new();
        for frame in &frames {
            rpc::encode(frame, &mut bytes).unwrap();
        }
        prop_assert_eq!(decode_all(&bytes, &cuts), frames.clone(), "the frames decoded from pieces cut at {:?}", cuts);
        prop_assert_eq!(decode_all(&bytes, &[]), frames, "the frames decoded from one piece");
    }

    #[test]
    fn no_byte_sequence_panics_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..600), max in 0usize..300) {
        let mut decoder = FrameDecoder::new(max);
        decoder.extend(&bytes);
        for _ in 0..bytes.len() + 1 {
            match decoder.next_frame() {
                Ok(Some(frame)) => prop_assert!(
                    frame.encoded_len() <= bytes.len(),
                    "{:?} decoded from only {} bytes", frame, bytes.len()
                ),
                Ok(None) => break,
                Err(err) if err.is_fatal() => break,
                Err(_) => {}
            }
        }
    }

    #[test]
    fn corrupted_frames_never_panic_the_decoder(
        frames in prop::collection::vec(frame_strategy(), 1..4),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = Vec::new();
        for frame in &frames {
            rpc::encode(frame, &mut bytes).unwrap();
        }
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        let mut decoder = FrameDecoder::new(1 << 16);
        decoder.extend(&bytes);
        for _ in 0..bytes.len() + 1 {
            match decoder.next_frame() {
                Ok(None) => break,
                Err(err) if err.is_fatal() => break,
                _ => {}
            }
        }
    }

    #[test]
    fn payloads_round_trip(name in ".{0,20}", values in prop::collection::vec(any::<u32>(), 0..20), limit: Option<u64>, pair: (i16, bool)) {
        let sample = Sample { name, values, limit, pair };
        let bytes = to_payload(&sample).unwrap();
        prop_assert_eq!(from_payload::<Sample>(&bytes).unwrap(), sample.clone(), "{:?} through the payload codec", sample);
    }

    #[test]
    fn no_payload_bytes_panic_the_payload_decoder(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        let _ = from_payload::<Sample>(&bytes);
    }
}
