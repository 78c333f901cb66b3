//! Time-range queries on a log sorted by time: binary search with seeks, reading a few blocks.
//!
//! A 1 GB log has about five million lines, and the boundary of a time range is found in about
//! log2(10^9) = 30 probes of one block each: a few hundred kilobytes read instead of the file.

use std::io::{self, Read, Seek, Write};
use std::ops::Range;

use crate::Timestamp;

/// Finds the byte range of a sorted log that holds the lines with `from <= time < to`.
///
/// `start` is the offset of the first valid line whose time is at or after `from`; `end` is the
/// offset of the first valid line at or after `start` whose time is at or after `to`. Either is the
/// length of the log when there is no such line. Malformed lines are skipped while probing.
///
/// The log must be sorted by time (as nginx writes it); on an unsorted log the answer is some
/// range, but not necessarily the right one.
///
/// # Errors
///
/// Any I/O error from seeking or reading.
pub fn find_range<R: Read + Seek>(log: &mut R, from: Timestamp, to: Timestamp) -> io::Result<Range<u64>> {
    todo!("stage 4: binary search with seeks for the first valid line at or after `from`, then `to`")
}

/// Writes the valid lines of `range` (from [`find_range`]) whose time is in `from..to`, each with its
/// newline. Returns how many it wrote.
///
/// # Errors
///
/// Any I/O error from reading the log or writing `out`.
pub fn copy_range<R: Read + Seek>(
    log: &mut R,
    range: Range<u64>,
    from: Timestamp,
    to: Timestamp,
    out: &mut dyn Write,
) -> io::Result<u64> {
    todo!("stage 4: write the valid lines of `range` with from <= time < to")
}
