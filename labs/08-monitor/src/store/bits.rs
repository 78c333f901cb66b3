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
        todo!("stage 4: the prefix as whole bytes, its bits counted")
    }

    /// Appends the low `width` bits of `value` (`width` from 0 to 64), highest first.
    pub(crate) fn push(&mut self, value: u64, width: u32) {
        todo!(
            "stage 4: the low `width` bits of `value`, highest first, filling the last byte from its high bit"
        )
    }

    /// Appends one bit.
    pub(crate) fn push_bit(&mut self, bit: bool) {
        todo!("stage 4: push one bit")
    }

    /// The bytes so far (the last one padded with zeros).
    pub(crate) fn bytes(&self) -> &[u8] {
        todo!("stage 4: the bytes so far")
    }

    /// The bytes, given up.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        todo!("stage 4: the bytes")
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
        todo!("stage 4: a reader of `bytes` from bit `at`")
    }

    /// How many bits are left.
    pub(crate) fn remaining(&self) -> u64 {
        todo!("stage 4: the bits left")
    }

    /// The next `width` bits (0 to 64) as the low bits of a `u64`, or `None` when fewer are left.
    pub(crate) fn read(&mut self, width: u32) -> Option<u64> {
        todo!("stage 4: the next `width` bits, or None when fewer are left")
    }

    /// The next bit.
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        todo!("stage 4: read one bit")
    }
}
