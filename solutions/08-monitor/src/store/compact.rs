//! The encoding of chunks at rest, in block files and the checkpoint: Gorilla's ideas taken two
//! steps further, as VictoriaMetrics does.
//!
//! Gorilla ([`super::gorilla`]) is the right shape for a chunk being appended to, a bit at a time,
//! and stays the head's. But a collector's values are decimals (`12.3`, `0.25`, a count of bytes)
//! and a decimal's binary fraction never ends, so the XOR of `12.3` and `12.4` has some forty
//! meaningful bits: Gorilla pays 6 to 7 bytes for a noisy CPU percentage. A chunk that is sealed
//! is written once and read as a whole, so here it is re-encoded:
//!
//! 1. **decimal conversion**: when every value of a column is an integer times 10⁻ᵉ (e at most 9),
//!    the column becomes those integers; `12.3, 12.4` are `123, 124`. A value a few units in the
//!    last place off its decimal (what rounding leaves in `100 − 45.23` or in a sum) keeps that
//!    *residual*, in a second stream of small numbers, mostly zeros;
//! 2. **the cheapest transform** of the integers, the one whose numbers are shortest: their
//!    offsets from the column's least (noise around a level), their deltas (values that drift), or
//!    their deltas of deltas (counters growing at a steady rate); a column that is not decimal is its one value, or keeps
//!    its IEEE bits, each XORed with the one before;
//! 3. **an entropy coder**, zstd through the `zstd` crate, over the varints of many chunks at once
//!    (a block file's run of chunks with [`compress`], a whole checkpoint with [`compress_file`]):
//!    runs of zeros and small numbers shrink to what they say, and what the series share (their
//!    timestamps, their levels) is paid for once.
//!
//! | field | encoding |
//! |---|---|
//! | header | form (`0`), row count (varint), column count (`u8`) |
//! | body | the timestamps: the first as a zigzag varint, then each delta of delta; then each column: a transform byte and its fields |
//! | column `0` constant | the value's IEEE bits (`u64`, little-endian) |
//! | columns `1`–`3` decimal | exponent `e` (`u8`), then for offsets the least integer (zigzag varint) and each offset (varint); for deltas and deltas of deltas the integers' transform, first value first (zigzag varints); then `0`, or `1` and each value's residual (zigzag varint) |
//! | column `4` floats | each value's bits XOR the previous ones (`u64`, big-endian: the zeros first) |
//!
//! Every value round-trips bit for bit: a column with a value that is no decimal (NaN, an infinity,
//! `−0.0`, a third) keeps the float transform. Decoding never
//! panics on any bytes, and never allocates more than a bound computed from the header.

use std::cell::RefCell;

use super::encoding::{Cursor, put_varint, unzigzag, zigzag};
use super::gorilla::{ChunkError, MAX_COLUMNS, Rows};

/// The header's form byte: the only one so far.
const PLAIN: u8 = 0;

/// The most rows a chunk at rest may have: far above any the store makes.
const MAX_ROWS: usize = 1 << 16;
/// zstd's level for a run of chunks, written once, by a checkpoint, off the ingest path, and
/// read many times: some 5 % smaller than zstd's default, level 3.
const FRAME_LEVEL: i32 = 9;
/// zstd's level for a whole checkpoint, which is written again at every checkpoint: some 5 %
/// smaller than zstd's default at 130 MB a second of input, on a background thread.
const FILE_LEVEL: i32 = 9;
/// The largest decimal exponent tried.
const MAX_EXPONENT: u32 = 9;
/// Integers beyond ±2⁵³ are not all exact as doubles.
const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0;
/// The most units in the last place a value may be from its decimal: rounding errors, not digits.
const MAX_RESIDUAL: u64 = 1 << 12;

/// A column's transform byte.
const CONSTANT: u8 = 0;
const OFFSETS: u8 = 1;
const DELTAS: u8 = 2;
const DELTAS_OF_DELTAS: u8 = 3;
const FLOATS: u8 = 4;

