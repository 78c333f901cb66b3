//! Stage 4: a crash-safe state file, resuming without fetching again what was saved, refusing to
//! resume a file that changed, and a destination that appears only complete and verified.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{
    FILE, Running, assert_file, body, config, download, file_route, interrupt_after, load_state, overlaps,
    ranges, saved_intervals, serve, serve_bytes, sha256,
};
use downloader::{Config, Error, State, Validator, plan};
use proptest::prelude::*;
use testkit::test;
use testkit::web::{Fault, Route, WebServer};

fn any_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(".{0,40}")
}

/// A consistent state: a size and chunk size, and each chunk's progress within its length.
fn any_state() -> impl Strategy<Value = State> {
    (0usize..48, 1u64..=1 << 33, any::<u64>(), any_text(), any_text())
        .prop_flat_map(|(chunks, chunk_size, last, etag, last_modified)| {
            let size = if chunks == 0 { 0 } else { (chunks as u64 - 1) * chunk_size + 1 + last % chunk_size };
            let lengths: Vec<u64> = plan(size, chunk_size).iter().map(|c| c.len()).collect();
            let progress: Vec<_> = lengths.iter().map(|&len| 0..=len).collect();
            (Just(size), Just(chunk_size), Just(Validator { etag, last_modified }), progress)
        })
        .prop_map(|(size, chunk_size, validator, progress)| State { size, chunk_size, validator, progress })
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn a_state_decodes_to_what_was_encoded(state in any_state()) {
        prop_assert_eq!(State::decode(&state.encode()), Ok(state.clone()), "{:?} encoded and decoded", state);
    }

    #[test]
    fn a_state_file_cut_short_is_refused(state in any_state(), cut in any::<prop::sample::Index>()) {
        let bytes = state.encode();
        let len = cut.index(bytes.len());
        prop_assert!(State::decode(&bytes[..len]).is_err(), "the first {} of {} bytes were accepted", len, bytes.len());
    }

    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = State::decode(&bytes);
    }

    #[test]
    fn a_state_file_with_one_byte_changed_is_refused(state in any_state(), at in any::<prop::sample::Index>(), xor in 1u8..) {
        // A damaged state that decoded would vouch for bytes that may not be on disk.
        let mut bytes = state.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        prop_assert!(
            State::decode(&bytes).is_err(),
            "byte {} of {} changed (xor {:#04x}) and the state was accepted: {:?}",
            i,
            bytes.len(),
            xor,
            State::decode(&bytes)
        );
    }

    #[test]
    fn a_corrupted_byte_never_panics_the_decoder(state in any_state(), at in any::<prop::sample::Index>(), xor in 1u8..) {
        let mut bytes = state.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        if let Ok(decoded) = State::decode(&bytes) {
            // Whatever a damaged file decodes to, it must be a consistent state.
            let chunks = plan(decoded.size, decoded.chunk_size);
            prop_assert_eq!(chunks.len(), decoded.progress.len(), "chunks planned for, and progress entries of, {:?}", decoded);
            for (chunk, &done) in chunks.iter().zip(&decoded.progress) {
                prop_assert!(done <= chunk.len(), "progress {} of {:?} in {:?}", done, chunk, decoded);
            }
        }
    }
}

/// A server whose file trickles: 64 chunks of 4 KiB, each taking 4 × 15 ms on one connection.
fn slow_server(bytes: &[u8]) -> WebServer {
    serve_bytes(bytes, &[Fault::Trickle { chunk: 1_024, pause: Duration::from_millis(15) }])
}

/// Replaces the slow route with a fast one serving the same bytes (so the same ETag).
fn speed_up(server: &WebServer, bytes: &[u8]) {
    server.set_route(FILE, file_route(bytes));
}

