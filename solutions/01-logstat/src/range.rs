//! Time-range queries on a log sorted by time: binary search with seeks, reading a few blocks.
//!
//! A 1 GB log has about five million lines, and the boundary of a time range is found in about
//! log2(10^9) = 30 probes of one block each: a few hundred kilobytes read instead of the file.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::{Timestamp, parse_line};

/// How much one probe reads at a time. A line longer than this is read in several pieces.
const PROBE_BLOCK: usize = 8 * 1024;

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
    // ANCHOR: find_range
    let len = log.seek(SeekFrom::End(0))?;
    let start = first_line_at_or_after(log, len, 0, from)?;
    let end = if to.unix <= from.unix { start } else { first_line_at_or_after(log, len, start, to)? };
    Ok(start..end)
    // ANCHOR_END: find_range
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
    log.seek(SeekFrom::Start(range.start))?;
    let mut reader = BufReader::with_capacity(256 * 1024, log.take(range.end - range.start));
    let mut line = Vec::new();
    let mut written = 0;
    while reader.read_until(b'\n', &mut line)? > 0 {
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if let Ok(record) = parse_line(text) {
            if from.unix <= record.time.unix && record.time.unix < to.unix {
                out.write_all(text)?;
                out.write_all(b"\n")?;
                written += 1;
            }
        }
        line.clear();
    }
    Ok(written)
}

/// The offset of the first valid line at or after `low` whose time is at or after `target`.
fn first_line_at_or_after<R: Read + Seek>(
    log: &mut R,
    len: u64,
    low: u64,
    target: Timestamp,
) -> io::Result<u64> {
    // Probe(p) looks at the first valid line starting at or after p. "That line is late enough, or
    // there is none" is false for small p and true from some p* on, because the log is sorted: find
    // p* by bisection, and the probe at p* is the answer.
    let (mut low, mut high) = (low, len);
    while low < high {
        let mid = low + (high - low) / 2;
        match first_valid_line(log, len, mid)? {
            // Every position up to the end of this early line probes either it or a later line.
            Some((_, next, time)) if time.unix < target.unix => low = next.min(high),
            _ => high = mid,
        }
    }
    Ok(first_valid_line(log, len, low)?.map_or(len, |(start, _, _)| start))
}

/// The first valid line that starts at or after `pos`: its start, the offset just past it, and its
/// time. `None` when no valid line starts in `pos..len`.
fn first_valid_line<R: Read + Seek>(
    log: &mut R,
    len: u64,
    pos: u64,
) -> io::Result<Option<(u64, u64, Timestamp)>> {
    // A line starts at `pos` only if `pos` is 0 or follows a newline, so read from one byte earlier.
    let mut at = pos.saturating_sub(1);
    log.seek(SeekFrom::Start(at))?;
    let mut reader = BufReader::with_capacity(PROBE_BLOCK, log.by_ref().take(len - at));
    let mut line = Vec::new();
    if pos > 0 {
        at += reader.read_until(b'\n', &mut line)? as u64;
    }
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)? as u64;
        if read == 0 {
            return Ok(None);
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if let Ok(record) = parse_line(text) {
            return Ok(Some((at, at + read, record.time)));
        }
        at += read;
    }
}
