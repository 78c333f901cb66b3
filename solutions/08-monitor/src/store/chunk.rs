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
        OpenChunk { window, encoder: ChunkEncoder::new(columns), first: Millis::MAX, last: Millis::MIN }
    }

    /// A chunk of `columns` values a row with `rows` (from a checkpoint), or `None` when they
    /// have another column count, or are not in increasing time.
    pub(crate) fn restore(window: Millis, columns: usize, rows: &Rows) -> Option<OpenChunk> {
        if rows.columns != columns || rows.times.windows(2).any(|pair| pair[0] >= pair[1]) {
            return None;
        }
        let mut chunk = OpenChunk::new(window, columns);
        for (time, values) in rows.times.iter().zip(rows.values.chunks_exact(columns)) {
            chunk.push(*time, values);
        }
        Some(chunk)
    }

    /// Appends a row, later than every row before.
    pub(crate) fn push(&mut self, time: Millis, values: &[f64]) {
        self.first = self.first.min(time);
        self.last = time;
        self.encoder.push(time, values);
    }

    /// Rows held.
    pub(crate) fn rows(&self) -> u32 {
        self.encoder.rows()
    }

    /// The chunk's bytes as they stand.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.encoder.finish()
    }

    /// The chunk's rows as they stand.
    pub(crate) fn decoded(&self) -> Rows {
        // The encoder's own bytes: they decode, or the codec is broken, which its tests rule out.
        decode_rows(&self.bytes()).expect("a chunk the encoder wrote decodes")
    }

    /// The chunk, finished, as level `level`'s.
    pub(crate) fn seal(self, level: usize) -> SealedChunk {
        SealedChunk {
            level,
            window: self.window,
            first: self.first,
            last: self.last,
            rows: self.encoder.rows(),
            bytes: self.encoder.into_bytes(),
        }
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