/// Checks a resumed download: what it asked for avoids every saved interval of `saved`, and adds
/// up to exactly what was missing.
#[track_caller]
fn assert_resumed_without_refetching(saved: &State, asked: &[(u64, u64)]) {
    let intervals = saved_intervals(saved);
    for &range in asked {
        for &interval in &intervals {
            assert!(
                !overlaps(range, interval),
                "the resumed download asked for {range:?}, saved already in {interval:?}"
            );
        }
    }
    let missing = saved.size - saved.progress.iter().sum::<u64>();
    let total: u64 = asked.iter().map(|(first, last)| last - first + 1).sum();
    assert_eq!(total, missing, "the resumed download asks for exactly the missing bytes: {asked:?}");
}

#[test]
fn an_interrupted_download_resumes_without_fetching_saved_bytes_again() {
    let bytes = body(256 * 1_024, 41);
    let server = slow_server(&bytes);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 4_096);
    let (err, saved) = interrupt_after(&config, 8 * 1_024);
    assert!(matches!(err, Error::Interrupted), "a stopped download reports Interrupted, not {err}");
    assert_eq!(err.exit_code(), 130, "the exit code of an interrupted download: {err}");
    assert!(!config.destination().exists(), "an interrupted download has no destination yet");
    let done: u64 = saved.progress.iter().sum();
    assert!(done >= 8 * 1_024 && done < saved.size, "the state records part of the file: {done} bytes");

    speed_up(&server, &bytes);
    let before = server.requests().len();
    config.resume = true;
    let outcome = download(&config).expect("the resumed download completes");
    assert_eq!(outcome.reused, done, "the saved bytes are reused");
    assert_file(&config, &bytes);
    assert_resumed_without_refetching(&saved, &ranges(&server.requests()[before..], bytes.len() as u64));
}

#[test]
fn a_resume_is_refused_when_the_file_changed() {
    let bytes = body(256 * 1_024, 42);
    let server = slow_server(&bytes);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 4_096);
    interrupt_after(&config, 4 * 1_024);
    let state_file = downloader::state_path(&config.destination());
    let part_file = downloader::part_path(&config.destination());
    let state_before = std::fs::read(&state_file).expect("the state file exists");
    let part_before = std::fs::read(&part_file).expect("the part file exists");

    // Same length, other bytes: another ETag.
    server.set_route(FILE, file_route(&body(256 * 1_024, 43)));
    config.resume = true;
    let err = download(&config).expect_err("the file on the server is another one now");
    assert_eq!(err.exit_code(), 1, "the exit code of a resume refused for a new ETag: {err}");
    assert!(err.to_string().contains("resume"), "the error says the resume was refused: {err}");
    // Compared whole; a failure shows lengths, not thousands of numbers.
    let state_after = std::fs::read(&state_file).ok();
    assert!(
        state_after.as_deref() == Some(&state_before[..]),
        "the state file is untouched: {} bytes before, {:?} after",
        state_before.len(),
        state_after.as_ref().map(Vec::len)
    );
    let part_after = std::fs::read(&part_file).ok();
    assert!(
        part_after.as_deref() == Some(&part_before[..]),
        "the partial file is untouched: {} bytes before, {:?} after",
        part_before.len(),
        part_after.as_ref().map(Vec::len)
    );
    assert!(!config.destination().exists(), "no destination after a refused resume (new ETag)");
}

#[test]
fn a_resume_is_refused_when_last_modified_changed() {
    let bytes = body(256 * 1_024, 44);
    let route = |date: &str| {
        Route::ok("application/octet-stream", bytes.clone())
            .header("ETag", "\"fixed\"")
            .header("Last-Modified", date)
    };
    let trickle = Fault::Trickle { chunk: 1_024, pause: Duration::from_millis(15) };
    let server = common::serve(route("Mon, 02 Mar 2026 10:00:00 GMT").with(trickle));
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 4_096);
    interrupt_after(&config, 4 * 1_024);
    server.set_route(FILE, route("Tue, 03 Mar 2026 10:00:00 GMT"));
    config.resume = true;
    let err = download(&config).expect_err("the file was modified since");
    assert_eq!(err.exit_code(), 1, "the exit code of a resume refused for a new Last-Modified: {err}");
    for date in ["Mon, 02 Mar 2026 10:00:00 GMT", "Tue, 03 Mar 2026 10:00:00 GMT"] {
        assert!(err.to_string().contains(date), "the error names the old and the new date, {date}: {err}");
    }
    assert!(!config.destination().exists(), "no destination after a refused resume (new Last-Modified)");
}