thread_local! {
    // A zstd context costs far more to make than a chunk costs to compress: one a thread.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Encodes `rows` (at most [`MAX_COLUMNS`] columns and 65,536 rows, as the store's are), to be
/// compressed with others: by [`compress`] or [`compress_file`].
pub(crate) fn encode_plain(rows: &Rows) -> Vec<u8> {
    let count = rows.times.len();
    let mut body = Vec::with_capacity(count * (rows.columns + 1) + 16);
    put_times(&mut body, &rows.times);
    let mut column = Vec::with_capacity(count);
    for at in 0..rows.columns {
        column.clear();
        column.extend(rows.values.iter().skip(at).step_by(rows.columns.max(1)).copied());
        put_column(&mut body, &column);
    }
    let mut out = Vec::with_capacity(body.len() + 8);
    out.push(PLAIN);
    put_varint(&mut out, count as u64);
    // The column count is at most MAX_COLUMNS: it fits a byte.
    out.push(rows.columns as u8);
    out.extend_from_slice(&body);
    out
}

/// Decodes a chunk [`encode_plain`] wrote.
///
/// # Errors
///
/// [`ChunkError`] when `bytes` are not such a chunk.
pub(crate) fn decode(bytes: &[u8]) -> Result<Rows, ChunkError> {
    let mut cursor = Cursor::new(bytes);
    let corrupt = ChunkError::Corrupt { row: 0 };
    if cursor.u8().ok_or(ChunkError::Short { len: bytes.len() })? != PLAIN {
        return Err(corrupt);
    }
    let count = cursor.count(MAX_ROWS).ok_or(corrupt.clone())?;
    let columns = cursor.u8().ok_or(corrupt.clone())?;
    if !(1..=MAX_COLUMNS).contains(&usize::from(columns)) {
        return Err(ChunkError::Columns { found: columns, expected: 1 });
    }
    let columns = usize::from(columns);
    let body = cursor.bytes(cursor.remaining()).unwrap_or_default();
    read_body(body, count, columns).ok_or(ChunkError::Corrupt { row: 0 })
}

/// The rows of a body of `count` rows of `columns` values.
fn read_body(body: &[u8], count: usize, columns: usize) -> Option<Rows> {
    let mut cursor = Cursor::new(body);
    let times = read_times(&mut cursor, count)?;
    let mut values = vec![0.0; count * columns];
    for at in 0..columns {
        let column = read_column(&mut cursor, count)?;
        for (row, value) in column.into_iter().enumerate() {
            values[row * columns + at] = value;
        }
    }
    cursor.is_done().then_some(Rows { columns, times, values })
}

/// Appends the timestamps: the first, then each delta of delta (wrapping, so any `i64`s do).
fn put_times(out: &mut Vec<u8>, times: &[i64]) {
    let (mut previous, mut delta) = (0i64, 0i64);
    for (row, &time) in times.iter().enumerate() {
        if row == 0 {
            put_varint(out, zigzag(time));
        } else {
            let next = time.wrapping_sub(previous);
            put_varint(out, zigzag(next.wrapping_sub(delta)));
            delta = next;
        }
        previous = time;
    }
}

/// Reads `count` timestamps [`put_times`] wrote.
fn read_times(cursor: &mut Cursor<'_>, count: usize) -> Option<Vec<i64>> {
    let mut times = Vec::with_capacity(count);
    let (mut time, mut delta) = (0i64, 0i64);
    for row in 0..count {
        let field = unzigzag(cursor.varint()?);
        if row == 0 {
            time = field;
        } else {
            delta = delta.wrapping_add(field);
            time = time.wrapping_add(delta);
        }
        times.push(time);
    }
    Some(times)
}

/// Appends a column in its cheapest transform.
fn put_column(out: &mut Vec<u8>, values: &[f64]) {
    let Some(Decimals { exponent, integers, residuals }) = decimals(values) else {
        if values.windows(2).all(|pair| pair[0].to_bits() == pair[1].to_bits()) {
            out.push(CONSTANT);
            out.extend_from_slice(&values.first().copied().unwrap_or(0.0).to_bits().to_le_bytes());
            return;
        }
        out.push(FLOATS);
        let mut previous = 0u64;
        for value in values {
            out.extend_from_slice(&(value.to_bits() ^ previous).to_be_bytes());
            previous = value.to_bits();
        }
        return;
    };
    // The transform whose numbers are shortest in bits: about what the entropy coder will make of
    // them (compressing each candidate to see costs twenty times more, for 2 % fewer bytes).
    let transform = [OFFSETS, DELTAS, DELTAS_OF_DELTAS]
        .into_iter()
        .min_by_key(|&transform| fields(transform, &integers).map(bits).sum::<u64>())
        .unwrap_or(DELTAS);
    out.push(transform);
    out.push(exponent as u8);
    for field in fields(transform, &integers) {
        put_varint(out, field);
    }
    match residuals {
        None => out.push(0),
        Some(residuals) => {
            out.push(1);
            for residual in residuals {
                put_varint(out, zigzag(residual));
            }
        }
    }
}

/// Reads `count` values of a column [`put_column`] wrote.
fn read_column(cursor: &mut Cursor<'_>, count: usize) -> Option<Vec<f64>> {
    let transform = cursor.u8()?;
    match transform {
        CONSTANT => {
            let value = f64::from_bits(cursor.i64()? as u64);
            Some(vec![value; count])
        }
        FLOATS => {
            let mut previous = 0u64;
            let mut values = Vec::with_capacity(count);
            for _ in 0..count {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(cursor.bytes(8)?);
                previous ^= u64::from_be_bytes(raw);
                values.push(f64::from_bits(previous));
            }
            Some(values)
        }
        OFFSETS | DELTAS | DELTAS_OF_DELTAS => {
            let exponent = u32::from(cursor.u8()?);
            if exponent > MAX_EXPONENT {
                return None;
            }
            let scale = 10f64.powi(exponent as i32);
            let mut values: Vec<f64> = read_integers(cursor, transform, count)?
                .into_iter()
                .map(|integer| integer as f64 / scale)
                .collect();
            match cursor.u8()? {
                0 => {}
                1 => {
                    for value in &mut values {
                        let residual = unzigzag(cursor.varint()?);
                        *value = f64::from_bits((value.to_bits() as i64).wrapping_add(residual) as u64);
                    }
                }
                _ => return None,
            }
            Some(values)
        }
        _ => None,
    }
}

/// A column as decimals: `integer / 10^exponent`, moved by `residual` units in the last place.
struct Decimals {
    /// The exponent.
    exponent: u32,
    /// The integers.
    integers: Vec<i64>,
    /// How far each value's bits are from its decimal's, when any is.
    residuals: Option<Vec<i64>>,
}

/// The least exponent `e` with every value within [`MAX_RESIDUAL`] units in the last place of an
/// integer over 10ᵉ (exactly, mostly: `12.3` is `123 / 10`; a sum's rounding errors make
/// `369.00000000000006`, `369` and one unit), or `None` when there is none: the values are not a
/// collector's decimals.
fn decimals(values: &[f64]) -> Option<Decimals> {
    let mut integers = Vec::with_capacity(values.len());
    let mut residuals = Vec::with_capacity(values.len());
    'exponent: for exponent in 0..=MAX_EXPONENT {
        let scale = 10f64.powi(exponent as i32);
        integers.clear();
        residuals.clear();
        for &value in values {
            let rounded = (value * scale).round();
            if !value.is_finite() || rounded.abs() >= MAX_MANTISSA {
                continue 'exponent;
            }
            // |rounded| < 2⁵³: exact as an i64. The decoder divides the i64, so this does too
            // (−0.0 becomes 0, whose bits are 2⁶³ units away: no decimal).
            let integer = rounded as i64;
            let residual = (value.to_bits() as i64).wrapping_sub((integer as f64 / scale).to_bits() as i64);
            if residual.unsigned_abs() > MAX_RESIDUAL {
                continue 'exponent;
            }
            integers.push(integer);
            residuals.push(residual);
        }
        let residuals = residuals.iter().any(|&residual| residual != 0).then_some(residuals);
        return Some(Decimals { exponent, integers, residuals });
    }
    None
}

