//! Chunks in memory: an [`OpenChunk`] is a series' Gorilla chunk still being appended to; once its
//! window is over (or it is full) it becomes a [`SealedChunk`], immutable bytes that wait in the
//! head until a checkpoint writes them to a block file.

use super::gorilla::{ChunkEncoder, Rows, decode_rows};
use crate::point::Millis;

/// A chunk being appended to.
#[derive(Debug, Clone)]
pub(crate) struct OpenChunk {
    /// The start of the window it covers.
    pub(crate) window: Millis,
    /// Its rows so far.
    encoder: ChunkEncoder,
    /// Its first row's time.
    pub(crate) first: Millis,
    /// Its last row's time.
    pub(crate) last: Millis,
}

impl OpenChunk {
    /// An empty chunk of `columns` values a row, for the window starting at `window`.
    pub(crate) fn new(window: Millis, columns: usize) -> OpenChunk {
        todo!("stage 4: an empty encoder for the window")
    }

    /// A chunk of `columns` values a row with `rows` (from a checkpoint), or `None` when they
    /// have another column count, or are not in increasing time.
    pub(crate) fn restore(window: Millis, columns: usize, rows: &Rows) -> Option<OpenChunk> {
        todo!(
            "stage 4: push the rows again; None if their column count differs or their times do not increase"
        )
    }

    /// The chunk's rows as they stand.
    pub(crate) fn decoded(&self) -> Rows {
        todo!("stage 4: decode the chunk's bytes")
    }

    /// Appends a row, later than every row before.
    pub(crate) fn push(&mut self, time: Millis, values: &[f64]) {
        todo!("stage 4: note first and last, then push the row to the encoder")
    }

    /// Rows held.
    pub(crate) fn rows(&self) -> u32 {
        todo!("stage 4: rows held")
    }

    /// The chunk's bytes as they stand.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        todo!("stage 4: the encoder's bytes as they stand")
    }

    /// The chunk, finished, as level `level`'s.
    pub(crate) fn seal(self, level: usize) -> SealedChunk {
        todo!("stage 4: the finished bytes and what the index needs")
    }
}

/// A finished chunk not yet in a block file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SealedChunk {
    /// Its level: 0 for raw points, `i` for the plan's `i`th level.
    pub(crate) level: usize,
    /// The start of the window it covers.
    pub(crate) window: Millis,
    /// Its first row's time.
    pub(crate) first: Millis,
    /// Its last row's time.
    pub(crate) last: Millis,
    /// Its rows.
    pub(crate) rows: u32,
    /// Its Gorilla bytes.
    pub(crate) bytes: Vec<u8>,
}