#[test]
fn the_destination_appears_only_when_complete() {
    let bytes = body(128 * 1_024, 45);
    let server = slow_server(&bytes);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 4, 4_096);
    let running = Running::start(&config);
    common::wait_for_saved(&config, &running, 4_096);
    assert!(!config.destination().exists(), "the destination does not exist while bytes are missing");
    speed_up(&server, &bytes);
    running.join().expect("the download completes");
    assert_file(&config, &bytes);
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the scratch dir")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["data.bin"], "only the destination is left: no temporary or state file");
}

#[test]
fn a_matching_sha256_creates_the_destination() {
    let bytes = body(100_000, 46);
    let server = serve_bytes(&bytes, &[]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.sha256 = Some(sha256(&bytes));
    download(&config).expect("the digest matches");
    assert_file(&config, &bytes);
}

#[test]
fn a_wrong_sha256_is_an_error_and_creates_nothing() {
    let bytes = body(100_000, 47);
    let server = serve_bytes(&bytes, &[]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 4, 16_384);
    config.sha256 = Some(sha256(b"something else"));
    let err = download(&config).expect_err("the digest does not match");
    assert_eq!(err.exit_code(), 1, "the exit code of a SHA-256 mismatch: {err}");
    assert!(
        err.to_string().to_lowercase().contains("sha-256")
            || err.to_string().to_lowercase().contains("sha256"),
        "the error of a SHA-256 mismatch names the digest: {err}"
    );
    let hex = |digest: [u8; 32]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for (what, digest) in [("expected", sha256(b"something else")), ("actual", sha256(&bytes))] {
        assert!(err.to_string().contains(&hex(digest)), "the error shows the {what} digest in hex: {err}");
    }
    assert!(!config.destination().exists(), "no destination with the wrong bytes");
}

#[test]
fn partly_saved_chunks_resume_at_their_first_missing_byte() {
    // A state written by hand: chunks saved whole, in part, by one byte, and not at all.
    let bytes = body(16 * 4_096, 49);
    let server = serve_bytes(&bytes, &[]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 3, 4_096);
    let remote = downloader::probe(&config, &AtomicBool::new(false)).expect("the file exists");
    let mut state = State::new(bytes.len() as u64, 4_096, remote.validator);
    let done = [4_096, 1_000, 0, 4_096, 2_048, 1, 0, 4_095, 4_096, 3_000, 0, 0, 17, 4_096, 0, 2_222];
    state.progress = done.to_vec();
    // The part file holds the saved bytes, and zeros where nothing was saved.
    let mut part = vec![0; bytes.len()];
    for (start, end) in saved_intervals(&state) {
        let (start, end) = (start as usize, end as usize);
        part[start..end].copy_from_slice(&bytes[start..end]);
    }
    std::fs::write(downloader::part_path(&config.destination()), &part).expect("write the part file");
    state.save(&downloader::state_path(&config.destination())).expect("save the state");

    let before = server.requests().len();
    config.resume = true;
    let outcome = download(&config).expect("the resumed download completes");
    assert_eq!(outcome.reused, state.done(), "the bytes the state vouches for are reused");
    assert_file(&config, &bytes);
    assert_resumed_without_refetching(&state, &ranges(&server.requests()[before..], bytes.len() as u64));
}

#[test]
fn an_unreadable_state_file_is_an_error_and_the_partial_file_is_kept() {
    let bytes = body(32 * 1_024, 50);
    let server = serve_bytes(&bytes, &[]);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 4_096);
    config.resume = true;
    let part_file = downloader::part_path(&config.destination());
    let state_file = downloader::state_path(&config.destination());
    let part = body(bytes.len(), 51);
    std::fs::write(&part_file, &part).expect("write the part file");
    // Not a state file at all, then not even a file.
    std::fs::write(&state_file, b"not a state file").expect("write the state file");
    let err = download(&config).expect_err("a state file that is not one is refused");
    assert_eq!(err.exit_code(), 1, "the exit code of an invalid state file: {err}");
    std::fs::remove_file(&state_file).expect("remove the state file");
    std::fs::create_dir(&state_file).expect("a directory where the state file goes");
    let err = download(&config).expect_err("a state file that cannot be read is an error");
    assert_eq!(err.exit_code(), 1, "the exit code of a state file that cannot be read: {err}");
    assert!(std::fs::read(&part_file).ok() == Some(part), "the partial file is untouched");
    assert!(!config.destination().exists(), "no destination when the state cannot be read");
}