/// The numbers `integers` are written as in `transform`: for offsets, the least (zigzag) and each
/// one's offset from it; for deltas and deltas of deltas, the first (zigzag) and each change (zigzag).
fn fields(transform: u8, integers: &[i64]) -> impl Iterator<Item = u64> + '_ {
    let least = integers.iter().copied().min().unwrap_or(0);
    let offsets = (transform == OFFSETS).then(|| {
        // Both within ±2⁵³: the difference fits.
        std::iter::once(zigzag(least)).chain(integers.iter().map(move |&integer| (integer - least) as u64))
    });
    let changes = (transform != OFFSETS).then(|| {
        let (mut previous, mut delta) = (0i64, 0i64);
        integers.iter().enumerate().map(move |(row, &integer)| {
            let next = integer - previous;
            let field = if transform == DELTAS || row < 2 { next } else { next - delta };
            previous = integer;
            delta = next;
            zigzag(if row == 0 { integer } else { field })
        })
    });
    offsets.into_iter().flatten().chain(changes.into_iter().flatten())
}

/// The significant bits of a field, and one for 0: what it costs, give or take, once entropy-coded.
fn bits(field: u64) -> u64 {
    u64::from(65 - field.leading_zeros()).min(64)
}

/// Reads `count` integers in `transform` (wrapping: damaged bytes give wrong numbers, never a
/// panic).
fn read_integers(cursor: &mut Cursor<'_>, transform: u8, count: usize) -> Option<Vec<i64>> {
    let mut integers = Vec::with_capacity(count);
    if transform == OFFSETS {
        let least = unzigzag(cursor.varint()?);
        for _ in 0..count {
            integers.push(least.wrapping_add(cursor.varint()? as i64));
        }
        return Some(integers);
    }
    let (mut previous, mut delta) = (0i64, 0i64);
    for row in 0..count {
        let field = unzigzag(cursor.varint()?);
        let integer = match row {
            0 => field,
            1 => field.wrapping_add(previous),
            _ if transform == DELTAS => field.wrapping_add(previous),
            _ => field.wrapping_add(delta).wrapping_add(previous),
        };
        delta = integer.wrapping_sub(previous);
        previous = integer;
        integers.push(integer);
    }
    Some(integers)
}

