//! Splitting a file into chunks: the unit of work a worker takes, and the unit of resumption.

/// One chunk of the file: the bytes `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// The chunk's number, from 0, in file order.
    pub index: usize,
    /// The first byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Chunk {
    /// The number of bytes in the chunk.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the chunk holds no byte (never true for a chunk of [`plan`]).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Splits `size` bytes into chunks of `chunk_size` bytes (1 if given 0), in order, the last one
/// shorter when `chunk_size` does not divide `size`. They cover `0..size` exactly, without gaps or
/// overlaps; an empty file has no chunk.
///
/// # Examples
///
/// ```
/// let chunks = downloader::plan(10, 4);
/// let bounds: Vec<_> = chunks.iter().map(|c| (c.start, c.end)).collect();
/// assert_eq!(bounds, [(0, 4), (4, 8), (8, 10)]);
/// ```
pub fn plan(size: u64, chunk_size: u64) -> Vec<Chunk> {
    todo!("stage 2: split `size` bytes into chunks of `chunk_size`, without overflow")
}

/// How many chunks [`plan`] makes: `size / chunk_size` rounded up.
pub fn chunk_count(size: u64, chunk_size: u64) -> usize {
    let count = size.div_ceil(chunk_size.max(1));
    usize::try_from(count).unwrap_or(usize::MAX)
}
