//! Stages 2 and 3: a worker thread, with its own connection, taking pieces of the file from a
//! shared queue and writing each at its offset; retrying on failure from the last byte written.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, PoisonError};

use crate::http::{Connection, HttpError};
use crate::plan::Chunk;
use crate::probe::{Remote, Validator};
use crate::retry::{Attempt, Backoff, Failure, is_retryable_status};
use crate::{Config, ContentRange, Error, Progress};

/// The size of each worker's read buffer.
const BUFFER: usize = 256 * 1024;

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
    /// Writes `bytes` at `offset` of the file, one writer at a time (see [`Shared::writing`]).
    fn write_at(&self, bytes: &[u8], offset: u64) -> Result<(), Attempt> {
        let _turn = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.file.write_all_at(bytes, offset).map_err(|err| Attempt::Fatal(Error::file(self.path)(err)))
    }

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

/// One worker's life: take jobs until there are none (or the download halts), with one kept-alive
/// connection. Reports how it ended on `events`.
pub fn run_worker(shared: &Shared<'_>, events: &Sender<Event>) {
    // ANCHOR: run_worker
    let mut conn = None;
    let mut buf = vec![0; BUFFER];
    let result = loop {
        if shared.halted() {
            break Ok(());
        }
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(&job) = shared.jobs.get(index) else { break Ok(()) };
        if let Err(err) = fetch_job(shared, &mut conn, &mut buf, job, events) {
            shared.abort.store(true, Ordering::Relaxed);
            break Err(err);
        }
    };
    let _ = events.send(Event::Exited(result));
    // ANCHOR_END: run_worker
}

/// Fetches one job, retrying failures with backoff; each retry resumes at the first byte not yet
/// written, on a new connection.
fn fetch_job(
    shared: &Shared<'_>,
    conn: &mut Option<Connection>,
    buf: &mut [u8],
    job: Job,
    events: &Sender<Event>,
) -> Result<(), Error> {
    // ANCHOR: fetch_job
    let config = shared.config;
    let mut pos = job.start;
    let mut backoff = Backoff::new(config);
    let mut failures = 0;
    while pos < job.chunk.end {
        if shared.halted() {
            return Ok(());
        }
        let before = pos;
        let failure = match fetch_range(shared, conn, buf, job.chunk, &mut pos, events) {
            Ok(()) => continue,
            Err(Attempt::Fatal(err)) => return Err(err),
            Err(Attempt::Retry(failure)) => failure,
        };
        // The connection may be out of step (half a body unread): never reuse it.
        *conn = None;
        if pos > before {
            // Bytes arrived: this is a new run of failures, not the next in the old one.
            failures = 0;
            backoff.reset();
        }
        failures += 1;
        if failures > config.retries {
            return Err(failure.into_error(&config.url, failures));
        }
        if !backoff.wait(|| shared.halted()) {
            return Ok(());
        }
    }
    Ok(())
    // ANCHOR_END: fetch_job
}

/// One request for `*pos..chunk.end`, writing what arrives and advancing `*pos` as it is written.
fn fetch_range(
    shared: &Shared<'_>,
    conn: &mut Option<Connection>,
    buf: &mut [u8],
    chunk: Chunk,
    pos: &mut u64,
    events: &Sender<Event>,
) -> Result<(), Attempt> {
    // ANCHOR: fetch_range
    let config = shared.config;
    let url = &config.url;
    let conn = match conn {
        Some(conn) if conn.is_reusable() => conn,
        _ => conn.insert(Connection::open(url, config.connect_timeout, config.stall_timeout)?),
    };
    let (first, last) = (*pos, chunk.end - 1);
    let range = format!("bytes={first}-{last}");
    let mut headers = vec![("Range", range.as_str())];
    // If the file changed, If-Range makes the server send all of the new one (200) instead of a
    // piece of it that would be spliced into the old one.
    if let Some(validator) = shared.remote.validator.if_range() {
        headers.push(("If-Range", validator));
    }
    let response = conn.send("GET", url.target(), &headers)?;
    match response.status {
        206 => {}
        200 if !shared.confirmed.load(Ordering::Relaxed) => {
            check_unchanged(shared, &Validator::of(&response), response.content_length())?;
            let _ = events.send(Event::WholeFile);
            fetch_whole_body(shared, conn, buf)?;
            // Every job, this one included, was part of the stream.
            *pos = chunk.end;
            return Ok(());
        }
        200 => {
            check_unchanged(shared, &Validator::of(&response), response.content_length())?;
            return Err(wrong_range(shared, first, last, "(a 200 answer with the whole file)"));
        }
        416 => return Err(changed(shared, "the range is no longer satisfiable: the file shrank".into())),
        // No need to read the body: the connection of a failed attempt is never reused.
        status if is_retryable_status(status) => return Err(Attempt::Retry(Failure::Status(status))),
        status => return Err(Attempt::Fatal(Error::Status { url: url.to_string(), status })),
    }
    let content_range = response.header("content-range").unwrap_or_default();
    match ContentRange::parse(content_range) {
        Some(got) if got.first == first && got.last == last => {
            if got.complete.is_some_and(|size| Some(size) != shared.remote.size) {
                return Err(changed(
                    shared,
                    format!("the size was {:?}, is {:?}", shared.remote.size, got.complete),
                ));
            }
        }
        _ => return Err(wrong_range(shared, first, last, content_range)),
    }
    check_unchanged(shared, &Validator::of(&response), None)?;
    if !shared.confirmed.swap(true, Ordering::Relaxed) {
        let _ = events.send(Event::RangesConfirmed);
    }
    copy_body(shared, conn, buf, chunk, pos, chunk.end)
    // ANCHOR_END: fetch_range
}

