//! Input splits: byte ranges of the input files, aligned to line boundaries.
//!
//! A split is planned from file sizes alone, without reading: `[start, end)` byte ranges of a fixed
//! size. The lines are aligned when the split is read: a line belongs to the split its first byte is
//! in, so a reader skips a partial first line (the previous split owns it) and reads past `end` to
//! finish its last line.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One map task's input: a byte range of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The input's position in the job's input list (the inverted index names files by it).
    pub file: usize,
    /// The input file.
    pub path: PathBuf,
    /// First byte of the range.
    pub start: u64,
    /// One past the last byte of the range.
    pub end: u64,
}

/// Cuts `inputs` into splits of `split_size` bytes (the last of each file shorter); an empty file
/// has no split.
///
/// # Errors
///
/// [`Error::File`] when an input's size cannot be read.
///
/// # Panics
///
/// When `split_size` is 0.
pub fn plan_splits(inputs: &[PathBuf], split_size: u64) -> Result<Vec<Split>> {
    assert!(split_size > 0, "split_size must be positive");
    let mut splits = Vec::new();
    for (file, path) in inputs.iter().enumerate() {
        let len = std::fs::metadata(path).map_err(Error::file(path))?.len();
        let mut start = 0;
        while start < len {
            let end = (start + split_size).min(len);
            splits.push(Split { file, path: path.clone(), start, end });
            start = end;
        }
    }
    Ok(splits)
}

/// Reads the lines of `reader` that belong to the byte range `start..end`: every line whose first
/// byte is in the range, each with its `\n` (the last line of the input may lack one).
///
/// # Errors
///
/// Whatever `reader` returns.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
/// let text = b"one\ntwo\nthree\n";
/// assert_eq!(mapreduce::read_split(&mut Cursor::new(text), 0, 5).unwrap(), b"one\ntwo\n");
/// assert_eq!(mapreduce::read_split(&mut Cursor::new(text), 5, 14).unwrap(), b"three\n");
/// ```
// ANCHOR: read_split
pub fn read_split<R: Read + Seek>(reader: &mut R, start: u64, end: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    if start >= end {
        return Ok(out);
    }
    // Look at the byte before `start`: a line starts at `start` only if that byte ends a line.
    let from = start.saturating_sub(1);
    reader.seek(SeekFrom::Start(from))?;
    let mut input = BufReader::with_capacity(256 * 1024, reader);
    let mut pos = from;
    if start > 0 {
        let mut skipped = Vec::new();
        pos += input.read_until(b'\n', &mut skipped)? as u64;
    }
    // Every line starting before `end` is ours, the one crossing `end` included.
    while pos < end {
        let read = input.read_until(b'\n', &mut out)?;
        if read == 0 {
            break;
        }
        pos += read as u64;
    }
    Ok(out)
}
// ANCHOR_END: read_split