#[test]
fn the_state_is_saved_whenever_max_unsynced_bytes_wait() {
    // The save interval never comes: only the bound on unsynced bytes makes the state current.
    // Each write is one 4 KiB chunk, more than the bound: every write waits for a save.
    let bytes = body(256 * 1_024, 52);
    let server = slow_server(&bytes);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 1, 4_096);
    config.save_interval = Duration::from_secs(3_600);
    config.max_unsynced = 3_000;
    let running = Running::start(&config);
    common::wait_for_saved(&config, &running, 8 * 1_024);
    assert!(!running.handle.is_finished(), "the state recorded 8 KiB before the download ended");
    speed_up(&server, &bytes);
    running.join().expect("the download completes");
    assert_file(&config, &bytes);
}

#[test]
fn a_whole_file_stream_that_stalls_records_only_what_it_wrote() {
    // The server promises ranges but answers the first GET with the whole file, and stalls after
    // 290,000 bytes: mid-way through the third 100,000-byte chunk. The state must vouch for exactly
    // the bytes the stream wrote, chunk by chunk, so a resume by ranges fetches all the rest.
    let bytes = body(400_000, 55);
    let promising = |route: Route| route.header("Accept-Ranges", "bytes");
    let server = serve(promising(file_route(&bytes).with(Fault::IgnoreRange).with(Fault::Stall(290_000))));
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 100_000);
    config.retries = 0;
    download(&config).expect_err("a stream that stalls, with no retries left, fails");
    let saved = load_state(&config).expect("a failed download leaves a readable state file");
    assert_eq!(
        saved.progress.iter().sum::<u64>(),
        290_000,
        "the state records the 290,000 bytes the stream delivered: {:?}",
        saved.progress
    );

    server.set_route(FILE, promising(file_route(&bytes)));
    let before = server.requests().len();
    config.resume = true;
    let outcome = download(&config).expect("the resumed download completes");
    assert_eq!(outcome.reused, 290_000, "the bytes the stream wrote are reused");
    assert_file(&config, &bytes);
    assert_resumed_without_refetching(&saved, &ranges(&server.requests()[before..], bytes.len() as u64));
}

