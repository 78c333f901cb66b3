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
    assert!(u32::try_from(points.len()).is_ok(), "a chunk holds at most u32::MAX points");
    let mut encoder = ChunkEncoder::new(1);
    for &(time, value) in points {
        encoder.push(time, &[value]);
    }
    encoder.finish()
}

/// Decodes a one-column chunk.
///
/// # Errors
///
/// A [`ChunkError`] for any bytes that are not one: no input panics, and none makes it allocate
/// more than its bits could hold.
pub fn decode(bytes: &[u8]) -> Result<Vec<(Millis, f64)>, ChunkError> {
    let rows = decode_rows(bytes)?;
    if rows.columns != 1 {
        return Err(ChunkError::Columns { found: rows.columns as u8, expected: 1 });
    }
    Ok(rows.times.into_iter().zip(rows.values).collect())
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
        debug_assert!((1..=MAX_COLUMNS).contains(&columns));
        let mut header = [0u8; CHUNK_HEADER];
        header[4] = columns as u8;
        ChunkEncoder {
            writer: BitWriter::with_prefix(&header),
            rows: 0,
            time: 0,
            delta: 0,
            columns: vec![XorState::default(); columns],
        }
    }

    /// Appends a row; `values` has one value a column.
    pub(crate) fn push(&mut self, time: Millis, values: &[f64]) {
        debug_assert_eq!(values.len(), self.columns.len());
        if self.rows == 0 {
            self.writer.push(time as u64, 64);
            for (state, value) in self.columns.iter_mut().zip(values) {
                state.previous = value.to_bits();
                self.writer.push(state.previous, 64);
            }
        } else {
            let delta = time.wrapping_sub(self.time);
            push_delta_of_delta(&mut self.writer, delta.wrapping_sub(self.delta));
            self.delta = delta;
            for (state, value) in self.columns.iter_mut().zip(values) {
                push_xor(&mut self.writer, state, value.to_bits());
            }
        }
        self.time = time;
        self.rows += 1;
    }

    /// Rows written.
    pub(crate) fn rows(&self) -> u32 {
        self.rows
    }

    /// The chunk as it stands: its bytes with the row count in the header. Rows can still be
    /// pushed after.
    pub(crate) fn finish(&self) -> Vec<u8> {
        let mut bytes = self.writer.bytes().to_vec();
        bytes[..4].copy_from_slice(&self.rows.to_le_bytes());
        bytes
    }

    /// Patches the row count into the header and gives the bytes up.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        let mut bytes = self.writer.into_bytes();
        bytes[..4].copy_from_slice(&self.rows.to_le_bytes());
        bytes
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
    let Some(header) = bytes.get(..CHUNK_HEADER) else {
        return Err(ChunkError::Short { len: bytes.len() });
    };
    let rows = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let columns = usize::from(header[4]);
    if !(1..=MAX_COLUMNS).contains(&columns) {
        return Err(ChunkError::Columns { found: header[4], expected: 1 });
    }
    let mut reader = BitReader::new(bytes, CHUNK_HEADER as u64 * 8);
    // The first row takes 64 bits a field, every later one at least a bit a field.
    let fields = columns as u64 + 1;
    let least = if rows == 0 { 0 } else { 64 * fields + (u64::from(rows) - 1) * fields };
    if least > reader.remaining() {
        return Err(ChunkError::TooManyRows { rows, bits: reader.remaining() });
    }
    let mut times = Vec::with_capacity(rows as usize);
    let mut values = Vec::with_capacity(rows as usize * columns);
    let mut states = vec![XorState::default(); columns];
    let (mut time, mut delta) = (0i64, 0i64);
    for row in 0..rows {
        let corrupt = ChunkError::Corrupt { row };
        if row == 0 {
            time = reader.read(64).ok_or(corrupt.clone())? as i64;
            for state in &mut states {
                state.previous = reader.read(64).ok_or(corrupt.clone())?;
            }
        } else {
            delta = delta.wrapping_add(read_delta_of_delta(&mut reader).ok_or(corrupt.clone())?);
            time = time.wrapping_add(delta);
            for state in &mut states {
                read_xor(&mut reader, state).ok_or(corrupt.clone())?;
            }
        }
        times.push(time);
        values.extend(states.iter().map(|state| f64::from_bits(state.previous)));
    }
    Ok(Rows { columns, times, values })
}

