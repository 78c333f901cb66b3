//! The integers of the batch codec: LEB128 varints, zigzag for signed values, and [`Cursor`], which
//! reads a payload front to back with every read checked against what is left.
//!
//! A varint spends one byte per 7 bits of the value, low bits first, with the high bit of every
//! byte but the last set: `0..128` is one byte, a table index under 16384 two, a timestamp in
//! milliseconds six. Zigzag maps a signed value to an unsigned one so that a small difference of
//! either sign stays small: 0, -1, 1, -2, 2 become 0, 1, 2, 3, 4.

use super::error::WireError;

/// The longest varint: 64 bits at 7 a byte.
pub(crate) const MAX_VARINT_LEN: usize = 10;

/// Appends `value` as a varint of 1 to 10 bytes.
// Until it is written, `out` is only passed through, which clippy would rather see as a slice.
#[allow(clippy::ptr_arg)]
pub(crate) fn put_varint(out: &mut Vec<u8>, value: u64) {
    todo!("stage 2: 7 bits a byte, low bits first, the high bit set on every byte but the last")
}

/// `value` zigzag-encoded: small magnitudes of either sign give small numbers.
pub(crate) fn zigzag(value: i64) -> u64 {
    todo!("stage 2: (value << 1) ^ (value >> 63), as a u64")
}

/// The inverse of [`zigzag`].
pub(crate) fn unzigzag(value: u64) -> i64 {
    todo!("stage 2: the inverse of zigzag")
}

// TODO(stage 2): the integers every payload is made of, and a cursor that can never read
// past the end: each read checks what is left first.
/// A read position in a payload; each read fails with the offset it needed, never panics.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    /// The whole payload.
    bytes: &'a [u8],
    /// The offset of the next byte to read.
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    /// The offset of the next byte to read, for error messages.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        todo!("stage 2: the next byte, or Truncated at the payload's length")
    }

    /// A varint.
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        todo!("stage 2: at most 10 bytes; BadVarint when longer or over 64 bits")
    }

    /// A varint that must be at most `max`; `what` names it in the error.
    pub(crate) fn bounded(&mut self, what: &'static str, max: u64) -> Result<u64, WireError> {
        todo!("stage 2: a varint, OverLimit when it is over max")
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        todo!("stage 2: check len against what is left before slicing")
    }

    /// A string: its length as a varint (at most `max`), then its UTF-8 bytes.
    pub(crate) fn str(&mut self, max: usize) -> Result<&'a str, WireError> {
        todo!("stage 2: a length of at most max, then that many bytes of UTF-8")
    }

    /// A little-endian IEEE 754 double, NaN and infinities included.
    pub(crate) fn f64(&mut self) -> Result<f64, WireError> {
        todo!("stage 2: 8 bytes, little-endian")
    }

    /// Succeeds when every byte was read.
    pub(crate) fn finish(&self) -> Result<(), WireError> {
        todo!("stage 2: Trailing unless every byte was read")
    }
}
