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
        fs::create_dir_all(dir).map_err(Error::file(dir))?;
        let head_path = dir.join(HEAD_FILE);
        let head = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&head_path)
            .map_err(Error::file(&head_path))?;
        let (head_segment, head_offset) = read_head(&head, &head_path)?;
        let mut next_segment = head_segment + 1;
        let mut records = VecDeque::new();
        let mut bytes_held = 0;
        let mut segments = VecDeque::new();
        let mut tail_len = 0;
        for segment in list_segments(dir)? {
            let path = segment_path(dir, segment);
            next_segment = next_segment.max(segment + 1);
            if segment < head_segment {
                fs::remove_file(&path).map_err(Error::file(&path))?;
                continue;
            }
            let bytes = fs::read(&path).map_err(Error::file(&path))?;
            // Records before the head were acked: only those from it on are checked and kept.
            let start = if segment == head_segment { bytes.len().min(head_offset as usize) } else { 0 };
            let (found, good) = scan(&bytes[start..]);
            let good = start + good;
            if good < bytes.len() {
                warn!(
                    segment = %path.display(),
                    at = good,
                    lost = bytes.len() - good,
                    "spool segment damaged: cut at the last good record"
                );
                let file = OpenOptions::new().write(true).open(&path).map_err(Error::file(&path))?;
                file.set_len(good as u64).and_then(|()| file.sync_all()).map_err(Error::file(&path))?;
            }
            for (offset, len) in found {
                bytes_held += RECORD_HEADER + u64::from(len);
                records.push_back(Record { segment, offset: start as u64 + offset, len });
            }
            segments.push_back(segment);
            tail_len = good as u64;
        }
        let tail = match segments.back() {
            Some(&segment) => {
                let path = segment_path(dir, segment);
                let file =
                    OpenOptions::new().read(true).append(true).open(&path).map_err(Error::file(&path))?;
                Tail { segment, file, len: tail_len }
            }
            None => {
                let tail = create_segment(dir, next_segment)?;
                next_segment += 1;
                segments.push_back(tail.segment);
                tail
            }
        };
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            segment_bytes: (max_bytes / 8).clamp(MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES),
            records,
            bytes: bytes_held,
            segments,
            tail,
            reader: None,
            next_segment,
            head,
            dropped: 0,
        };
        while spool.bytes > spool.max_bytes {
            spool.drop_front();
        }
        // The head now names what was found, even where a cut left it pointing past a file's end.
        spool.advance()?;
        Ok(spool)
    }

    /// Appends `record` and fsyncs it; over the bound, drops the oldest records first (a record
    /// larger than the whole bound is itself dropped). Both count in [`Spool::dropped`].
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the segment cannot be written or synced.
    pub fn push(&mut self, record: &[u8]) -> crate::Result<()> {
        let size = RECORD_HEADER + record.len() as u64;
        let len = match u32::try_from(record.len()) {
            Ok(len) if size <= self.max_bytes => len,
            _ => {
                warn!(
                    len = record.len(),
                    max = self.max_bytes,
                    "record larger than the spool's bound: dropped"
                );
                self.dropped += 1;
                return Ok(());
            }
        };
        let made_room = self.bytes + size > self.max_bytes;
        while self.bytes + size > self.max_bytes {
            self.drop_front();
        }
        if self.tail.len > 0 && self.tail.len + size > self.segment_bytes {
            self.tail = create_segment(&self.dir, self.next_segment)?;
            self.next_segment += 1;
            self.segments.push_back(self.tail.segment);
            self.remove_finished()?;
        }
        let tail = &mut self.tail;
        let mut bytes = Vec::with_capacity(size as usize);
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&checksum(len, record).to_le_bytes());
        bytes.extend_from_slice(record);
        if let Err(err) = tail.file.write_all(&bytes).and_then(|()| tail.file.sync_data()) {
            // Cut what part was written, so the next record does not follow garbage.
            let _ = tail.file.set_len(tail.len);
            return Err(Error::File { path: segment_path(&self.dir, tail.segment), source: err });
        }
        self.records.push_back(Record { segment: tail.segment, offset: tail.len, len });
        tail.len += size;
        self.bytes += size;
        if made_room {
            self.advance()?;
        }
        Ok(())
    }

    /// A copy of the oldest record, or `None` when the spool is empty. A record found corrupt
    /// since opening is dropped, counted and skipped.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when its segment cannot be read.
    pub fn front(&mut self) -> crate::Result<Option<Vec<u8>>> {
        while let Some(&record) = self.records.front() {
            let mut bytes = vec![0u8; RECORD_HEADER as usize + record.len as usize];
            let path = segment_path(&self.dir, record.segment);
            match self.read_at(record.segment, record.offset, &mut bytes) {
                Ok(()) => {
                    let payload = bytes.split_off(RECORD_HEADER as usize);
                    if bytes[..4] == record.len.to_le_bytes()
                        && bytes[4..] == checksum(record.len, &payload).to_le_bytes()
                    {
                        return Ok(Some(payload));
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {}
                Err(err) => return Err(Error::File { path, source: err }),
            }
            warn!(segment = %path.display(), at = record.offset, "spool record damaged since opening: dropped");
            self.drop_front();
            self.advance()?;
        }
        Ok(None)
    }

    /// Forgets the oldest record (nothing when empty).
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the head file cannot be written or a finished segment removed.
    pub fn pop_front(&mut self) -> crate::Result<()> {
        if let Some(record) = self.records.pop_front() {
            self.bytes -= RECORD_HEADER + u64::from(record.len);
            self.advance()?;
        }
        Ok(())
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

    /// Forgets the oldest record without writing the head: the caller calls `advance`.
    fn drop_front(&mut self) {
        if let Some(record) = self.records.pop_front() {
            self.bytes -= RECORD_HEADER + u64::from(record.len);
            self.dropped += 1;
        }
    }

    /// Records that the front moved: writes the head and removes segments left behind.
    fn advance(&mut self) -> crate::Result<()> {
        let (segment, offset) = match self.records.front() {
            Some(record) => (record.segment, record.offset),
            None => (self.tail.segment, self.tail.len),
        };
        write_head(&self.head, &self.dir.join(HEAD_FILE), segment, offset)?;
        self.remove_finished()
    }

    /// Deletes the segments before the front's (never the tail).
    fn remove_finished(&mut self) -> crate::Result<()> {
        let first_needed = self.records.front().map_or(self.tail.segment, |record| record.segment);
        while let Some(&segment) = self.segments.front() {
            if segment >= first_needed {
                break;
            }
            let path = segment_path(&self.dir, segment);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(Error::File { path, source: err }),
            }
            self.segments.pop_front();
            if self.reader.as_ref().is_some_and(|(open, _)| *open == segment) {
                self.reader = None;
            }
        }
        Ok(())
    }

    /// Fills `buf` from `segment` at `offset`.
    fn read_at(&mut self, segment: u64, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if self.tail.segment == segment {
            return self.tail.file.read_exact_at(buf, offset);
        }
        match &self.reader {
            Some((open, file)) if *open == segment => file.read_exact_at(buf, offset),
            _ => {
                let file = File::open(segment_path(&self.dir, segment))?;
                file.read_exact_at(buf, offset)?;
                self.reader = Some((segment, file));
                Ok(())
            }
        }
    }
}
