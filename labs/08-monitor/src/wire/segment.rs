//! The spool's files: a segment of records, each its length, its CRC-32 and its bytes; scanning a
//! segment back after a crash; and the `head` file that says where the front is.
//!
//! Everything here is a plain function of bytes or of one file, so that [`super::Spool`] is only
//! about the queue.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tracing::warn;

use crate::error::Error;

/// A record's header: its length and its CRC-32, each a little-endian `u32`.
pub(crate) const RECORD_HEADER: u64 = 8;

/// The file holding the front's position: segment and offset (`u64`s) and their CRC-32 (`u32`),
/// little-endian.
pub(crate) const HEAD_FILE: &str = "head";

/// The length of the head file.
const HEAD_LEN: usize = 20;

/// The segment appended to.
#[derive(Debug)]
pub(crate) struct Tail {
    /// Its number.
    pub(crate) segment: u64,
    /// The file, open to read and append.
    pub(crate) file: File,
    /// Its length: where the next record goes.
    pub(crate) len: u64,
}

/// The path of segment `segment` in `dir`.
pub(crate) fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    todo!("stage 2: the number zero-padded to 20 digits, then .seg")
}

/// Creates the empty segment `segment` in `dir`, open to read and append.
pub(crate) fn create_segment(dir: &Path, segment: u64) -> crate::Result<Tail> {
    todo!("stage 2: create the file (it must not exist), then fsync the directory so its name is on disk")
}

/// The CRC-32 of a record's length and bytes: zeros, as a crash can leave at a file's end, are not
/// a record of length 0.
pub(crate) fn checksum(len: u32, record: &[u8]) -> u32 {
    todo!("stage 2: crc32fast over the length's 4 bytes and the record")
}

/// The records of a segment's bytes (offset and length), up to the first torn or corrupt one, and
/// where the good ones end.
pub(crate) fn scan(bytes: &[u8]) -> (Vec<(u64, u32)>, usize) {
    todo!("stage 2: records while a whole header, a whole record and a matching CRC are there")
}

/// The numbers of the segment files in `dir`, in order; other files are left alone.
pub(crate) fn list_segments(dir: &Path) -> crate::Result<Vec<u64>> {
    todo!("stage 2: the numbers of the *.seg files, sorted")
}

/// The front's position from the head file: `(0, 0)`, the start of everything, when there is none
/// yet or it is damaged (then with a warning: acked records may be sent again).
pub(crate) fn read_head(head: &File, path: &Path) -> crate::Result<(u64, u64)> {
    todo!(
        "stage 2: (segment, offset) when the file holds 20 bytes whose CRC matches; (0, 0) with a warning otherwise"
    )
}

/// Writes the front's position, `segment` and `offset`, to the head file and syncs it.
pub(crate) fn write_head(head: &File, path: &Path, segment: u64, offset: u64) -> crate::Result<()> {
    todo!("stage 2: segment, offset and their CRC-32, written at offset 0 and synced")
}
