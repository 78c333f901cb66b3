//! Stage 1: read `Content-Range` headers exactly, and probe a file: size, range support,
//! validators, with a `HEAD` first and a one-byte `GET` when `HEAD` says too little.

mod common;

use std::sync::atomic::AtomicBool;

use common::{body, config, file_route, serve, serve_bytes};
use downloader::{ContentRange, probe};
use proptest::prelude::*;
use testkit::test;
use testkit::web::{Fault, Route};

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
    let one = parse("bytes 7-7/8").expect("bytes 7-7/8 parses");
    assert!(!one.is_empty(), "a range of one byte is not empty: {one:?}");
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
    assert_eq!(
        server.requests().len(),
        1,
        "a 404 to HEAD is final: no GET follows it: {:?}",
        server.requests()
    );
}

#[test]
fn probe_asks_for_the_first_byte_when_head_fails_for_now() {
    // 405: HEAD is not allowed; 503: HEAD failed, but the GET may not. Neither is final.
    for status in [405, 503] {
        let bytes = body(20_000, 4);
        let server = serve_bytes(&bytes, &[Fault::FailTimes(1, status)]);
        let dir = testkit::scratch_dir();
        let remote = probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false))
            .unwrap_or_else(|err| panic!("HEAD answered {status}, the GET works: {err}"));
        assert_eq!(
            remote.size,
            Some(20_000),
            "the size from the GET's Content-Range after a {status} to HEAD"
        );
        assert!(remote.ranges, "the GET after a {status} to HEAD was answered 206");
        let asked: Vec<_> = server.requests().iter().map(|r| (r.method.clone(), r.status)).collect();
        assert_eq!(
            asked,
            [("HEAD".to_owned(), status), ("GET".to_owned(), 206)],
            "after a {status} to HEAD, the GET of the first byte, at once"
        );
    }
}

#[test]
fn probe_reports_the_status_of_the_first_byte_s_get() {
    // HEAD is refused (405); the GET then says 404, which is as final as it is for HEAD.
    let server = serve(Route::status(404).with(Fault::FailTimes(1, 405)));
    let dir = testkit::scratch_dir();
    let err = probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false))
        .expect_err("the GET of the first byte was answered 404");
    assert!(err.to_string().contains("404"), "the error names the GET's status: {err}");
    assert_eq!(
        server.requests().len(),
        2,
        "a HEAD and a GET, and no retry of a 404: {:?}",
        server.requests()
    );

    // A 416 without `bytes */0`: the server refuses byte 0 of a file it does not say is empty.
    let server = serve(Route::status(416));
    let err = probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false))
        .expect_err("a 416 that does not say the file is empty is no size");
    assert!(err.to_string().contains("416"), "the error names the status: {err}");
}

#[test]
fn probe_reads_an_empty_file_from_a_416_to_the_first_byte() {
    // No length from HEAD (a close-delimited answer), and no byte 0 to send: `416`, `bytes */0`.
    let server = serve_bytes(b"", &[Fault::NoContentLength]);
    let dir = testkit::scratch_dir();
    let remote = probe(&config(&server, dir.path(), 4, 16_384), &AtomicBool::new(false))
        .expect("an empty file is a file");
    assert_eq!(remote.size, Some(0), "the size of an empty file, from Content-Range: bytes */0");
    let gets = common::gets(&server.requests());
    assert_eq!(gets.len(), 1, "one GET after the HEAD: {gets:?}");
    assert_eq!(gets[0].status, 416, "the status of the GET of byte 0 of an empty file");
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