#[test]
fn a_stream_leaves_no_state_and_starts_over_when_run_again() {
    // A server without ranges: an interrupted stream cannot be resumed, so it records no state,
    // and running the same download again, without --resume, simply starts over.
    let bytes = body(256 * 1_024, 53);
    let trickle = Fault::Trickle { chunk: 1_024, pause: Duration::from_millis(15) };
    let server = serve_bytes(&bytes, &[Fault::IgnoreRange, trickle]);
    let dir = testkit::scratch_dir();
    let config = config(&server, dir.path(), 2, 4_096);
    let part_file = downloader::part_path(&config.destination());
    let running = Running::start(&config);
    testkit::eventually("8 KiB of the stream in the part file", || {
        std::fs::metadata(&part_file).is_ok_and(|m| m.len() >= 8 * 1_024)
    });
    let err = running.interrupt().expect_err("an interrupted stream does not return Ok");
    assert!(matches!(err, Error::Interrupted), "a stopped stream reports Interrupted, not {err}");
    let state_file = downloader::state_path(&config.destination());
    assert!(!state_file.exists(), "a stream without ranges leaves no state file");
    server.set_route(FILE, file_route(&bytes).with(Fault::IgnoreRange));
    download(&config).expect("the same download, run again, starts over");
    assert_file(&config, &bytes);
}

#[test]
fn downloads_into_the_current_directory_by_default() {
    // No -o: the file is the URL's last segment in the current directory, and every path the
    // download uses (the part file, the state file and their directory) is relative.
    let bytes = body(64 * 1_024, 54);
    let server = serve_bytes(&bytes, &[]);
    let dir = testkit::scratch_dir();
    let output = Command::new(testkit::lab_binary!("downloader"))
        .args([&server.url(FILE), "-q", "-n", "2", "--chunk-size", "8K"])
        .current_dir(dir.path())
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "the download into . failed: {}", output.stderr.escape_ascii());
    let got = std::fs::read(dir.path().join("data.bin")).expect("data.bin in the current directory");
    assert!(got == bytes, "data.bin holds the file: {} bytes of {}", got.len(), bytes.len());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the scratch dir")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(left, ["data.bin"], "only the destination is left in the current directory");
}

/// The environment variable that turns [`child_download`] into a real download.
const CHILD_ENV: &str = "DOWNLOADER_TEST_CHILD";

#[test]
fn a_killed_download_resumes_without_fetching_saved_bytes_again() {
    let bytes = body(256 * 1_024, 48);
    let server = slow_server(&bytes);
    let dir = testkit::scratch_dir();
    let mut config = config(&server, dir.path(), 2, 4_096);
    // The test binary runs itself, filtered to the helper below, with the URL and destination.
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["child_download", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{}\n{}", server.url(FILE), config.destination().display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary can run itself");
    let mut saved = None;
    let held = testkit::wait_until(Duration::from_secs(20), || {
        saved = load_state(&config).filter(|state| state.progress.iter().sum::<u64>() >= 8 * 1_024);
        saved.is_some() || child.try_wait().ok().flatten().is_some()
    });
    assert!(held, "the child never saved 8 KiB of progress");
    if child.try_wait().ok().flatten().is_some() {
        let output = child.wait_with_output().expect("the child's output");
        panic!("the child download ended early: {}", output.stderr.escape_ascii());
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    // What the resumed run will find: the state on disk at the moment of the kill.
    let saved = load_state(&config).expect("a killed download leaves a readable state file");
    assert!(!config.destination().exists(), "a killed download has no destination");

    speed_up(&server, &bytes);
    let before = server.requests().len();
    config.resume = true;
    download(&config).expect("the resumed download completes");
    assert_file(&config, &bytes);
    assert_resumed_without_refetching(&saved, &ranges(&server.requests()[before..], bytes.len() as u64));
}

/// Not a test: the download that `a_killed_download_resumes_without_fetching_saved_bytes_again`
/// runs in a child process and kills.
#[test]
#[ignore = "a helper: run as a child process by a_killed_download_resumes_without_fetching_saved_bytes_again"]
fn child_download() {
    let Ok(job) = std::env::var(CHILD_ENV) else { return };
    let (url, destination) = job.split_once('\n').expect("URL and destination");
    let mut config = Config::new(downloader::Url::parse(url).expect("a valid URL"));
    config.output = Some(destination.into());
    config.connections = 2;
    config.chunk_size = 4_096;
    config.save_interval = Duration::from_millis(10);
    let _ = download(&config);
}
