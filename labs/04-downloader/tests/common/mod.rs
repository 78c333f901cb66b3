//! Support shared by the stage tests: a fixture server holding one file, configs tuned for tests,
//! running a download in-process (or stopping one mid-way), and reading the server's log.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use downloader::{Config, Error, Outcome, State, Url};
use sha2::{Digest, Sha256};
use testkit::web::{Fault, RequestRecord, Route, Site, WebServer};

/// The path the fixture file is served at.
pub const FILE: &str = "/files/data.bin";

/// `len` bytes that look random and are the same for the same `seed` on every run.
pub fn body(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The file as a route: `200 OK`, ranges answered with `206`, an `ETag` made from the bytes.
pub fn file_route(bytes: &[u8]) -> Route {
    Route::ok("application/octet-stream", bytes.to_vec())
}

/// A server with `route` at [`FILE`].
pub fn serve(route: Route) -> WebServer {
    WebServer::start(Site::new().route(FILE, route))
}

/// A server with `bytes` at [`FILE`], misbehaving with `faults`.
pub fn serve_bytes(bytes: &[u8], faults: &[Fault]) -> WebServer {
    let mut route = file_route(bytes);
    for fault in faults {
        route = route.with(fault.clone());
    }
    serve(route)
}

/// A config for `server`'s [`FILE`] saved as `data.bin` in `dir`, tuned for tests: short backoff,
/// a 300 ms stall timeout, frequent state saves, `connections` connections of `chunk_size` bytes.
pub fn config(server: &WebServer, dir: &Path, connections: usize, chunk_size: u64) -> Config {
    let url = Url::parse(&server.url(FILE)).expect("the fixture's URL is valid");
    let mut config = Config::new(url);
    config.output = Some(dir.join("data.bin"));
    config.connections = connections;
    config.chunk_size = chunk_size;
    config.retries = 5;
    config.backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(50);
    config.connect_timeout = Duration::from_secs(5);
    config.stall_timeout = Duration::from_millis(300);
    config.save_interval = Duration::from_millis(10);
    config.progress = false;
    config
}

/// Runs the download with a stop flag nobody raises.
pub fn download(config: &Config) -> Result<Outcome, Error> {
    downloader::download(config, &AtomicBool::new(false))
}

/// The destination of `config`.
pub fn destination(config: &Config) -> PathBuf {
    config.destination()
}

/// Reads the destination and checks it holds exactly `want`.
#[track_caller]
pub fn assert_file(config: &Config, want: &[u8]) {
    let path = destination(config);
    let got = std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    assert_eq!(got.len(), want.len(), "{} has the wrong length", path.display());
    assert!(
        got == want,
        "{} has the right length but different bytes (first difference at {})",
        path.display(),
        got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0)
    );
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The `GET` requests for [`FILE`] among `requests`.
pub fn gets(requests: &[RequestRecord]) -> Vec<RequestRecord> {
    requests.iter().filter(|r| r.method == "GET" && r.target == FILE).cloned().collect()
}

/// The `[first, last]` byte ranges of the `GET` requests among `requests` that carried a `Range`
/// header with both ends. An open range (`bytes=N-`) is taken to the end of a file of `size` bytes.
pub fn ranges(requests: &[RequestRecord], size: u64) -> Vec<(u64, u64)> {
    gets(requests)
        .iter()
        .filter_map(|r| r.range())
        .map(|(first, last)| (first, last.unwrap_or(size.saturating_sub(1)).min(size.saturating_sub(1))))
        .collect()
}

/// The byte intervals `[start, end)` an interrupted download's state says are on disk.
pub fn saved_intervals(state: &State) -> Vec<(u64, u64)> {
    downloader::plan(state.size, state.chunk_size)
        .iter()
        .zip(&state.progress)
        .filter(|&(_, &done)| done > 0)
        .map(|(chunk, &done)| (chunk.start, chunk.start + done))
        .collect()
}

/// The state file of `config`'s download, if there is a readable one.
pub fn load_state(config: &Config) -> Option<State> {
    State::load(&downloader::state_path(&destination(config))).ok().flatten()
}

/// A download running on its own thread, with a stop flag the test can raise.
pub struct Running {
    pub stop: Arc<AtomicBool>,
    pub handle: JoinHandle<Result<Outcome, Error>>,
}

impl Running {
    /// Starts downloading `config` on a thread.
    pub fn start(config: &Config) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let config = config.clone();
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || downloader::download(&config, &flag));
        Running { stop, handle }
    }

    /// Raises the stop flag (as Ctrl-C does) and waits for the download to return.
    pub fn interrupt(self) -> Result<Outcome, Error> {
        self.stop.store(true, Ordering::Relaxed);
        self.join()
    }

    /// Waits for the download to return.
    pub fn join(self) -> Result<Outcome, Error> {
        self.handle.join().expect("the download thread panicked")
    }
}

/// Waits until `config`'s state file records at least `bytes` bytes on disk, or the download ended.
/// Returns the state then, if any.
#[track_caller]
pub fn wait_for_saved(config: &Config, running: &Running, bytes: u64) -> Option<State> {
    let mut seen = None;
    let held = testkit::wait_until(Duration::from_secs(20), || {
        seen = load_state(config);
        seen.as_ref().is_some_and(|state| state.progress.iter().sum::<u64>() >= bytes)
            || running.handle.is_finished()
    });
    assert!(held, "the state file never recorded {bytes} bytes");
    seen
}

/// A download of a slow (trickling) file interrupted by its stop flag once at least `bytes` bytes
/// are saved. Returns the error the download returned and the state file left behind.
pub fn interrupt_after(config: &Config, bytes: u64) -> (Error, State) {
    let running = Running::start(config);
    wait_for_saved(config, &running, bytes);
    assert!(!running.handle.is_finished(), "the download ended before it could be interrupted");
    let err = running.interrupt().expect_err("an interrupted download does not return Ok");
    let state = load_state(config).expect("an interrupted download leaves a readable state file");
    (err, state)
}

/// Whether `[a.0, a.1]` (inclusive) and `[b.0, b.1)` (exclusive end) share a byte.
pub fn overlaps(range: (u64, u64), interval: (u64, u64)) -> bool {
    range.0 < interval.1 && interval.0 <= range.1
}
