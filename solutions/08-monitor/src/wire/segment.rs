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
    dir.join(format!("{segment:020}.seg"))
}

/// Creates the empty segment `segment` in `dir`, open to read and append.
pub(crate) fn create_segment(dir: &Path, segment: u64) -> crate::Result<Tail> {
    let path = segment_path(dir, segment);
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(&path)
        .map_err(Error::file(&path))?;
    // The new file's name must be on disk before a record in it counts as kept.
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(Error::file(dir))?;
    Ok(Tail { segment, file, len: 0 })
}

/// The CRC-32 of a record's length and bytes: zeros, as a crash can leave at a file's end, are not
/// a record of length 0.
pub(crate) fn checksum(len: u32, record: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher.update(record);
    hasher.finalize()
}

/// The records of a segment's bytes (offset and length), up to the first torn or corrupt one, and
/// where the good ones end.
pub(crate) fn scan(bytes: &[u8]) -> (Vec<(u64, u32)>, usize) {
    let header = RECORD_HEADER as usize;
    let mut records = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= header {
        let len = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let crc = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        let Some(record) = bytes.get(at + header..).and_then(|rest| rest.get(..len as usize)) else {
            break;
        };
        if checksum(len, record) != crc {
            break;
        }
        records.push((at as u64, len));
        at += header + len as usize;
    }
    (records, at)
}

/// The numbers of the segment files in `dir`, in order; other files are left alone.
pub(crate) fn list_segments(dir: &Path) -> crate::Result<Vec<u64>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::file(dir))? {
        let entry = entry.map_err(Error::file(dir))?;
        let name = entry.file_name();
        let number = name.to_str().and_then(|name| name.strip_suffix(".seg")).and_then(|n| n.parse().ok());
        if let Some(number) = number {
            segments.push(number);
        }
    }
    segments.sort_unstable();
    Ok(segments)
}

/// The front's position from the head file: `(0, 0)`, the start of everything, when there is none
/// yet or it is damaged (then with a warning: acked records may be sent again).
pub(crate) fn read_head(head: &File, path: &Path) -> crate::Result<(u64, u64)> {
    let mut bytes = [0u8; HEAD_LEN];
    let len = head.metadata().map_err(Error::file(path))?.len();
    if len == 0 {
        return Ok((0, 0));
    }
    if len == HEAD_LEN as u64 {
        head.read_exact_at(&mut bytes, 0).map_err(Error::file(path))?;
        let crc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        if crc32fast::hash(&bytes[..16]) == crc {
            let number = |range: std::ops::Range<usize>| {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&bytes[range]);
                u64::from_le_bytes(raw)
            };
            return Ok((number(0..8), number(8..16)));
        }
    }
    warn!(head = %path.display(), "spool head damaged: starting from the oldest segment");
    Ok((0, 0))
}

/// Writes the front's position, `segment` and `offset`, to the head file and syncs it.
pub(crate) fn write_head(head: &File, path: &Path, segment: u64, offset: u64) -> crate::Result<()> {
    let mut bytes = [0u8; HEAD_LEN];
    bytes[..8].copy_from_slice(&segment.to_le_bytes());
    bytes[8..16].copy_from_slice(&offset.to_le_bytes());
    let crc = crc32fast::hash(&bytes[..16]);
    bytes[16..].copy_from_slice(&crc.to_le_bytes());
    head.write_all_at(&bytes, 0).and_then(|()| head.sync_data()).map_err(Error::file(path))
}
