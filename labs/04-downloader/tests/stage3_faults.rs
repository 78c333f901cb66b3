//! Stage 3: faults. Resets, failing answers and stalls are retried from the last byte written; a
//! server that ignores ranges gets one stream; a lying or changing server is an error, never a
//! corrupt file.

mod common;

use std::time::Duration;

use common::{FILE, Running, assert_file, body, config, download, file_route, ranges, serve, serve_bytes};
use downloader::Error;
use downloader::retry::Backoff;
use testkit::test;
use testkit::web::{Fault, Route};

#[test]
fn resets_in_the_middle_of_chunks_are_resumed_where_they_stopped() {
    // Every answer is cut after 5,000 bytes: a chunk of 16 KiB can only be finished by asking for
    // its remainder, never by asking for the whole chunk again.
    let bytes = body(65_536, 21);
    let server = serve_bytes(&bytes, &[Fault::ResetAfter(5_000)]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.retries = 3;
    download(&config).expect("every reset is followed by a request for the rest");
    assert_file(&config, &bytes);
}

#[test]
fn connections_reset_before_answering_are_retried() {
    let bytes = body(100_000, 22);
    let server = serve_bytes(&bytes, &[Fault::ResetTimes(3)]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 2, 16_384);
    download(&config).expect("the fourth request is answered");
    assert_file(&config, &bytes);
}

#[test]
fn a_server_error_is_retried_with_backoff() {
    let bytes = body(100_000, 23);
    let server = serve_bytes(&bytes, &[Fault::FailTimes(3, 503)]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    download(&config).expect("the server recovers after three 503s");
    assert_file(&config, &bytes);
    assert_eq!(
        server.requests().iter().filter(|r| r.status == 503).count(),
        3,
        "503 answers of a server that fails three times: {:?}",
        server.requests()
    );
}

#[test]
fn a_server_that_keeps_failing_is_an_error_after_the_retries() {
    let bytes = body(50_000, 24);
    let server = serve_bytes(&bytes, &[Fault::FailTimes(1_000_000, 500)]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.retries = 2;
    let err = download(&config).expect_err("every answer is a 500");
    assert!(err.to_string().contains("500"), "the error names the status: {err}");
    assert!(!config.destination().exists(), "no destination for a failed download");
    assert!(server.requests().len() <= 12, "retries are bounded: {} requests", server.requests().len());
}

#[test]
fn failures_in_a_row_wait_a_doubling_backoff() {
    // Every GET is answered with a 206 head and reset before any byte of its body (the probe's
    // HEAD, having no body, goes through): no retry makes progress, so each waits twice as long as
    // the one before. The server notes a request when it has read its head, which on a loaded
    // machine can be late: a late note of the first GET shortens every span measured from it, so
    // each later GET must start at least the waits before it after the first, less a slack.
    let bytes = body(16_384, 30);
    let server = serve_bytes(&bytes, &[Fault::ResetAfter(0)]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 1, 16_384);
    config.retries = 3;
    config.backoff = Duration::from_millis(100);
    config.max_backoff = Duration::from_secs(1);
    let err = download(&config).expect_err("no GET ever delivers a byte of the body");
    assert!(!config.destination().exists(), "no destination for a failed download: {err}");
    let gets = common::gets(&server.requests());
    assert_eq!(gets.len(), 4, "GETs of a chunk that never progresses, with 3 retries: {gets:?}");
    let waits = [100u64, 200, 400].map(Duration::from_millis);
    let slack = Duration::from_millis(150);
    for j in 1..gets.len() {
        let apart = gets[j].started.saturating_duration_since(gets[0].started);
        let want = waits[..j].iter().sum::<Duration>();
        assert!(
            apart + slack >= want,
            "GET {j} started {apart:?} after the first; the backoff of 100 ms doubling wants {want:?} \
             (less {slack:?} of slack)"
        );
    }
}

#[test]
fn a_stalled_connection_is_dropped_and_its_remainder_fetched_again() {
    // Every answer sends 8 KiB and then nothing, keeping the connection open: only a read timeout
    // (300 ms in these tests) notices. Each 16 KiB chunk needs a second request for its second half.
    let bytes = body(65_536, 25);
    let server = serve_bytes(&bytes, &[Fault::Stall(8_192)]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    download(&config).expect("stalls are detected and retried");
    assert_file(&config, &bytes);
    let asked = ranges(&server.requests(), bytes.len() as u64);
    let mut starts: Vec<u64> = asked.iter().map(|&(first, _)| first).collect();
    starts.sort_unstable();
    let count = starts.len();
    starts.dedup();
    assert_eq!(starts.len(), count, "no range is asked for twice from the same byte: {asked:?}");
    for chunk in 0..4u64 {
        let half = chunk * 16_384 + 8_192;
        assert!(starts.contains(&half), "the chunk at {} resumes at {half}: {asked:?}", chunk * 16_384);
    }
}

#[test]
fn a_server_that_ignores_ranges_gets_one_stream() {
    let bytes = body(300_000, 26);
    let server = serve_bytes(&bytes, &[Fault::IgnoreRange]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    download(&config).expect("a server without ranges can still be downloaded from");
    assert_file(&config, &bytes);
    let gets = common::gets(&server.requests());
    assert_eq!(gets.len(), 1, "one GET, answered with the whole file, and no other: {gets:?}");
    assert_eq!(gets[0].status, 200, "the status of the one GET to a server that ignores ranges");
}

#[test]
fn a_wrong_content_range_is_an_error_not_a_corrupt_file() {
    let bytes = body(100_000, 27);
    let server = serve_bytes(&bytes, &[Fault::WrongContentRange]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    let err = download(&config).expect_err("the server sends other bytes than asked for");
    assert!(err.to_string().to_lowercase().contains("range"), "the error says what is wrong: {err}");
    assert!(
        matches!(err, Error::WrongRange { .. }),
        "a Content-Range one byte off is WrongRange, not {err:?}"
    );
    let gets = common::gets(&server.requests());
    assert_eq!(gets.len(), 1, "a lying Content-Range is final: no retry, no other worker: {gets:?}");
    assert!(!config.destination().exists(), "no destination from a lying server");
}

#[test]
fn a_file_that_changes_during_the_download_is_an_error() {
    // A slow link, so the file can be replaced while the download runs.
    let bytes = body(64 * 1_024, 28);
    let trickle = Fault::Trickle { chunk: 1_024, pause: Duration::from_millis(10) };
    let server = serve_bytes(&bytes, std::slice::from_ref(&trickle));
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 2, 8_192);
    let running = Running::start(&config);
    testkit::eventually("the download to fetch its first range", || {
        server.requests_for(FILE).iter().any(|r| r.method == "GET" && r.status == 206)
    });
    // The new version has other bytes and another length, so another ETag.
    let changed = body(70 * 1_024, 29);
    server.set_route(FILE, Route::ok("application/octet-stream", changed).with(trickle));
    let err = running.join().expect_err("a download must not splice two versions of a file");
    assert_eq!(err.exit_code(), 1, "the exit code when the file changes: {err}");
    assert!(matches!(err, Error::Changed { .. }), "a new ETag during the download is Changed, not {err:?}");
    assert!(!config.destination().exists(), "no destination made of two versions");
}

#[test]
fn a_request_that_made_progress_starts_the_count_of_failures_again() {
    // Every answer is cut after 5,000 bytes, so a 16 KiB chunk fails three times; with one retry
    // allowed it still completes, because each failure came after bytes that were kept.
    let bytes = body(65_536, 31);
    let server = serve_bytes(&bytes, &[Fault::ResetAfter(5_000)]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 16_384);
    config.retries = 1;
    download(&config).expect("no two failures in a row without progress between them");
    assert_file(&config, &bytes);
}

#[test]
fn backoff_doubles_up_to_its_maximum_and_reset_starts_again() {
    let ms = Duration::from_millis;
    let mut backoff = Backoff { next: ms(100), first: ms(100), max: ms(250) };
    // A raised stop ends the wait at once, and the next delay still doubles.
    assert!(!backoff.wait(|| true), "a wait with the stop raised returns false");
    assert_eq!(backoff.next, ms(200), "the delay after one wait of 100 ms");
    assert!(!backoff.wait(|| true), "a wait with the stop raised returns false");
    assert_eq!(backoff.next, ms(250), "the delay after 200 ms, capped at the maximum");
    backoff.reset();
    assert_eq!(backoff.next, ms(100), "the delay after a reset is the first one again");
}

#[test]
fn range_requests_carry_if_range_with_a_strong_etag_or_else_the_date() {
    let bytes = body(40_000, 32);
    let date = "Sun, 01 Mar 2026 08:00:00 GMT";
    // A weak ETag cannot be used in If-Range: the Last-Modified date is sent instead.
    for (etag, want) in [("\"strong-1\"", "\"strong-1\""), ("W/\"weak-1\"", date)] {
        let server = serve(file_route(&bytes).header("ETag", etag).header("Last-Modified", date));
        let dir = testkit::scratch_dir();
        let config = config(&server, dir.path(), 2, 8_192);
        download(&config).unwrap_or_else(|err| panic!("ETag {etag}: {err}"));
        assert_file(&config, &bytes);
        let gets: Vec<_> = common::gets(&server.requests()).into_iter().filter(|r| r.status == 206).collect();
        assert!(gets.len() >= 5, "five chunks fetched by range with ETag {etag}: {gets:?}");
        for get in &gets {
            assert_eq!(get.header("if-range"), Some(want), "the If-Range of a range GET, with ETag {etag}");
        }
    }
}

#[test]
fn a_server_that_promises_ranges_but_ignores_them_gets_one_stream() {
    // Accept-Ranges: bytes, and yet every GET is answered 200 with the whole file. The stream
    // passes through every chunk, whether or not the chunk size divides what one read brings.
    let bytes = body(300_000, 33);
    // 23,077 divides 300,001: the stream's last byte is the one before a chunk boundary.
    for chunk_size in [16_384, 23_077, 100_000, 299_999] {
        let server = serve(file_route(&bytes).header("Accept-Ranges", "bytes").with(Fault::IgnoreRange));
        let dir = testkit::scratch_dir();
        let config = config(&server, dir.path(), 4, chunk_size);
        let outcome = download(&config)
            .unwrap_or_else(|err| panic!("a 200 to the first range request is the whole file: {err}"));
        assert_eq!(outcome.size, 300_000, "the size downloaded in one stream, {chunk_size}-byte chunks");
        assert_file(&config, &bytes);
        let gets = common::gets(&server.requests());
        assert_eq!(gets.len(), 1, "one GET, answered with the whole file, and no other: {gets:?}");
        assert_eq!(gets[0].status, 200, "the status of the one GET to a server that ignores ranges");
    }
}

#[test]
fn a_stream_that_keeps_failing_gives_up_after_the_retries() {
    // No ranges, and every GET is reset after 1,000 bytes: each retry starts the stream again.
    let bytes = body(50_000, 34);
    let server = serve_bytes(&bytes, &[Fault::IgnoreRange, Fault::ResetAfter(1_000)]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.retries = 2;
    let err = download(&config).expect_err("no GET ever delivers the whole file");
    assert_eq!(err.exit_code(), 1, "the exit code of a stream that keeps failing: {err}");
    assert!(!config.destination().exists(), "no destination for a failed stream");
    let gets = common::gets(&server.requests());
    assert_eq!(gets.len(), 3, "2 retries make 3 GETs of the stream: {gets:?}");
}

/// The route a file is replaced by in the middle of a download: it answers `503` twice, then `404`.
fn failing_then_gone() -> Route {
    Route::status(404).with(Fault::FailTimes(2, 503))
}

/// The answers the server gave with `status`.
fn answered(server: &testkit::web::WebServer, status: u16) -> usize {
    server.requests().iter().filter(|r| r.status == status).count()
}

#[test]
fn a_stream_retries_server_errors_and_stops_at_a_final_status() {
    // No ranges; the first GET sends 1,000 bytes and stalls. While the download waits for the
    // stall timeout, the file is replaced: two 503s, then 404. The 503s are retried; the 404 is not.
    let bytes = body(50_000, 35);
    let server = serve_bytes(&bytes, &[Fault::IgnoreRange, Fault::Stall(1_000)]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 16_384);
    let running = Running::start(&config);
    testkit::eventually("the stream's first GET", || {
        server.requests_for(FILE).iter().any(|r| r.method == "GET" && r.status == 200)
    });
    server.set_route(FILE, failing_then_gone());
    let err = running.join().expect_err("the file is gone");
    assert!(err.to_string().contains("404"), "the error names the final status: {err}");
    assert_eq!(answered(&server, 503), 2, "503 answers, each retried: {:?}", server.requests());
    assert_eq!(answered(&server, 404), 1, "404 answers: a 404 is not retried: {:?}", server.requests());
    assert!(!config.destination().exists(), "no destination for a file that is gone");
}

#[test]
fn server_errors_during_a_download_are_retried_and_a_404_is_final() {
    // A slow download; once its first range is answered, the file is replaced: two 503s, then 404.
    let bytes = body(64 * 1_024, 36);
    let trickle = Fault::Trickle { chunk: 1_024, pause: Duration::from_millis(10) };
    let server = serve_bytes(&bytes, &[trickle]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 2, 8_192);
    let running = Running::start(&config);
    testkit::eventually("the download to fetch its first range", || {
        server.requests_for(FILE).iter().any(|r| r.method == "GET" && r.status == 206)
    });
    server.set_route(FILE, failing_then_gone());
    let err = running.join().expect_err("the file is gone");
    assert!(err.to_string().contains("404"), "the error names the final status, after the 503s: {err}");
    assert_eq!(answered(&server, 503), 2, "503 answers, each retried: {:?}", server.requests());
    assert!(
        answered(&server, 404) <= config.connections,
        "a 404 is not retried: at most one per connection, not {}: {:?}",
        answered(&server, 404),
        server.requests()
    );
    assert!(!config.destination().exists(), "no destination for a file that is gone");
}

#[test]
fn a_server_that_stops_answering_ranges_midway_is_an_error() {
    // Once ranges were answered 206, a 200 with the whole file cannot be trusted to be the same
    // stream the others were cut from.
    let bytes = body(64 * 1_024, 37);
    let trickle = Fault::Trickle { chunk: 1_024, pause: Duration::from_millis(10) };
    let server = serve_bytes(&bytes, std::slice::from_ref(&trickle));
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 2, 8_192);
    let running = Running::start(&config);
    testkit::eventually("the download to fetch its first range", || {
        server.requests_for(FILE).iter().any(|r| r.method == "GET" && r.status == 206)
    });
    // The same bytes, so the same ETag: only the ranges changed.
    server.set_route(FILE, file_route(&bytes).with(Fault::IgnoreRange));
    let err = running.join().expect_err("a 200 after a 206 is an error");
    assert!(
        matches!(err, Error::WrongRange { .. }),
        "a 200 after ranges were confirmed is WrongRange, not {err:?}"
    );
    assert!(!config.destination().exists(), "no destination after a server stopped answering ranges");
}