/// A whole file's bytes as a zstd stream (the checkpoint: written once, read once).
///
/// # Errors
///
/// The reason when zstd cannot (short of memory).
pub(crate) fn compress_file(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::stream::encode_all(bytes, FILE_LEVEL)
}

/// A file [`compress_file`] wrote, as much of it as decompresses (all of it, unless it is
/// damaged: then what comes before the damage); bytes that are not a zstd stream as they are.
pub(crate) fn decompress_file(bytes: &[u8]) -> Vec<u8> {
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    if !bytes.starts_with(&ZSTD_MAGIC) {
        return bytes.to_vec();
    }
    let mut out = Vec::new();
    if let Ok(mut decoder) = zstd::stream::read::Decoder::new(bytes) {
        // An error ends the stream where the damage is; what came before it is kept.
        let _ = std::io::Read::read_to_end(&mut decoder, &mut out);
    }
    out
}

/// `bytes` (a run of chunks [`encode_plain`] wrote, one after another) as one zstd frame, which
/// [`decompress`] gives back whole.
///
/// # Errors
///
/// The reason when zstd cannot (short of memory).
pub(crate) fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Compressor::new(FRAME_LEVEL)?);
        }
        match cell.as_mut() {
            Some(compressor) => compressor.compress(bytes),
            None => Err(std::io::Error::other("no zstd compressor")),
        }
    })
}

