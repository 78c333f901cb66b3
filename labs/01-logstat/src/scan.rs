//! Streaming any number of inputs of any size through a [`Tally`] on every core.
//!
//! One thread (the caller) reads blocks and cuts each at its last line end, carrying the cut-off
//! start of the next line into the next block. Worker threads take whole blocks from a bounded
//! queue and count into their own tallies, merged at the end. Memory is bounded by the queue (a
//! few blocks per worker) plus what the tallies hold: distinct keys, never the size of the input.

use std::io::Read;
use std::sync::atomic::AtomicBool;

use crate::{Config, Error};

/// A computation over whole blocks of input that can run in pieces and be merged.
pub trait Tally: Send {
    /// Counts one block. A block holds whole units (lines, or for text, whole words), except the
    /// last block of an input, which ends wherever the input ends.
    fn add_block(&mut self, block: &[u8]);

    /// Adds a tally of other blocks to this one.
    fn merge(&mut self, other: Self);
}

/// Where a block may be cut so that no unit straddles two blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Only after a newline.
    Lines,
    /// After a newline or, in a long line, after any ASCII byte that is not a letter or digit: never
    /// inside a word, and never inside a UTF-8 sequence (whose bytes are all above 127).
    Words,
}

/// What a scan produced besides its tally.
#[derive(Debug, Default)]
pub struct ScanEnd {
    /// Inputs that could not be opened or read.
    pub errors: Vec<Error>,
    /// Whether `stop` was raised before the end.
    pub interrupted: bool,
}

/// Reads every input of `config` (standard input when there are none) through tallies made by
/// `make`, one per thread, and returns their merge.
pub fn scan<T: Tally>(
    config: &Config,
    stdin: &mut dyn Read,
    stop: &AtomicBool,
    cut: Cut,
    make: impl Fn() -> T + Sync,
) -> (T, ScanEnd) {
    todo!("stage 2 (one thread), stage 6 (every core): read blocks cut at line ends, tally them, merge")
}
