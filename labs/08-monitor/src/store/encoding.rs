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
#[allow(clippy::ptr_arg)]
pub(crate) fn begin_record(out: &mut Vec<u8>) -> usize {
    todo!("stage 4: reserve the 8-byte header")
}

/// Fills the header of the record begun at `start` with its length and CRC.
///
/// # Panics
///
/// When the payload is 4 GiB or more: callers keep records far smaller.
pub(crate) fn end_record(out: &mut [u8], start: usize) {
    todo!("stage 4: fill in the length and the CRC-32")
}

/// The CRC-32 of a record's length and payload.
pub(crate) fn checksum(len: u32, payload: &[u8]) -> u32 {
    todo!("stage 4: crc32fast over the length's 4 bytes and the payload")
}

/// The payloads of the records in `bytes`, up to the first torn or damaged one, and where the good
/// records end.
pub(crate) fn scan_records(bytes: &[u8]) -> (Vec<Range<usize>>, usize) {
    todo!("stage 4: records while a whole header, a whole payload and a matching CRC are there")
}

/// Appends a string: its length as a varint, then its bytes.
#[allow(clippy::ptr_arg)]
pub(crate) fn put_str(out: &mut Vec<u8>, text: &str) {
    todo!("stage 4: a varint length, then the bytes")
}

/// Appends a series: host, metric, kind (0 gauge, 1 counter), tag count, then each tag's name and
/// value.
#[allow(clippy::ptr_arg)]
pub(crate) fn put_series(out: &mut Vec<u8>, key: &SeriesKey, kind: Kind) {
    todo!("stage 4: host, metric, kind, tag count, tags")
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
        todo!("stage 4: a cursor at the start")
    }

    /// Whether every byte was read.
    pub(crate) fn is_done(&self) -> bool {
        todo!("stage 4: every byte read")
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        todo!("stage 4: bytes left")
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        todo!("stage 4: the next `len` bytes, if there are that many")
    }

    /// The next byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        todo!("stage 4: the next byte")
    }

    /// The next 8 bytes as a little-endian `i64`.
    pub(crate) fn i64(&mut self) -> Option<i64> {
        todo!("stage 4: the next 8 bytes, little-endian")
    }

    /// The next 8 bytes as a little-endian IEEE 754 double.
    pub(crate) fn f64(&mut self) -> Option<f64> {
        todo!("stage 4: the next 8 bytes as IEEE 754 bits")
    }

    /// The next varint (at most 10 bytes).
    pub(crate) fn varint(&mut self) -> Option<u64> {
        todo!("stage 4: at most 10 bytes")
    }

    /// The next varint, when it is at most `max`.
    pub(crate) fn count(&mut self, max: usize) -> Option<usize> {
        todo!("stage 4: a varint no larger than `max`")
    }

    /// The next string.
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        todo!("stage 4: a varint length, then UTF-8")
    }

    /// The next series, as [`put_series`] wrote it.
    pub(crate) fn series(&mut self) -> Option<(SeriesKey, Kind)> {
        todo!("stage 4: as put_series wrote it, never trusting a count beyond the bytes left")
    }
}
