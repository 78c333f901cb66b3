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
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `value` zigzag-encoded: small magnitudes of either sign give small numbers.
pub(crate) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// The inverse of [`zigzag`].
pub(crate) fn unzigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

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
        let byte = *self.bytes.get(self.at).ok_or(WireError::Truncated { at: self.bytes.len() })?;
        self.at += 1;
        Ok(byte)
    }

    /// A varint.
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.at;
        let mut value = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let byte = self.u8()?;
            // The tenth byte holds the 64th bit only.
            if i == MAX_VARINT_LEN - 1 && byte > 1 {
                return Err(WireError::BadVarint { at: start });
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError::BadVarint { at: start })
    }

    /// A varint that must be at most `max`; `what` names it in the error.
    pub(crate) fn bounded(&mut self, what: &'static str, max: u64) -> Result<u64, WireError> {
        let at = self.at;
        let value = self.varint()?;
        if value > max {
            return Err(WireError::OverLimit { what, value, max, at });
        }
        Ok(value)
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if len > self.remaining() {
            return Err(WireError::Truncated { at: self.bytes.len() });
        }
        let bytes = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(bytes)
    }

    /// A string: its length as a varint (at most `max`), then its UTF-8 bytes.
    pub(crate) fn str(&mut self, max: usize) -> Result<&'a str, WireError> {
        let len = self.bounded("string length", max as u64)? as usize;
        let at = self.at;
        let bytes = self.bytes(len)?;
        std::str::from_utf8(bytes).map_err(|_| WireError::BadUtf8 { at })
    }

    /// A little-endian IEEE 754 double, NaN and infinities included.
    pub(crate) fn f64(&mut self) -> Result<f64, WireError> {
        let bytes = self.bytes(8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(bytes);
        Ok(f64::from_le_bytes(raw))
    }

    /// Succeeds when every byte was read.
    pub(crate) fn finish(&self) -> Result<(), WireError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(WireError::Trailing { at: self.at, extra }),
        }
    }
}
