//! Stages 2 to 4: one download from start to finish. Probe the file, plan its chunks (or continue
//! an earlier plan), run the workers, keep the state file current, and put the file in place only
//! once it is complete and verified.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::plan::plan;
use crate::probe::{Remote, probe};
use crate::state::{State, sync_dir};
use crate::worker::{Event, Job, Shared, fetch_single_stream, run_worker};
use crate::{Config, Error, Progress, part_path, state_path};

/// The most chunks a download is split into: a larger file gets larger chunks, so the state file
/// and the work queue stay small.
pub const MAX_CHUNKS: u64 = 1 << 16;

/// How often the coordinating thread looks at the workers' progress between their messages.
const TICK: Duration = Duration::from_millis(2);

/// How a download that returned `Ok` went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The body bytes received in this run (more than `size - reused` when some were fetched twice
    /// after a failure).
    pub received: u64,
    /// The bytes an earlier, interrupted run had already saved, which this run did not fetch again.
    pub reused: u64,
}

/// Downloads `config.url` to `config.destination()`.
///
/// The bytes go into `FILE.part` next to the destination; for a server that accepts ranges the
/// progress is recorded in `FILE.part.state`, so that an interrupted download can be continued with
/// [`Config::resume`]. The destination appears only when the file is complete (and matches
/// [`Config::sha256`], if given), by a rename; the state file is then removed. Raising `stop` makes
/// the workers finish their current read, saves the state and returns [`Error::Interrupted`].
///
/// # Errors
///
/// Every [`Error`] but [`Error::Url`]: the probe's, the workers' once their retries are spent, a
/// changed or lying server, a refused resume, a checksum mismatch, a local file error.
pub fn download(config: &Config, stop: &AtomicBool) -> Result<Outcome, Error> {
    // ANCHOR: download
    let destination = config.destination();
    let part = part_path(&destination);
    let state_file = state_path(&destination);
    let remote = probe(config, stop)?;
    let previous =
        State::load(&state_file).map_err(|err| Error::File { path: state_file.clone(), source: err })?;
    // A state without its part file is left over from a run that finished or was cleaned up.
    let previous = previous.filter(|_| part.exists());
    if previous.is_some() && !config.resume {
        return Err(Error::PartialExists { path: state_file });
    }
    let (size, received, reused) = match remote.size {
        Some(size) if remote.ranges => {
            let (received, reused) = fetch_ranges(config, &remote, size, previous, &part, &state_file, stop)?;
            (size, received, reused)
        }
        _ => {
            if previous.is_some() {
                let reason = "the server no longer answers range requests".to_owned();
                return Err(Error::ResumeRefused { path: state_file, reason });
            }
            let (size, received) = fetch_stream(config, &remote, &part, stop)?;
            (size, received, 0)
        }
    };
    finish(config, &part, &destination, &state_file)?;
    Ok(Outcome { path: destination, size, received, reused })
    // ANCHOR_END: download
}

/// The download by ranges over several connections. Returns the bytes received and reused.
#[allow(clippy::too_many_arguments)]
fn fetch_ranges(
    config: &Config,
    remote: &Remote,
    size: u64,
    previous: Option<State>,
    part: &Path,
    state_file: &Path,
    stop: &AtomicBool,
) -> Result<(u64, u64), Error> {
    // ANCHOR: fetch_ranges
    let (file, mut state) = match previous {
        Some(state) => (reopen(remote, size, state.clone(), part, state_file)?, state),
        None => {
            let chunk_size = config.chunk_size.max(1).max(size.div_ceil(MAX_CHUNKS));
            let file = File::options().read(true).write(true).create(true).truncate(true).open(part);
            let file = file.map_err(Error::file(part))?;
            // Sparse: the file has its full length at once, and no block is written until a worker
            // writes it. Every offset is then valid for write_all_at, in any order.
            file.set_len(size).map_err(Error::file(part))?;
            let state = State::new(size, chunk_size, remote.validator.clone());
            state.save(state_file).map_err(Error::file(state_file))?;
            (file, state)
        }
    };
    let reused = state.done();
    let chunks = plan(size, state.chunk_size);
    let jobs: Vec<Job> = chunks
        .iter()
        .zip(&state.progress)
        .filter(|&(chunk, &done)| done < chunk.len())
        .map(|(&chunk, &done)| Job { chunk, start: chunk.start + done })
        .collect();
    let progress = Progress::new(Some(size), reused, config.progress);
    let shared = Shared {
        config,
        remote,
        file: &file,
        writing: Mutex::new(()),
        path: part,
        chunk_size: state.chunk_size,
        jobs,
        next: AtomicUsize::new(0),
        written: state.progress.iter().map(|&done| AtomicU64::new(done)).collect(),
        written_total: AtomicU64::new(0),
        synced_total: AtomicU64::new(0),
        progress: &progress,
        stop,
        abort: AtomicBool::new(false),
        confirmed: AtomicBool::new(false),
    };
    let failure = run_workers(&shared, &mut state, state_file)?;
    progress.finish();
    // Whatever happened, record how far the download got: a rerun with --resume continues there.
    save_state(&shared, &mut state, state_file)?;
    if let Some(err) = failure {
        return Err(err);
    }
    if chunks.iter().zip(&state.progress).any(|(chunk, &done)| done < chunk.len()) {
        return Err(Error::Interrupted);
    }
    Ok((progress.received(), reused))
    // ANCHOR_END: fetch_ranges
}

