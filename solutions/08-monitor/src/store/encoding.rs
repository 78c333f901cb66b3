//! How the store's files put things into bytes: the *record* frame that the write-ahead log and
//! the checkpoint share (its length, its CRC-32, its bytes), varints and zigzag, strings and series
//! keys, and a [`Cursor`] that reads them back and never reads past its end.
//!
//! | record field | encoding |
//! |---|---|
//! | length | `u32`, little-endian: the payload's bytes |
//! | CRC-32 | `u32`, little-endian, of the length's four bytes and the payload |
//! | payload | a type byte, then the fields of its type |
//!
//! The CRC covers the length too, so a run of zeros (what a crash can leave at a file's end) is
//! not a record of length 0, and a damaged length cannot send the scan into the middle of
//! another record unnoticed.

use std::ops::Range;

use crate::point::{Kind, SeriesKey, Tags};
pub(crate) use crate::wire::varint::{put_varint, unzigzag, zigzag};

/// A record's header: its length and its CRC-32.
pub(crate) const RECORD_HEADER: usize = 8;

/// Starts a record at the end of `out`: a header to be filled by [`end_record`].
pub(crate) fn begin_record(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; RECORD_HEADER]);
    start
}

/// Fills the header of the record begun at `start` with its length and CRC.
///
/// # Panics
///
/// When the payload is 4 GiB or more: callers keep records far smaller.
pub(crate) fn end_record(out: &mut [u8], start: usize) {
    let payload = &out[start + RECORD_HEADER..];
    let len = u32::try_from(payload.len()).expect("a record under 4 GiB");
    let crc = checksum(len, payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The CRC-32 of a record's length and payload.
pub(crate) fn checksum(len: u32, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// The payloads of the records in `bytes`, up to the first torn or damaged one, and where the good
/// records end.
pub(crate) fn scan_records(bytes: &[u8]) -> (Vec<Range<usize>>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= RECORD_HEADER {
        let len = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let crc = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        let start = at + RECORD_HEADER;
        let Some(end) = start.checked_add(len as usize).filter(|&end| end <= bytes.len()) else {
            break;
        };
        if checksum(len, &bytes[start..end]) != crc {
            break;
        }
        records.push(start..end);
        at = end;
    }
    (records, at)
}

/// Appends a string: its length as a varint, then its bytes.
pub(crate) fn put_str(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}

/// Appends bytes: their length as a varint, then them.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a series: host, metric, kind (0 gauge, 1 counter), tag count, then each tag's name and
/// value.
pub(crate) fn put_series(out: &mut Vec<u8>, key: &SeriesKey, kind: Kind) {
    put_str(out, &key.host);
    put_str(out, &key.metric);
    out.push(match kind {
        Kind::Gauge => 0,
        Kind::Counter => 1,
    });
    put_varint(out, key.tags.len() as u64);
    for (name, value) in &key.tags {
        put_str(out, name);
        put_str(out, value);
    }
}

/// Reads fields from bytes; every method is `None` past the end or on a malformed field.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    /// The bytes.
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    /// Whether every byte was read.
    pub(crate) fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len).filter(|&end| end <= self.bytes.len())?;
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Some(bytes)
    }

    /// The next byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|bytes| bytes[0])
    }

    /// The next 8 bytes as a little-endian `i64`.
    pub(crate) fn i64(&mut self) -> Option<i64> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.bytes(8)?);
        Some(i64::from_le_bytes(raw))
    }

    /// The next 8 bytes as a little-endian IEEE 754 double.
    pub(crate) fn f64(&mut self) -> Option<f64> {
        self.i64().map(|bits| f64::from_bits(bits as u64))
    }

    /// The next varint (at most 10 bytes).
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = self.u8()?;
            if i == 9 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    /// The next varint, when it is at most `max`.
    pub(crate) fn count(&mut self, max: usize) -> Option<usize> {
        self.varint().and_then(|n| usize::try_from(n).ok()).filter(|&n| n <= max)
    }

    /// The next string.
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.prefixed()?).ok()
    }

    /// The next bytes [`put_bytes`] wrote.
    pub(crate) fn prefixed(&mut self) -> Option<&'a [u8]> {
        let len = self.count(self.remaining())?;
        self.bytes(len)
    }

    /// The next series, as [`put_series`] wrote it.
    pub(crate) fn series(&mut self) -> Option<(SeriesKey, Kind)> {
        let host = self.str()?.to_owned();
        let metric = self.str()?.to_owned();
        let kind = match self.u8()? {
            0 => Kind::Gauge,
            1 => Kind::Counter,
            _ => return None,
        };
        // A tag takes at least two bytes: the count cannot ask for more than the bytes left.
        let count = self.count(self.remaining() / 2)?;
        let mut tags = Tags::new();
        for _ in 0..count {
            let name = self.str()?.to_owned();
            let value = self.str()?.to_owned();
            tags.insert(name, value);
        }
        Some((SeriesKey { host, metric, tags }, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_cut_at_the_first_damaged_one() {
        let mut bytes = Vec::new();
        for payload in [&b"one"[..], b"", b"three"] {
            let start = begin_record(&mut bytes);
            bytes.extend_from_slice(payload);
            end_record(&mut bytes, start);
        }
        let (records, end) = scan_records(&bytes);
        assert_eq!(records.len(), 3);
        assert_eq!(end, bytes.len());
        bytes[RECORD_HEADER + 3 + 1] ^= 1;
        let (records, end) = scan_records(&bytes);
        assert_eq!((records.len(), end), (1, RECORD_HEADER + 3));
    }

    #[test]
    fn series_and_numbers_read_back() {
        let key = SeriesKey {
            host: "web-01".into(),
            metric: "cpu.busy".into(),
            tags: [("cpu".to_owned(), "3".to_owned())].into(),
        };
        let mut out = Vec::new();
        put_series(&mut out, &key, Kind::Counter);
        put_varint(&mut out, zigzag(-5));
        put_varint(&mut out, u64::MAX);
        let mut cursor = Cursor::new(&out);
        assert_eq!(cursor.series(), Some((key, Kind::Counter)));
        assert_eq!(cursor.varint().map(unzigzag), Some(-5));
        assert_eq!(cursor.varint(), Some(u64::MAX));
        assert!(cursor.is_done());
    }
}