/// The delta-of-delta buckets after the `0` for 0: prefix, its width, and the field's width.
const BUCKETS: [(u64, u32, u32); 4] = [(0b10, 2, 7), (0b110, 3, 9), (0b1110, 4, 12), (0b11110, 5, 32)];

/// Appends a timestamp's delta of delta.
fn push_delta_of_delta(writer: &mut BitWriter, dod: i64) {
    if dod == 0 {
        writer.push_bit(false);
        return;
    }
    for (prefix, prefix_width, width) in BUCKETS {
        let high = 1i64 << (width - 1);
        if (-(high - 1)..=high).contains(&dod) {
            writer.push(prefix, prefix_width);
            writer.push(dod as u64 & ((1u64 << width) - 1), width);
            return;
        }
    }
    writer.push(0b11111, 5);
    writer.push(dod as u64, 64);
}

/// Reads a delta of delta back.
fn read_delta_of_delta(reader: &mut BitReader<'_>) -> Option<i64> {
    if !reader.read_bit()? {
        return Some(0);
    }
    for (_, _, width) in BUCKETS {
        if !reader.read_bit()? {
            let field = reader.read(width)?;
            let high = 1u64 << (width - 1);
            // Two's complement in `width` bits, but for `high` itself, which stands for +high.
            return Some(if field > high { field as i64 - (1i64 << width) } else { field as i64 });
        }
    }
    reader.read(64).map(|field| field as i64)
}

/// Appends a value as its XOR with the column's previous one.
fn push_xor(writer: &mut BitWriter, state: &mut XorState, bits: u64) {
    let xor = bits ^ state.previous;
    state.previous = bits;
    if xor == 0 {
        writer.push_bit(false);
        return;
    }
    writer.push_bit(true);
    // 5 bits hold at most 31 leading zeros; any more are sent as meaningful bits.
    let leading = xor.leading_zeros().min(31);
    let trailing = xor.trailing_zeros();
    match state.window {
        Some((lead, trail)) if leading >= lead && trailing >= trail => {
            writer.push_bit(false);
            writer.push(xor >> trail, 64 - lead - trail);
        }
        _ => {
            let width = 64 - leading - trailing;
            writer.push_bit(true);
            writer.push(u64::from(leading), 5);
            writer.push(u64::from(width % 64), 6);
            writer.push(xor >> trailing, width);
            state.window = Some((leading, trailing));
        }
    }
}

/// Reads a value back into `state.previous`.
fn read_xor(reader: &mut BitReader<'_>, state: &mut XorState) -> Option<()> {
    if !reader.read_bit()? {
        return Some(());
    }
    let xor = if !reader.read_bit()? {
        let (lead, trail) = state.window?;
        reader.read(64 - lead - trail)? << trail
    } else {
        let lead = reader.read(5)? as u32;
        let width = match reader.read(6)? as u32 {
            0 => 64,
            width => width,
        };
        if lead + width > 64 {
            return None;
        }
        let trail = 64 - lead - width;
        state.window = Some((lead, trail));
        reader.read(width)? << trail
    };
    state.previous ^= xor;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_delta_of_delta_bucket_round_trips_at_its_edges() {
        let edges = [0, 1, -1, 64, -63, 65, -64, 256, -255, 257, -256, 2048, -2047, 2049, -2048];
        let more = [1i64 << 31, -(1i64 << 31) + 1, 1i64 << 31 | 1, i64::MIN, i64::MAX];
        let mut writer = BitWriter::default();
        for &dod in edges.iter().chain(&more) {
            push_delta_of_delta(&mut writer, dod);
        }
        let mut reader = BitReader::new(writer.bytes(), 0);
        for &dod in edges.iter().chain(&more) {
            assert_eq!(read_delta_of_delta(&mut reader), Some(dod));
        }
    }

    #[test]
    fn multi_column_rows_round_trip() {
        let mut encoder = ChunkEncoder::new(5);
        for i in 0..50 {
            let x = i as f64;
            encoder.push(i * 300_000, &[30.0, x * 30.0, x - 1.0, x + 1.0, x]);
        }
        let rows = decode_rows(&encoder.finish()).unwrap();
        assert_eq!(rows.columns, 5);
        assert_eq!(rows.times.len(), 50);
        assert_eq!(rows.values[5 * 49..], [30.0, 49.0 * 30.0, 48.0, 50.0, 49.0]);
        assert_eq!(decode_rows(&encoder.into_bytes()).unwrap(), rows);
    }
}
