//! Stage 2: parse sizes, plan chunks, and fetch them over N connections into one file: the same
//! bytes whatever the number of connections and the chunk size, each byte asked for once.

mod common;

use common::{FILE, assert_file, body, config, download, ranges, serve_bytes};
use downloader::{Chunk, parse_size, plan};
use proptest::prelude::*;
use testkit::test;
use testkit::web::{Fault, Route, Site, WebServer};

#[test]
fn parses_size_examples() {
    for (text, size) in [
        ("4096", 4096),
        ("512K", 512 << 10),
        ("4M", 4 << 20),
        ("4m", 4 << 20),
        ("4MiB", 4 << 20),
        ("1G", 1 << 30),
        ("2T", 2 << 40),
    ] {
        assert_eq!(parse_size(text), Ok(size), "parse_size({text:?})");
    }
    for bad in [
        "",
        "M",
        "0",
        "0K",
        "-1",
        "1.5M",
        "4X",
        "4 M",
        "99999999999999999999",
        "17179869184G",
        "4Mi",
        "4iB",
        "4ib",
    ] {
        assert!(parse_size(bad).is_err(), "{bad:?} must be refused");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn parses_every_suffix(n in 1u64..1_000_000, suffix in 0usize..4) {
        let (letter, unit) = [("K", 1u64 << 10), ("M", 1 << 20), ("G", 1 << 30), ("", 1)][suffix];
        prop_assert_eq!(parse_size(&format!("{n}{letter}")), Ok(n * unit), "parse_size(\"{}{}\")", n, letter);
        let lower = letter.to_lowercase();
        prop_assert_eq!(parse_size(&format!("{n}{lower}")), Ok(n * unit), "parse_size(\"{}{}\")", n, lower);
    }

    #[test]
    fn size_parsing_never_panics(text in "[0-9]{0,22}[kmgtKMGTiIbB ]{0,4}", any_text in ".{0,12}") {
        let _ = parse_size(&text);
        let _ = parse_size(&any_text);
    }

    #[test]
    fn chunks_cover_the_file_exactly_in_order(size in 0u64..10_000_000, chunk_size in 1u64..2_000_000) {
        let chunks = plan(size, chunk_size);
        prop_assert_eq!(chunks.len() as u64, size.div_ceil(chunk_size), "never more chunks than needed");
        let mut next = 0;
        for (i, chunk) in chunks.iter().enumerate() {
            prop_assert_eq!(chunk.index, i, "the index of chunk {} of {:?}", i, chunk);
            prop_assert_eq!(chunk.start, next, "chunks are disjoint, ordered, without gaps");
            prop_assert!(chunk.end > chunk.start, "no empty chunk");
            prop_assert!(chunk.len() <= chunk_size, "{:?} is at most {} bytes", chunk, chunk_size);
            if i + 1 < chunks.len() {
                prop_assert_eq!(chunk.len(), chunk_size, "only the last chunk is short");
            }
            next = chunk.end;
        }
        prop_assert_eq!(next, size, "the chunks end where the file does");
    }

    #[test]
    fn huge_files_plan_without_overflow(chunk_size in 1u64 << 60..u64::MAX) {
        let chunks = plan(u64::MAX, chunk_size);
        prop_assert_eq!(chunks.last().map(|c| c.end), Some(u64::MAX), "the end of the last chunk of {} bytes", u64::MAX);
    }
}

#[test]
fn plans_small_examples() {
    assert_eq!(plan(0, 4), Vec::<Chunk>::new(), "plan(0, 4): no chunks for an empty file");
    let bounds: Vec<_> = plan(10, 4).iter().map(|c| (c.start, c.end)).collect();
    assert_eq!(bounds, [(0, 4), (4, 8), (8, 10)], "(start, end) of plan(10, 4)");
    let bounds: Vec<_> = plan(8, 4).iter().map(|c| (c.start, c.end)).collect();
    assert_eq!(bounds, [(0, 4), (4, 8)], "(start, end) of plan(8, 4)");
    assert!(plan(10, 4).iter().all(|c| !c.is_empty()), "no chunk of plan(10, 4) is empty");
    assert!(Chunk { index: 0, start: 5, end: 5 }.is_empty(), "a chunk from 5 to 5 holds no byte");
}

#[test]
fn same_bytes_with_any_number_of_connections_and_chunk_size() {
    // 196,608 is 12 chunks of 16 KiB; 200,003 leaves a short last chunk; 5,000 is one chunk; 1,000 makes 30 tiny ones.
    for (size, chunk_size) in [(196_608, 16_384), (200_003, 16_384), (5_000, 16_384), (30_000, 1_000)] {
        let bytes = body(size, size as u64);
        for connections in [1, 2, 4, 8] {
            let server = serve_bytes(&bytes, &[]);
            let dir = testkit::scratch_dir();
            let config = config(&server, dir.path(), connections, chunk_size);
            let outcome = download(&config)
                .unwrap_or_else(|err| panic!("{size} bytes, {connections} connections: {err}"));
            assert_eq!(
                outcome.size, size as u64,
                "the size downloaded, {size} bytes, {connections} connections"
            );
            assert_file(&config, &bytes);
        }
    }
}

#[test]
fn each_byte_is_asked_for_exactly_once() {
    // Small chunks, and chunks of 1 MiB, larger than any sensible read buffer: a chunk is one request
    // however many reads its body takes.
    for (size, chunk_size, connections) in [(300_001, 32_768, 4), (2_500_000, 1 << 20, 2)] {
        let bytes = body(size, 7);
        let server = serve_bytes(&bytes, &[]);
        let dir = testkit::scratch_dir();
        let mut config = config(&server, dir.path(), connections, chunk_size);
        // A retry on a loaded machine would ask for a chunk's rest again: wait out slow moments.
        config.stall_timeout = std::time::Duration::from_secs(5);
        let outcome = download(&config).expect("a clean download");
        assert_eq!(
            outcome.received, size as u64,
            "a clean run receives each byte once ({chunk_size}-byte chunks)"
        );
        let mut asked = ranges(&server.requests(), size as u64);
        asked.sort_unstable();
        let mut next = 0;
        for (first, last) in &asked {
            assert_eq!(*first, next, "the ranges asked for leave no gap and do not overlap: {asked:?}");
            next = last + 1;
        }
        assert_eq!(next, size as u64, "the ranges cover the whole file: {asked:?}");
    }
}

#[test]
fn uses_exactly_the_connections_asked_for_and_keeps_them_alive() {
    // Each answer is delayed, so that every worker is busy at once.
    let bytes = body(32 * 8_192, 11);
    for connections in [1, 3, 4] {
        let server = serve_bytes(&bytes, &[Fault::Delay(std::time::Duration::from_millis(15))]);
        let dir = testkit::scratch_dir();
        let config = config(&server, dir.path(), connections, 8_192);
        download(&config).unwrap_or_else(|err| panic!("{connections} connections: {err}"));
        assert_file(&config, &bytes);
        let gets = common::gets(&server.requests());
        assert_eq!(gets.len(), 32, "GETs for 32 chunks, -n {connections}: one per chunk");
        let mut used: Vec<u64> = gets.iter().map(|r| r.connection).collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used.len(), connections, "-n {connections}: the GETs came on {} connections", used.len());
        assert!(
            server.max_in_flight() <= connections,
            "never more than {connections} requests at once, saw {}",
            server.max_in_flight()
        );
    }
}

