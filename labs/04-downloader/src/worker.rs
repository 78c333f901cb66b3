//! Stages 2 and 3: a worker thread, with its own connection, taking pieces of the file from a
//! shared queue and writing each at its offset; retrying on failure from the last byte written.

// These types are one design (the reference's), a suggestion: only `download()` is graded, so change
// anything here. The chapter discusses the choices.

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;

use crate::plan::Chunk;
use crate::probe::Remote;
use crate::{Config, Error, Progress};

/// What a worker tells the coordinating thread.
#[derive(Debug)]
pub enum Event {
    /// The first range request was answered with the right `206`: start the other workers.
    RangesConfirmed,
    /// The server answered the first range request with the whole file (`200`): this worker fetches
    /// it in one stream; start no other.
    WholeFile,
    /// A worker ended, with the error that ended it if any.
    Exited(Result<(), Error>),
}

/// A piece of work: the bytes `start..end` of chunk `chunk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// The chunk the bytes belong to.
    pub chunk: Chunk,
    /// The first byte still missing (past `chunk.start` when resuming).
    pub start: u64,
}

/// What the workers of one download share.
#[derive(Debug)]
pub struct Shared<'a> {
    /// The download's settings.
    pub config: &'a Config,
    /// What the probe learned.
    pub remote: &'a Remote,
    /// The temporary file, preallocated to the full size.
    pub file: &'a File,
    /// Held around every write to `file`. The kernel serialises buffered writes to one file anyway
    /// (each takes the inode's lock), but its waiters spin on a core; waiting here, they sleep and
    /// leave the core to the sockets.
    pub writing: Mutex<()>,
    /// Its path, for error messages.
    pub path: &'a Path,
    /// The chunk size of the plan.
    pub chunk_size: u64,
    /// The work queue: the jobs, in file order.
    pub jobs: Vec<Job>,
    /// The next job to take: a worker takes job `next.fetch_add(1)`.
    pub next: AtomicUsize,
    /// For each chunk, how many of its bytes (from its start) are written.
    pub written: Vec<AtomicU64>,
    /// Bytes written in this run, all chunks together.
    pub written_total: AtomicU64,
    /// Of those, the bytes synced and recorded in the state file.
    pub synced_total: AtomicU64,
    /// Bytes received, for the progress bar and the outcome.
    pub progress: &'a Progress,
    /// Raised by Ctrl-C.
    pub stop: &'a AtomicBool,
    /// Raised when a worker fails for good: the others stop too.
    pub abort: AtomicBool,
    /// Set by the first `206`, after which a `200` is an error rather than a whole file.
    pub confirmed: AtomicBool,
}

impl Shared<'_> {
    /// Whether the workers should stop: Ctrl-C, or another worker failed.
    pub fn halted(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.abort.load(Ordering::Relaxed)
    }

    /// The bytes written but not yet synced and recorded.
    pub fn unsynced(&self) -> u64 {
        let written = self.written_total.load(Ordering::Relaxed);
        written.saturating_sub(self.synced_total.load(Ordering::Relaxed))
    }

    /// Waits while more than `max_unsynced` bytes are unsynced: the disk is slower than the
    /// network, and a crash must not lose more than that.
    pub fn wait_for_sync(&self) {
        while self.unsynced() > self.config.max_unsynced && !self.halted() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Records `n` bytes written at `chunk`'s counter value `done`.
    pub fn record_write(&self, chunk: usize, done: u64, n: u64) {
        // Release: whoever reads this count and then syncs the file has the bytes behind it.
        self.written[chunk].store(done, Ordering::Release);
        self.written_total.fetch_add(n, Ordering::Relaxed);
        self.progress.add(n);
    }
}

// TODO(stage 2): a worker keeps one crate::http::Connection while is_reusable, asks for
// `Range: bytes=FIRST-LAST` (LAST inclusive), checks the 206's Content-Range, and writes each read
// at its offset with write_all_at (std::os::unix::fs::FileExt), then calls record_write.
// TODO(stage 3): a private fetch_job that loops over attempts from the first byte not yet written,
// on a fresh connection after each failure, with Backoff; If-Range makes a changed file a 200.

/// One worker's life: take jobs until there are none (or the download halts), with one kept-alive
/// connection. Reports how it ended on `events`.
pub fn run_worker(shared: &Shared<'_>, events: &Sender<Event>) {
    todo!(
        "stage 2: take jobs from shared.jobs until none is left, fetching each over one kept-alive connection"
    )
}

/// Fetches the whole file with plain `GET`s, one stream at a time, writing it in order from byte 0:
/// for a server without ranges, or a file of unknown size. A failed stream starts again from the
/// beginning (there is no way to ask for the rest). Returns the file's length.
///
/// # Errors
///
/// As a range download, once the retries are spent.
pub fn fetch_single_stream(
    config: &Config,
    file: &File,
    path: &Path,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<u64, Error> {
    todo!("stage 2: GET the whole file in one stream; stage 3: retry from the start")
}
