//! Stage 1: read `Content-Range` headers exactly, and probe a file: size, range support,
//! validators, with a `HEAD` first and a one-byte `GET` when `HEAD` says too little.

mod common;

use std::sync::atomic::AtomicBool;

use common::{body, config, file_route, serve, serve_bytes};
use downloader::{ContentRange, probe};
use proptest::prelude::*;
use testkit::test;
use testkit::web::Fault;

#[test]
fn parses_content_range_examples() {
    let parse = ContentRange::parse;
    assert_eq!(
        parse("bytes 0-499/1234"),
        Some(ContentRange { first: 0, last: 499, complete: Some(1234) }),
        "\"bytes 0-499/1234\" parsed"
    );
    assert_eq!(
        parse("bytes 500-999/*"),
        Some(ContentRange { first: 500, last: 999, complete: None }),
        "\"bytes 500-999/*\" parsed: an unknown length"
    );
    assert_eq!(
        parse("BYTES 7-7/8"),
        Some(ContentRange { first: 7, last: 7, complete: Some(8) }),
        "the unit is case-insensitive"
    );
    assert_eq!(
        parse(" bytes 0-0/1 "),
        Some(ContentRange { first: 0, last: 0, complete: Some(1) }),
        "surrounding spaces"
    );
    assert_eq!(
        ContentRange { first: 10, last: 19, complete: None }.len(),
        10,
        "len() of bytes 10-19, inclusive"
    );
}

#[test]
fn rejects_content_ranges_it_cannot_trust() {
    for bad in [
        "",
        "bytes",
        "bytes */1234",
        "bytes 0-499",
        "bytes 500-499/1234",
        "bytes 0-1234/1234",
        "bytes -1-5/10",
        "bytes +1-5/10",
        "bytes 1--5/10",
        "bytes 0-5/-10",
        "items 0-5/10",
        "bytes 0-5/10x",
        "bytes 0x1-5/10",
        "bytes 0-18446744073709551616/*",
    ] {
        assert_eq!(ContentRange::parse(bad), None, "{bad:?} must be refused");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn parses_every_valid_content_range(first in any::<u64>(), len in any::<u64>(), extra in any::<u64>(), known in any::<bool>()) {
        let last = first.saturating_add(len);
        let complete = last.checked_add(1).and_then(|min| min.checked_add(extra % 1_000_000)).filter(|_| known);
        let text = match complete {
            Some(complete) => format!("bytes {first}-{last}/{complete}"),
            None => format!("bytes {first}-{last}/*"),
        };
        prop_assert_eq!(ContentRange::parse(&text), Some(ContentRange { first, last, complete }), "{:?} parsed", text);
    }

    #[test]
    fn refuses_ranges_past_their_end_or_reversed(a in any::<u64>(), b in any::<u64>(), complete in any::<u64>()) {
        let (first, last) = (a.max(b), a.min(b));
        if first != last {
            let text = format!("bytes {first}-{last}/*");
            prop_assert_eq!(ContentRange::parse(&text), None, "{} is reversed", text);
        }
        let text = format!("bytes {last}-{first}/{complete}");
        prop_assert_eq!(
            ContentRange::parse(&text).is_some(),
            first < complete,
            "{:?} is accepted if and only if its last byte is inside the length",
            text
        );
    }

    #[test]
    fn content_range_parsing_never_panics(text in ".{0,40}", bytes in "bytes [0-9*/ -]{0,30}") {
        let _ = ContentRange::parse(&text);
        let _ = ContentRange::parse(&bytes);
    }
}

#[test]
fn probe_reads_size_range_support_and_validators_from_head() {
    let bytes = body(100_000, 1);
    let server = serve(file_route(&bytes).header("ETag", "\"version-1\""));
    let dir = testkit::scratch_dir();
    let remote =
        probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false)).expect("the file exists");
    assert_eq!(remote.size, Some(100_000), "the size probed from HEAD of a 100000-byte file");
    assert!(remote.ranges, "the server sends Accept-Ranges: bytes");
    assert_eq!(remote.validator.etag.as_deref(), Some("\"version-1\""), "the ETag probed from HEAD");
    assert!(remote.validator.last_modified.is_some(), "the server sends Last-Modified");
    let requests = server.requests();
    assert_eq!(requests[0].method, "HEAD", "the probe starts with HEAD: {requests:?}");
    assert!(
        requests.iter().all(|r| r.method == "HEAD"),
        "HEAD told everything: no GET is needed: {requests:?}"
    );
}

#[test]
fn probe_falls_back_to_a_one_byte_range_when_head_gives_no_length() {
    let bytes = body(54_321, 2);
    let server = serve_bytes(&bytes, &[Fault::NoContentLength]);
    let dir = testkit::scratch_dir();
    let remote =
        probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false)).expect("the file exists");
    assert_eq!(remote.size, Some(54_321), "the size comes from Content-Range: bytes 0-0/54321");
    assert!(remote.ranges, "the server answered the range with 206");
    let gets = common::gets(&server.requests());
    assert_eq!(gets.len(), 1, "one GET after the HEAD: {gets:?}");
    assert_eq!(gets[0].range(), Some((0, Some(0))), "the GET asks for the first byte only");
}

#[test]
fn probe_reports_a_missing_file_with_its_status() {
    let server = serve(file_route(b"x"));
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.url = downloader::Url::parse(&server.url("/missing.bin")).expect("a valid URL");
    let err = probe(&config, &AtomicBool::new(false)).expect_err("a 404 is an error");
    assert!(err.to_string().contains("404"), "the error names the status: {err}");
    assert!(server.requests().len() <= 2, "a 404 is not retried: {:?}", server.requests());
}

#[test]
fn probe_retries_a_server_that_fails_for_a_while() {
    let bytes = body(10_000, 3);
    let server = serve_bytes(&bytes, &[Fault::FailTimes(2, 503)]);
    let dir = testkit::scratch_dir();
    let remote =
        probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false)).expect("the third try works");
    assert_eq!(remote.size, Some(10_000), "the size probed after two 503s");
    assert_eq!(
        server.requests().iter().filter(|r| r.status == 503).count(),
        2,
        "503 answers before the probe succeeded: {:?}",
        server.requests()
    );
}

#[test]
fn probe_gives_up_on_a_server_that_keeps_failing() {
    let server = serve_bytes(b"abc", &[Fault::FailTimes(1_000, 503)]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.retries = 2;
    let err = probe(&config, &AtomicBool::new(false)).expect_err("every answer is 503");
    assert!(err.to_string().contains("503"), "the error names the status: {err}");
    let tries = server.requests().len();
    assert!(
        (3..=6).contains(&tries),
        "2 retries make 3 attempts (a HEAD and at most a GET each), not {tries}"
    );
}
