//! The Gorilla codec (Pelkonen et al., *Gorilla: a fast, scalable, in-memory time series
//! database*, VLDB 2015): a chunk of rows, each a timestamp and one or more values, in about a bit
//! or two a row when the data is regular.
//!
//! A timestamp is stored as its *delta of delta*: the change in the gap since the previous row. A
//! series read every 10 s has gaps of 10,000 ms, so from the third row on the delta of delta is 0
//! and costs one bit. A value is stored as its XOR with the previous value of its column: an
//! unchanged value costs one bit, and a value that changed in a few bits costs the bits between
//! the XOR's leading and trailing zeros, with the window's position sent only when it moves.
//!
//! | field | bits |
//! |---|---|
//! | header | row count (`u32`, little-endian) and column count (`u8`): 5 whole bytes |
//! | first row | timestamp (64), then each value's IEEE 754 bits (64 each) |
//! | timestamp, later rows | delta of delta `d`: `0` when 0; `10` + 7 bits for −63..=64; `110` + 9 bits for −255..=256; `1110` + 12 bits for −2047..=2048; `11110` + 32 bits within ±2³¹; `11111` + 64 bits otherwise |
//! | value, later rows | XOR `x` with the column's previous value: `0` when 0; `10` + the meaningful bits when they fit the previous window; `11` + leading zeros (5 bits, at most 31) + meaningful length (6 bits, 64 written as 0) + the meaningful bits |
//!
//! Deltas wrap, so any `i64` timestamps round-trip, in any order; values round-trip bit for bit,
//! NaN payloads and −0.0 included. The store keeps raw points as one-column chunks and rollups as
//! five-column ones (`rollup`).

use super::bits::{BitReader, BitWriter};
use crate::point::Millis;

/// The bytes before a chunk's bits: its row count (`u32`, little-endian) and its column count.
pub(crate) const CHUNK_HEADER: usize = 5;

/// The most value columns a chunk may have.
pub(crate) const MAX_COLUMNS: usize = 8;

/// Why bytes are not a chunk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// Fewer bytes than the header.
    #[error("a chunk starts with a 5-byte header; found {len} bytes")]
    Short {
        /// The bytes found.
        len: usize,
    },
    /// A column count of 0 or more than 8, or not the one expected.
    #[error("a chunk of {found} value columns, where {expected} were expected")]
    Columns {
        /// The count in the header.
        found: u8,
        /// The count the caller expected.
        expected: u8,
    },
    /// More rows than the bits could hold, refused before anything is allocated.
    #[error("{rows} rows cannot fit in {bits} bits")]
    TooManyRows {
        /// The count in the header.
        rows: u32,
        /// The bits after the header.
        bits: u64,
    },
    /// The bits end early or break the format.
    #[error("row {row}: the bits end early or break the format")]
    Corrupt {
        /// The row being read.
        row: u32,
    },
}

/// Encodes `points` as a one-column chunk.
///
/// # Panics
///
/// When there are more than `u32::MAX` points.
///
/// # Examples
///
/// ```
/// use monitor::store::gorilla::{decode, encode};
/// let points: Vec<(i64, f64)> = (0..100).map(|i| (1_700_000_000_000 + i * 10_000, 42.0)).collect();
/// let bytes = encode(&points);
/// assert!(bytes.len() < 60, "a regular step and a constant value: about 2 bits a point");
/// assert_eq!(decode(&bytes).unwrap(), points);
/// ```
pub fn encode(points: &[(Millis, f64)]) -> Vec<u8> {
    todo!("stage 4: a one-column ChunkEncoder")
}

/// Decodes a one-column chunk.
///
/// # Errors
///
/// A [`ChunkError`] for any bytes that are not one: no input panics, and none makes it allocate
/// more than its bits could hold.
pub fn decode(bytes: &[u8]) -> Result<Vec<(Millis, f64)>, ChunkError> {
    todo!("stage 4: decode_rows, one column")
}

/// A chunk being written, row by row.
#[derive(Debug, Clone)]
pub(crate) struct ChunkEncoder {
    /// The header, then the bits.
    writer: BitWriter,
    /// Rows written.
    rows: u32,
    /// The previous row's timestamp.
    time: Millis,
    /// The previous gap between timestamps.
    delta: i64,
    /// Each column's previous value and window.
    columns: Vec<XorState>,
}

/// One value column's state.
#[derive(Debug, Clone, Copy, Default)]
struct XorState {
    /// The previous value's bits.
    previous: u64,
    /// Leading and trailing zeros of the last window sent, once one was.
    window: Option<(u32, u32)>,
}

impl ChunkEncoder {
    /// An empty chunk of `columns` values a row (1 to [`MAX_COLUMNS`]).
    pub(crate) fn new(columns: usize) -> ChunkEncoder {
        todo!("stage 4: the 5-byte header, then the bits")
    }

    /// Appends a row; `values` has one value a column.
    pub(crate) fn push(&mut self, time: Millis, values: &[f64]) {
        todo!("stage 4: the first row raw; then the delta of delta and each value's XOR")
    }

    /// Rows written.
    pub(crate) fn rows(&self) -> u32 {
        todo!("stage 4: rows written")
    }

    /// The chunk as it stands: its bytes with the row count in the header. Rows can still be
    /// pushed after.
    pub(crate) fn finish(&self) -> Vec<u8> {
        todo!("stage 4: a copy of the bytes with the row count in the header")
    }

    /// Patches the row count into the header and gives the bytes up.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        todo!("stage 4: the bytes with the row count in the header")
    }
}

/// A decoded chunk: its timestamps and, row after row, its values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rows {
    /// Values a row.
    pub(crate) columns: usize,
    /// Each row's timestamp.
    pub(crate) times: Vec<Millis>,
    /// Row-major: row `i`'s values are `values[i * columns..(i + 1) * columns]`.
    pub(crate) values: Vec<f64>,
}

/// Decodes a chunk of any column count.
pub(crate) fn decode_rows(bytes: &[u8]) -> Result<Rows, ChunkError> {
    todo!("stage 4: check the header and that the rows can fit in the bits before allocating; then decode")
}

/// The delta-of-delta buckets after the `0` for 0: prefix, its width, and the field's width.
const BUCKETS: [(u64, u32, u32); 4] = [(0b10, 2, 7), (0b110, 3, 9), (0b1110, 4, 12), (0b11110, 5, 32)];

/// Appends a timestamp's delta of delta.
fn push_delta_of_delta(writer: &mut BitWriter, dod: i64) {
    todo!("stage 4: '0', or the smallest bucket that holds it")
}

/// Reads a delta of delta back.
fn read_delta_of_delta(reader: &mut BitReader<'_>) -> Option<i64> {
    todo!("stage 4: the inverse of push_delta_of_delta; None past the end")
}

/// Appends a value as its XOR with the column's previous one.
fn push_xor(writer: &mut BitWriter, state: &mut XorState, bits: u64) {
    todo!(
        "stage 4: '0' for the same value; '10' and the meaningful bits when they fit the previous window; '11', 5 bits of leading zeros, 6 of length, the bits"
    )
}

/// Reads a value back into `state.previous`.
fn read_xor(reader: &mut BitReader<'_>, state: &mut XorState) -> Option<()> {
    todo!("stage 4: the inverse of push_xor; None past the end or on a window that cannot be")
}