/// Starts one worker, then the others once the server has proved it answers ranges; saves the
/// state every `save_interval` while they run. Returns the first worker error.
fn run_workers(shared: &Shared<'_>, state: &mut State, state_file: &Path) -> Result<Option<Error>, Error> {
    // ANCHOR: run_workers
    if shared.jobs.is_empty() {
        return Ok(None);
    }
    let (events, received) = mpsc::channel();
    std::thread::scope(|scope| {
        let spawn = |events: mpsc::Sender<Event>| scope.spawn(move || run_worker(shared, &events));
        let mut workers = vec![spawn(events.clone())];
        let mut failure = None;
        let mut last_save = Instant::now();
        // Watch the threads themselves rather than count their messages: one that panicked sends none.
        while !workers.iter().all(|worker| worker.is_finished()) {
            match received.recv_timeout(TICK) {
                Ok(Event::RangesConfirmed) => {
                    let more = shared.config.connections.min(shared.jobs.len()).saturating_sub(1);
                    workers.extend((0..more).map(|_| spawn(events.clone())));
                }
                Ok(Event::Exited(Err(err))) => {
                    failure.get_or_insert(err);
                }
                Ok(Event::WholeFile | Event::Exited(Ok(()))) | Err(_) => {}
            }
            // Save on time, or sooner when the workers are about to wait for a sync.
            let due = last_save.elapsed() >= shared.config.save_interval;
            if due || shared.unsynced() >= shared.config.max_unsynced / 2 {
                if let Err(err) = save_state(shared, state, state_file) {
                    // The scope waits for the workers: make them stop first.
                    shared.abort.store(true, Ordering::Relaxed);
                    return Err(err);
                }
                last_save = Instant::now();
            }
        }
        // A worker's last message comes just before it ends, so it may not have been read yet.
        for event in received.try_iter() {
            if let Event::Exited(Err(err)) = event {
                failure.get_or_insert(err);
            }
        }
        Ok(failure)
    })
    // ANCHOR_END: run_workers
}

/// Records the workers' progress durably: the data first, then the state that vouches for it.
fn save_state(shared: &Shared<'_>, state: &mut State, state_file: &Path) -> Result<(), Error> {
    // ANCHOR: save_state
    // Read the counters before syncing: every byte they count was written before the sync began,
    // so the sync makes it durable. Counters read after the sync could count bytes it missed.
    let total = shared.written_total.load(Ordering::Relaxed);
    let progress: Vec<u64> = shared.written.iter().map(|done| done.load(Ordering::Acquire)).collect();
    if progress == state.progress {
        return Ok(());
    }
    shared.file.sync_data().map_err(Error::file(shared.path))?;
    state.progress = progress;
    state.save(state_file).map_err(Error::file(state_file))?;
    // The workers waiting in wait_for_sync may go on.
    shared.synced_total.store(total, Ordering::Relaxed);
    Ok(())
    // ANCHOR_END: save_state
}

/// Opens the part file of an earlier run, after checking that it is the same file on the server.
fn reopen(remote: &Remote, size: u64, state: State, part: &Path, state_file: &Path) -> Result<File, Error> {
    // ANCHOR: reopen
    let refuse = |reason: String| Error::ResumeRefused { path: state_file.to_owned(), reason };
    if state.size != size {
        return Err(refuse(format!("the file's size was {}, is now {size}", state.size)));
    }
    if let Some(what) = state.validator.difference(&remote.validator) {
        return Err(refuse(format!("the file changed on the server ({what})")));
    }
    if state.validator != remote.validator && remote.validator == Default::default() {
        return Err(refuse(
            "the server no longer sends the ETag or Last-Modified to check it against".into(),
        ));
    }
    let file = OpenOptions::new().read(true).write(true).open(part).map_err(Error::file(part))?;
    let length = file.metadata().map_err(Error::file(part))?.len();
    if length != size {
        return Err(refuse(format!("{} has {length} bytes, expected {size}", part.display())));
    }
    Ok(file)
    // ANCHOR_END: reopen
}

/// The download in one plain stream. Returns the size and the bytes received.
fn fetch_stream(
    config: &Config,
    remote: &Remote,
    part: &Path,
    stop: &AtomicBool,
) -> Result<(u64, u64), Error> {
    let file = File::create(part).map_err(Error::file(part))?;
    let progress = Progress::new(remote.size, 0, config.progress);
    let length =
        if remote.size == Some(0) { 0 } else { fetch_single_stream(config, &file, part, &progress, stop)? };
    progress.finish();
    if remote.size.is_some_and(|size| size != length) {
        let what = format!("the size was {:?}, {length} bytes came", remote.size);
        return Err(Error::Changed { url: config.url.to_string(), what });
    }
    // A retried stream may have written further the first time.
    file.set_len(length).map_err(Error::file(part))?;
    Ok((length, progress.received()))
}

/// Makes the complete file durable, checks it, and moves it into place.
fn finish(config: &Config, part: &Path, destination: &Path, state_file: &Path) -> Result<(), Error> {
    // ANCHOR: finish
    File::open(part).and_then(|file| file.sync_all()).map_err(Error::file(part))?;
    if let Some(expected) = config.sha256 {
        let actual = sha256_of(part).map_err(Error::file(part))?;
        if actual != expected {
            // The bytes are wrong, not missing: resuming cannot fix them.
            let _ = fs::remove_file(state_file);
            return Err(Error::Checksum {
                path: destination.to_owned(),
                expected: hex(&expected),
                actual: hex(&actual),
            });
        }
    }
    fs::rename(part, destination).map_err(Error::file(destination))?;
    sync_dir(destination).map_err(Error::file(destination))?;
    match fs::remove_file(state_file) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(Error::file(state_file)(err)),
        _ => Ok(()),
    }
    // ANCHOR_END: finish
}

fn sha256_of(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(hasher.finalize().into()),
            n => hasher.update(&buf[..n]),
        }
    }
}

/// Lowercase hexadecimal, for the checksum error.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
