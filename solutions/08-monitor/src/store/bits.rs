//! Bit streams: [`BitWriter`] appends fields of any width from 1 to 64 bits, most significant bit
//! first, and [`BitReader`] reads them back, saying `None` instead of reading past the end.
//!
//! The Gorilla codec ([`super::gorilla`]) is built on these two: a timestamp that follows the step
//! costs one bit, so the stream cannot be made of bytes.

/// A growing stream of bits; the last byte is filled from its high bit down.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    /// The bytes, the last one possibly part filled.
    bytes: Vec<u8>,
    /// How many bits of `bytes` are used.
    bits: u64,
}

impl BitWriter {
    /// A stream starting with the whole bytes `prefix` (a header patched later).
    pub(crate) fn with_prefix(prefix: &[u8]) -> BitWriter {
        BitWriter { bytes: prefix.to_vec(), bits: prefix.len() as u64 * 8 }
    }

    /// Appends the low `width` bits of `value` (`width` from 0 to 64), highest first.
    pub(crate) fn push(&mut self, value: u64, width: u32) {
        debug_assert!(width <= 64);
        let mut left = width;
        while left > 0 {
            let used = (self.bits % 8) as u32;
            if used == 0 {
                self.bytes.push(0);
            }
            let free = 8 - used;
            let take = free.min(left);
            // The `take` bits of `value` just below the `left - take` still to come.
            let chunk = (value >> (left - take)) & ((1u64 << take) - 1);
            let last = self.bytes.len() - 1;
            self.bytes[last] |= (chunk as u8) << (free - take);
            left -= take;
            self.bits += u64::from(take);
        }
    }

    /// Appends one bit.
    pub(crate) fn push_bit(&mut self, bit: bool) {
        self.push(u64::from(bit), 1);
    }

    /// The bytes so far (the last one padded with zeros).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, given up.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads fields back from bytes a [`BitWriter`] wrote; every read past the end is `None`.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    /// The bytes.
    bytes: &'a [u8],
    /// The next bit to read.
    at: u64,
}

impl<'a> BitReader<'a> {
    /// A reader of `bytes` from bit `at`.
    pub(crate) fn new(bytes: &'a [u8], at: u64) -> BitReader<'a> {
        BitReader { bytes, at }
    }

    /// How many bits are left.
    pub(crate) fn remaining(&self) -> u64 {
        (self.bytes.len() as u64 * 8).saturating_sub(self.at)
    }

    /// The next `width` bits (0 to 64) as the low bits of a `u64`, or `None` when fewer are left.
    pub(crate) fn read(&mut self, width: u32) -> Option<u64> {
        if width > 64 || u64::from(width) > self.remaining() {
            return None;
        }
        let mut value = 0u64;
        let mut left = width;
        while left > 0 {
            let byte = self.bytes[(self.at / 8) as usize];
            let used = (self.at % 8) as u32;
            let free = 8 - used;
            let take = free.min(left);
            let chunk = (u64::from(byte) >> (free - take)) & ((1u64 << take) - 1);
            value = (value << take) | chunk;
            left -= take;
            self.at += u64::from(take);
        }
        Some(value)
    }

    /// The next bit.
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        self.read(1).map(|bit| bit == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_every_width_read_back() {
        let mut writer = BitWriter::default();
        for width in 0..=64u32 {
            let value = if width == 64 { u64::MAX - 5 } else { (1u64 << width).wrapping_sub(1) / 3 };
            writer.push(value, width);
        }
        let mut reader = BitReader::new(writer.bytes(), 0);
        for width in 0..=64u32 {
            let value = if width == 64 { u64::MAX - 5 } else { (1u64 << width).wrapping_sub(1) / 3 };
            assert_eq!(reader.read(width), Some(value), "width {width}");
        }
        assert!(reader.remaining() < 8);
        assert_eq!(reader.read(8), None);
    }
}
