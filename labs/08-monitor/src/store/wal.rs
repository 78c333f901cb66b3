//! The write-ahead log: every append is a record in the current *segment* file, and an append
//! returns only once its record is on disk, fsynced. A checkpoint starts a new segment; the old
//! ones are deleted once what they held is in block files and the checkpoint.
//!
//! **Group commit.** An fsync takes a fraction of a millisecond on an SSD and many on a disk,
//! whatever it writes, so appenders share them: each puts its record in a shared buffer and waits
//! for its *ticket* (the buffer's length after its record) to be durable. Whoever finds no write
//! under way becomes the leader: it takes the whole buffer, writes and fsyncs it without the lock,
//! and wakes everyone whose ticket it covered; records put in meanwhile wait for the next leader.
//! So a thousand concurrent appends cost a few fsyncs, not a thousand. A write or an fsync that
//! fails fails every append since, for good: after a failed fsync the kernel may have dropped the
//! pages, and nothing can say what is on disk.
//!
//! | record | payload after its type byte |
//! |---|---|
//! | `S`, a new series | its id (varint), then host, metric (each a varint length and UTF-8), kind (0 gauge, 1 counter), tag count, and each tag's name and value |
//! | `P`, points | the count (varint), then each point as its series id (varint), its time minus the previous point's (zigzag varint; the first minus 0) and its value (8 bytes, little-endian IEEE 754) |
//!
//! A series' `S` record always comes before the first `P` record naming it, in the same segment
//! or an older one still on disk; each record is framed with its length and CRC-32
//! ([`super::encoding`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tracing::warn;

use super::encoding::{
    Cursor, begin_record, end_record, put_series, put_varint, scan_records, unzigzag, zigzag,
};
use super::series::SeriesId;
use crate::error::Error;
use crate::point::{Kind, Millis, SeriesKey};

/// The most points one `P` record holds: a larger append writes several.
pub(crate) const MAX_RECORD_POINTS: usize = 1 << 16;

/// The type byte of a series record.
const SERIES: u8 = b'S';
/// The type byte of a points record.
const POINTS: u8 = b'P';

/// A point as the log and the head see it.
pub(crate) type Entry = (SeriesId, Millis, f64);

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// A series was given an id.
    Series(SeriesId, SeriesKey, Kind),
    /// Points.
    Points(Vec<Entry>),
}

/// Appends the framed record of a new series.
#[allow(clippy::ptr_arg)]
pub(crate) fn encode_series(out: &mut Vec<u8>, id: SeriesId, key: &SeriesKey, kind: Kind) {
    todo!("stage 4: an S record")
}

/// Appends the framed records of `entries`, [`MAX_RECORD_POINTS`] a record.
#[allow(clippy::ptr_arg)]
pub(crate) fn encode_points(out: &mut Vec<u8>, entries: &[Entry]) {
    todo!("stage 4: P records of at most MAX_RECORD_POINTS points")
}

/// Decodes a record's payload; `None` when it is not one.
pub(crate) fn decode_record(payload: &[u8]) -> Option<Record> {
    todo!("stage 4: an S or P record that uses every byte; None otherwise")
}

/// A position in the log: the bytes ever put in it, up to the end of one record.
pub(crate) type Ticket = u64;

/// The log of a store.
#[derive(Debug)]
pub(crate) struct Wal {
    /// The segments' directory.
    dir: PathBuf,
    /// The buffer and what is durable.
    state: Mutex<WalState>,
    /// Signalled when a leader has finished.
    written: Condvar,
    /// Fsyncs done.
    syncs: AtomicU64,
}

#[derive(Debug)]
struct WalState {
    /// Records put in and not yet written.
    pending: Vec<u8>,
    /// The bytes ever put in.
    enqueued: Ticket,
    /// The bytes ever made durable.
    durable: Ticket,
    /// Whether a leader is writing.
    writing: bool,
    /// The current segment's number.
    segment: u64,
    /// Its file.
    file: Arc<File>,
    /// Its bytes, written or pending.
    segment_bytes: u64,
    /// Why the log failed, once it has.
    failed: Option<(io::ErrorKind, String)>,
}

impl Wal {
    /// A log in `dir` appending to a new, empty segment `segment`.
    pub(crate) fn create(dir: &Path, segment: u64) -> crate::Result<Wal> {
        todo!("stage 4: a new segment, its name fsynced in the directory")
    }

    /// Puts framed records in the buffer; their ticket is durable once [`Wal::wait`] returns.
    pub(crate) fn enqueue(&self, records: &[u8]) -> Ticket {
        todo!("stage 4: append to the buffer; the ticket is the bytes ever enqueued")
    }

    /// Waits until `ticket` is durable, leading a write when none is under way.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the segment could not be written or synced, now or before.
    pub(crate) fn wait(&self, ticket: Ticket) -> crate::Result<()> {
        todo!("stage 4: until durable >= ticket: wait while a leader writes, or lead")
    }

    /// Writes and syncs everything put in so far, then appends to a new segment; returns its
    /// number. Records put in after it returns go to the new segment.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the old segment cannot be written or synced or the new one made.
    pub(crate) fn rotate(&self) -> crate::Result<u64> {
        todo!("stage 4: make everything enqueued durable, then start the next segment")
    }

    /// The current segment's bytes, written or pending.
    pub(crate) fn segment_bytes(&self) -> u64 {
        todo!("stage 4: the current segment's bytes")
    }

    /// Fsyncs done since the log was made.
    pub(crate) fn syncs(&self) -> u64 {
        todo!("stage 4: fsyncs done")
    }

    /// Writes and syncs the buffer as the leader, with the lock released meanwhile.
    fn lead<'a>(&'a self, state: MutexGuard<'a, WalState>) -> MutexGuard<'a, WalState> {
        todo!(
            "stage 4: take the buffer, write and fsync it without the lock, then mark it durable (or the log failed) and wake everyone"
        )
    }

    /// The error for a failed log.
    fn failure(&self, state: &WalState, (kind, message): &(io::ErrorKind, String)) -> Error {
        todo!("stage 4: an Error::File naming the segment")
    }

    fn lock(&self) -> MutexGuard<'_, WalState> {
        todo!("stage 4: take back a poisoned lock")
    }
}

/// The path of segment `segment` in `dir`.
pub(crate) fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    todo!("stage 4: the number zero-padded to 20 digits, then .wal")
}

/// The numbers of the segments in `dir`, in order.
pub(crate) fn list_segments(dir: &Path) -> crate::Result<Vec<u64>> {
    todo!("stage 4: the numbers of the *.wal files, sorted")
}

/// The records of segment `segment` (its bytes and each payload's range), after cutting it with
/// a warning at the first torn or damaged record.
pub(crate) fn recover_segment(dir: &Path, segment: u64) -> crate::Result<(Vec<u8>, Vec<Range<usize>>)> {
    todo!("stage 4: read, scan, and cut the file at the first damaged record with a warning")
}

/// Creates segment `segment`, empty, and syncs the directory so that its name is durable.
fn create_segment(dir: &Path, segment: u64) -> crate::Result<File> {
    todo!("stage 4: create_new, then fsync the directory")
}