/// The bytes of a zstd frame [`compress`] wrote, when they are whole and at most `limit`; `None`
/// for any other bytes, never a panic.
pub(crate) fn decompress(frame: &[u8], limit: usize) -> Option<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = zstd::bulk::Decompressor::new().ok();
        }
        cell.as_mut()?.decompress(frame, limit).ok()
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn one_column(times: Vec<i64>, values: Vec<f64>) -> Rows {
        Rows { columns: 1, times, values }
    }

    fn same_bits(a: &Rows, b: &Rows) -> bool {
        a.columns == b.columns
            && a.times == b.times
            && a.values.len() == b.values.len()
            && a.values.iter().zip(&b.values).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn decimals_become_small_integers_and_shrink() {
        let times: Vec<i64> = (0..720).map(|i| 1_700_000_000_000 + i * 10_000).collect();
        let noisy: Vec<f64> = (0..720).map(|i| ((i * 37 % 101) as f64 + 200.0) / 10.0).collect();
        let rows = one_column(times.clone(), noisy);
        let bytes = encode_plain(&rows);
        assert!(same_bits(&decode(&bytes).unwrap(), &rows));
        // Gorilla spends 6 to 7 bytes on each such value; one decimal of noise is under a byte.
        let compressed = compress(&bytes).unwrap();
        assert!(compressed.len() < 720, "{} bytes", compressed.len());
        let flat = one_column(times, vec![42.5; 720]);
        assert!(compress(&encode_plain(&flat)).unwrap().len() < 40);
    }

    #[test]
    fn a_run_of_chunks_compresses_together_and_reads_back_one_by_one() {
        let times: Vec<i64> = (0..720).map(|i| 1_700_000_000_000 + i * 10_000).collect();
        let chunks: Vec<Vec<u8>> = (0..16)
            .map(|series| {
                let values = (0..720).map(|i| f64::from((i * 37 + series * 11) % 101) / 10.0).collect();
                encode_plain(&one_column(times.clone(), values))
            })
            .collect();
        let run = chunks.concat();
        let frame = compress(&run).unwrap();
        let alone: usize = chunks.iter().map(|chunk| compress(chunk).unwrap().len()).sum();
        assert!(frame.len() < alone, "together {} bytes, one by one {alone}", frame.len());
        let back = decompress(&frame, run.len()).unwrap();
        assert_eq!(back, run);
        assert_eq!(decompress(&frame, run.len() - 1), None);
        assert_eq!(decompress(&frame[..frame.len() - 1], run.len()), None);
        assert_eq!(decode(&back[..chunks[0].len()]).unwrap().times, times);
    }

    #[test]
    fn counters_and_awkward_values_round_trip() {
        let counter: Vec<f64> = (0..500).map(|i| (1_000_000 + i * 250 + i % 7) as f64).collect();
        let times: Vec<i64> = (0..500).collect();
        let rows = one_column(times, counter);
        assert!(same_bits(&decode(&encode_plain(&rows)).unwrap(), &rows));
        let awkward = vec![-0.0, 0.1 + 0.2, f64::NAN, f64::INFINITY, 1e300, f64::MIN_POSITIVE];
        let rows = one_column(vec![5, 3, 9, -1, i64::MAX, i64::MIN], awkward);
        assert!(same_bits(&decode(&encode_plain(&rows)).unwrap(), &rows));
        let empty = one_column(Vec::new(), Vec::new());
        assert!(same_bits(&decode(&encode_plain(&empty)).unwrap(), &empty));
    }

    proptest! {
        #[test]
        fn any_rows_round_trip_bit_for_bit(
            columns in 1usize..=5,
            rows in prop::collection::vec((any::<i64>(), prop::collection::vec(
                prop_oneof![any::<f64>(), (-100_000i64..100_000).prop_map(|n| n as f64 / 100.0)], 5)), 0..200),
        ) {
            let rows = Rows {
                columns,
                times: rows.iter().map(|(time, _)| *time).collect(),
                values: rows.iter().flat_map(|(_, values)| values[..columns].to_vec()).collect(),
            };
            let decoded = decode(&encode_plain(&rows)).map_err(|err| TestCaseError::fail(err.to_string()))?;
            prop_assert!(same_bits(&decoded, &rows));
        }

        #[test]
        fn any_bytes_decode_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
            let _ = decompress(&bytes, 4096);
        }

        #[test]
        fn damaged_chunks_decode_without_panicking(at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let values: Vec<f64> = (0..300).map(|i| f64::from(i % 17) / 4.0).collect();
            let mut bytes = encode_plain(&one_column((0..300).collect(), values));
            let at = at.index(bytes.len());
            bytes[at] ^= 1 << bit;
            let _ = decode(&bytes);
        }
    }
}