/// Reads the body into the file at `*pos` until `end`, counting each write in the chunk's
/// `written` counter and in the progress.
fn copy_body(
    shared: &Shared<'_>,
    conn: &mut Connection,
    buf: &mut [u8],
    chunk: Chunk,
    pos: &mut u64,
    end: u64,
) -> Result<(), Attempt> {
    // ANCHOR: copy_body
    while *pos < end {
        if shared.halted() {
            return Ok(());
        }
        let want = buf.len().min(usize::try_from(end - *pos).unwrap_or(usize::MAX));
        let (n, read) = fill_body(conn, &mut buf[..want]);
        // What arrived before a failure is good: keep it, so a retry starts after it.
        shared.wait_for_sync();
        shared.write_at(&buf[..n], *pos)?;
        *pos += n as u64;
        shared.record_write(chunk.index, *pos - chunk.start, n as u64);
        read?;
        // A body that ended before the range did gives nothing more on the next read.
        if n == 0 {
            return Err(HttpError::Closed("before the end of the range").into());
        }
    }
    Ok(())
    // ANCHOR_END: copy_body
}

/// Reads body bytes into `buf` until it is full or the body ends, and returns how many arrived
/// with the error that stopped it early, if any.
///
/// A socket read returns whatever has arrived, often 64 KiB. Every buffered write to the file takes
/// its inode lock, for which the other workers wait (spinning, in the kernel): filling the buffer
/// first makes the writes few and large, and the hand-offs of the lock few.
fn fill_body(conn: &mut Connection, buf: &mut [u8]) -> (usize, Result<(), HttpError>) {
    let mut filled = 0;
    while filled < buf.len() {
        match conn.read_body(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) => return (filled, Err(err)),
        }
    }
    (filled, Ok(()))
}

/// The whole file in one stream, from byte 0 (the server ignores ranges): written in order, each
/// chunk's counter advanced as the stream passes through it.
fn fetch_whole_body(shared: &Shared<'_>, conn: &mut Connection, buf: &mut [u8]) -> Result<(), Attempt> {
    // ANCHOR: whole_body
    // No other worker was started and none will be: take every job off the queue.
    shared.next.store(shared.jobs.len(), Ordering::Relaxed);
    let size = shared.remote.size.unwrap_or(0);
    let chunk_size = shared.chunk_size.max(1);
    let mut pos = 0;
    while pos < size {
        if shared.halted() {
            return Ok(());
        }
        let want = buf.len().min(usize::try_from(size - pos).unwrap_or(usize::MAX));
        let (n, read) = fill_body(conn, &mut buf[..want]);
        if n == 0 {
            read?;
            return Err(HttpError::Closed("before the end of the file").into());
        }
        // What arrived before a failure is good: it is written first, and the failure ends the loop.
        shared.wait_for_sync();
        shared.write_at(&buf[..n], pos)?;
        let start = pos;
        pos += n as u64;
        // The piece may span several chunks: advance each one's counter.
        for index in start / chunk_size..=(pos - 1) / chunk_size {
            let chunk_start = index * chunk_size;
            let chunk_end = (chunk_start + chunk_size).min(size);
            let done = pos.min(chunk_end) - chunk_start;
            if let Some(written) = shared.written.get(index as usize) {
                written.store(done, Ordering::Release);
            }
        }
        shared.written_total.fetch_add(n as u64, Ordering::Relaxed);
        shared.progress.add(n as u64);
        // A body that ended early is noticed by the next read, which gives nothing.
        read?;
    }
    Ok(())
    // ANCHOR_END: whole_body
}

fn check_unchanged(shared: &Shared<'_>, now: &Validator, size: Option<u64>) -> Result<(), Attempt> {
    if let Some(what) = shared.remote.validator.difference(now) {
        return Err(changed(shared, what));
    }
    if size.is_some() && size != shared.remote.size {
        return Err(changed(shared, format!("the size was {:?}, is {:?}", shared.remote.size, size)));
    }
    Ok(())
}

fn changed(shared: &Shared<'_>, what: String) -> Attempt {
    Attempt::Fatal(Error::Changed { url: shared.config.url.to_string(), what })
}

fn wrong_range(shared: &Shared<'_>, first: u64, last: u64, got: &str) -> Attempt {
    Attempt::Fatal(Error::WrongRange { url: shared.config.url.to_string(), first, last, got: got.to_owned() })
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
    let url = &config.url;
    let mut backoff = Backoff::new(config);
    let mut buf = vec![0; BUFFER];
    let mut failures = 0;
    loop {
        let attempt = (|| -> Result<u64, Attempt> {
            let mut conn = Connection::open(url, config.connect_timeout, config.stall_timeout)?;
            let response = conn.send("GET", url.target(), &[])?;
            match response.status {
                200 => {}
                status if is_retryable_status(status) => return Err(Attempt::Retry(Failure::Status(status))),
                status => return Err(Attempt::Fatal(Error::Status { url: url.to_string(), status })),
            }
            let mut pos = 0;
            loop {
                if stop.load(Ordering::Relaxed) {
                    return Err(Attempt::Fatal(Error::Interrupted));
                }
                let n = conn.read_body(&mut buf)?;
                if n == 0 {
                    return Ok(pos);
                }
                file.write_all_at(&buf[..n], pos).map_err(|err| Attempt::Fatal(Error::file(path)(err)))?;
                pos += n as u64;
                progress.add(n as u64);
            }
        })();
        match attempt {
            Ok(length) => return Ok(length),
            Err(Attempt::Fatal(err)) => return Err(err),
            Err(Attempt::Retry(failure)) => {
                failures += 1;
                if failures > config.retries {
                    return Err(failure.into_error(url, failures));
                }
                if !backoff.wait(crate::retry::raised(stop)) {
                    return Err(Error::Interrupted);
                }
            }
        }
    }
}
