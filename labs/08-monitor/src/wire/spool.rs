//! [`Spool`]: the agent's bounded on-disk queue of records (encoded batches), first in first out,
//! that outlives a relay outage and an agent restart.
//!
//! A record is appended to the newest *segment* file and fsynced before [`Spool::push`] returns;
//! it is read back at the front and forgotten by [`Spool::pop_front`] once the relay has acked it.
//! The position of the front is kept in a small `head` file, and a segment whose records are all
//! popped is deleted. A crash can leave a record half written: reopening reads each segment,
//! checks every record's length and CRC-32, and cuts the file at the last good record with a
//! warning, so the next append goes after it. Over the byte bound the oldest records are dropped,
//! and counted: losing the oldest points is better than stopping the newest.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tracing::warn;

use super::segment::{
    HEAD_FILE, RECORD_HEADER, Tail, checksum, create_segment, list_segments, read_head, scan, segment_path,
    write_head,
};
use crate::error::Error;

/// The smallest segment, whatever the bound.
const MIN_SEGMENT_BYTES: u64 = 4 << 10;

/// The largest segment, whatever the bound.
const MAX_SEGMENT_BYTES: u64 = 64 << 20;

/// A bounded first-in first-out queue of byte records in a directory.
///
/// The directory holds segment files named by a zero-padded number and `.seg`
/// (`00000000000000000001.seg`), so that their order by name is the order of their records, and a
/// `head` file. Each record in a segment is its length (`u32`, little-endian), the CRC-32 of
/// those four bytes and the record's (`u32`, little-endian), then the record. A segment is an
/// eighth of the bound (at least 4 KiB, at most 64 MiB): the records held stay under the bound and
/// the files under the bound and one segment.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use monitor::wire::Spool;
/// let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
/// spool.push(b"first").unwrap();
/// spool.push(b"second").unwrap();
/// drop(spool);
/// let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
/// assert_eq!(spool.front().unwrap().as_deref(), Some(&b"first"[..]));
/// spool.pop_front().unwrap();
/// assert_eq!(spool.len(), 1);
/// ```
#[derive(Debug)]
pub struct Spool {
    /// The directory.
    dir: PathBuf,
    /// The most bytes of records (headers included) held.
    max_bytes: u64,
    /// When the newest segment reaches this size, the next record starts a new one.
    segment_bytes: u64,
    /// The records held, oldest first.
    records: VecDeque<Record>,
    /// Their bytes, headers included.
    bytes: u64,
    /// The numbers of the segment files on disk, oldest first.
    segments: VecDeque<u64>,
    /// The newest segment, appended to.
    tail: Tail,
    /// An older segment open for reading the front.
    reader: Option<(u64, File)>,
    /// The number the next new segment gets.
    next_segment: u64,
    /// The head file.
    head: File,
    /// Records dropped since opening: over the bound, too large, or found corrupt.
    dropped: u64,
}

/// Where a record is.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Its segment's number.
    segment: u64,
    /// The offset of its header in the segment.
    offset: u64,
    /// The record's length, without the header.
    len: u32,
}

impl Spool {
    /// Opens the spool in `dir` (creating it), holding at most `max_bytes` of records, and
    /// recovers what a crash left: a torn or corrupt record and everything after it in its
    /// segment are cut off with a warning.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the directory or a file in it cannot be made, read or written.
    pub fn open(dir: &Path, max_bytes: u64) -> crate::Result<Spool> {
        todo!(
            "stage 2: read the head, scan each segment from it, cut a damaged one at its last good record, and keep the newest segment open to append"
        )
    }

    /// Appends `record` and fsyncs it; over the bound, drops the oldest records first (a record
    /// larger than the whole bound is itself dropped). Both count in [`Spool::dropped`].
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the segment cannot be written or synced.
    pub fn push(&mut self, record: &[u8]) -> crate::Result<()> {
        todo!(
            "stage 2: make room by dropping the oldest, start a new segment when this one is full, append header and record, fsync"
        )
    }

    /// A copy of the oldest record, or `None` when the spool is empty. A record found corrupt
    /// since opening is dropped, counted and skipped.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when its segment cannot be read.
    pub fn front(&mut self) -> crate::Result<Option<Vec<u8>>> {
        todo!("stage 2: read the oldest record back and check its CRC")
    }

    /// Forgets the oldest record (nothing when empty).
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the head file cannot be written or a finished segment removed.
    pub fn pop_front(&mut self) -> crate::Result<()> {
        todo!("stage 2: forget the oldest record, write the head, delete segments left behind")
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The bytes of the records held, headers included: at most the bound.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// How many records were dropped since opening: the oldest over the bound, ones larger than
    /// the bound, and ones found corrupt.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