#[test]
fn a_server_that_closes_every_connection_gets_a_new_one_per_request() {
    // Close-delimited answers (`Connection: close`, no length): a connection carries one request.
    // With no retries allowed, sending the next request on a closed connection fails the download.
    let bytes = body(8 * 8_192, 12);
    let server = serve_bytes(&bytes, &[Fault::NoContentLength]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 8_192);
    config.retries = 0;
    config.stall_timeout = std::time::Duration::from_secs(5);
    let outcome = download(&config).expect("every answer is complete, on a connection of its own");
    assert_eq!(outcome.size, bytes.len() as u64, "the size downloaded over closing connections");
    assert_file(&config, &bytes);
    let gets = common::gets(&server.requests());
    assert!(gets.iter().all(|r| r.status == 206), "every GET was answered 206: {gets:?}");
    let mut used: Vec<u64> = gets.iter().map(|r| r.connection).collect();
    used.sort_unstable();
    used.dedup();
    assert_eq!(used.len(), gets.len(), "each of the {} GETs came on a new connection", gets.len());
}

#[test]
fn an_empty_file_is_downloaded_as_an_empty_file() {
    let server = serve_bytes(b"", &[]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    let outcome = download(&config).expect("an empty file is a file");
    assert_eq!(outcome.size, 0, "the size downloaded of an empty file");
    assert_file(&config, b"");
}

#[test]
fn a_missing_file_is_a_clear_error_and_creates_nothing() {
    let server =
        WebServer::start(Site::new().route("/elsewhere.bin", Route::ok("text/plain", b"x".to_vec())));
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    let err = download(&config).expect_err(&format!("nothing is served at {FILE}"));
    assert!(err.to_string().contains("404"), "the error names the status: {err}");
    assert_eq!(err.exit_code(), 1, "the exit code of a 404: {err}");
    assert!(!config.destination().exists(), "no file is created for a 404");
}

/// Downloads a file served without `Content-Length` and without ranges, with `fault` framing it.
fn stream_of_unknown_size(fault: Fault) {
    let bytes = body(150_000, 13);
    let server = serve_bytes(&bytes, &[fault.clone(), Fault::IgnoreRange]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    let outcome = download(&config).unwrap_or_else(|err| panic!("{fault:?}: {err}"));
    assert_eq!(
        outcome.size, 150_000,
        "the size downloaded of 150000 bytes of unknown size, framed by {fault:?}"
    );
    assert_file(&config, &bytes);
}

#[test]
fn streams_a_close_delimited_file_of_unknown_size() {
    // No Content-Length and no ranges: only a plain GET read until the server closes can fetch it.
    stream_of_unknown_size(Fault::NoContentLength);
}

#[test]
fn streams_a_chunked_file_of_unknown_size() {
    stream_of_unknown_size(Fault::Chunked);
}
