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

// TODO(stage 1): plan_splits needs only std::fs::metadata's length. read_split seeks to the byte
// before `start` and, unless it starts the input, lets BufRead::read_until(b'\n') eat the line that
// byte is in; then it keeps reading whole lines while its position is still below `end`.

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
    todo!("stage 1: cut each file into split_size byte ranges, no reading")
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
pub fn read_split<R: Read + Seek>(reader: &mut R, start: u64, end: u64) -> io::Result<Vec<u8>> {
    todo!(
        "stage 1: skip the partial first line unless the byte before start is a newline, then read whole lines while they start before end"
    )
}
