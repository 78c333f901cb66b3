//! Block files: the sealed chunks of one level and one window, written once by a checkpoint and
//! never changed, found by an index at the file's end; and [`Blocks`], the set of them a store
//! reads.
//!
//! A file is named `STEP_WINDOW_GENERATION.blk` (`0_1700006400000_12.blk`: raw points, the
//! window starting at that millisecond, written by checkpoint 12), so retention deletes whole
//! files by their name, and a file from a checkpoint that never finished is recognised at once.
//!
//! Chunks are compressed in runs (*frames*) of about [`FRAME_BYTES`] before compression, not one
//! by one: a chunk of a node's series is a few hundred bytes, too few for zstd to learn from, and
//! the series of a run share their timestamps and much of their shape. Reading one chunk
//! decompresses its frame, some 16 KiB: microseconds.
//!
//! | part | layout |
//! |---|---|
//! | frames | each a zstd frame ([`compact::compress`]) of a run of chunks in the encoding at rest ([`compact::encode_plain`]), one after another, in the index's order |
//! | index | compressed as a whole ([`compact::compress`]); before that, the frame count, then for each frame its length (varint) and its CRC-32 (`u32`); the entry count, then for each chunk, in order (by series, then time): its series less the one before (varint), whether it starts a new frame (`u8`), its rows, its first time less the window start (zigzag varint), its last time less its first, its length before compression (varints) |
//! | footer | step, window start, window span (`i64` each), generation (`u64`), the index's length and its length decompressed (`u32` each), CRC-32 of the index and the footer before it (`u32`), then the magic `MONBLK3\n`: 52 bytes |
//!
//! Fixed-width integers are little-endian. A file is written under a temporary name, fsynced and
//! renamed, so a crash leaves it whole or absent.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::warn;

use super::chunk::SealedChunk;
use super::compact;
use super::encoding::{Cursor, put_varint, unzigzag, zigzag};
use super::gorilla::{Rows, decode_rows};
use super::options::Level;
use super::series::SeriesId;
use crate::error::Error;
use crate::point::Millis;

/// The last 8 bytes of every block file.
const MAGIC: &[u8; 8] = b"MONBLK3\n";
/// The bytes of the footer.
const FOOTER_BYTES: usize = 52;
/// The bytes of chunks, before compression, after which a frame ends.
pub(crate) const FRAME_BYTES: usize = 16 << 10;

/// One chunk of a block file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockEntry {
    /// Its series.
    pub(crate) series: SeriesId,
    /// Its rows.
    pub(crate) rows: u32,
    /// Its first row's time.
    pub(crate) first: Millis,
    /// Its last row's time.
    pub(crate) last: Millis,
    /// Its frame, an index into the file's frames.
    frame: u32,
    /// Where its bytes start in its frame, decompressed.
    start: u32,
    /// How many there are.
    len: u32,
}

/// One compressed run of chunks of a block file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    /// Where its bytes start in the file.
    offset: u64,
    /// How many there are.
    len: u32,
    /// Their CRC-32.
    crc: u32,
    /// The bytes of its chunks, decompressed.
    plain: u32,
}

/// An open block file and its index.
#[derive(Debug)]
pub(crate) struct BlockFile {
    /// Its path.
    pub(crate) path: PathBuf,
    /// The file, for reading chunks.
    file: File,
    /// Its level's step (0: raw points).
    pub(crate) step: Millis,
    /// The start of its window.
    pub(crate) window: Millis,
    /// The window's span.
    pub(crate) span: Millis,
    /// The checkpoint that wrote it.
    pub(crate) generation: u64,
    /// Its chunks, by series then time.
    entries: Vec<BlockEntry>,
    /// Its frames, in the file's order.
    frames: Vec<Frame>,
    /// Its size.
    pub(crate) bytes: u64,
}

impl BlockFile {
    /// Writes `chunks` (all of `level` and the window starting at `window`), re-encoded from
    /// Gorilla to the encoding at rest, to a new file in `dir`, durably but for the directory
    /// entry, which the caller syncs.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the file cannot be written, or a chunk does not decode (which the
    /// store's own chunks always do).
    pub(crate) fn write(
        dir: &Path,
        level: &Level,
        window: Millis,
        generation: u64,
        chunks: &mut [(SeriesId, &SealedChunk)],
    ) -> crate::Result<BlockFile> {
        todo!(
            "stage 4: chunks sorted by series then time, each decoded and encoded with `compact::encode_plain`, in runs of FRAME_BYTES each compressed with `compact::compress`, then the index (compressed) and the footer; written to a temporary name, fsynced, renamed"
        )
    }

    /// Opens a block file and reads its index; the reason when it is not a whole block file.
    pub(crate) fn open(path: &Path) -> Result<BlockFile, String> {
        todo!(
            "stage 4: read the footer and the index, check the magic, the sizes and the CRC, decompress the index and check its frames and entries against each other: a reason, never a panic"
        )
    }

    /// The chunks of `series`, by time.
    pub(crate) fn entries_of(&self, series: SeriesId) -> &[BlockEntry] {
        todo!("stage 4: the entries of `series`: a binary search of the sorted index")
    }

    /// The rows of a chunk, or `None` (with a warning) when they cannot be read or are damaged.
    pub(crate) fn read(&self, entry: &BlockEntry) -> Option<Rows> {
        todo!(
            "stage 4: pread the chunk's frame, check its CRC, `compact::decompress` it and decode the chunk's bytes with `compact::decode`"
        )
    }

    /// Rows in the file.
    pub(crate) fn rows(&self) -> u64 {
        todo!("stage 4: the rows of every entry")
    }

    /// The end of its window.
    pub(crate) fn end(&self) -> Millis {
        todo!("stage 4: the window start plus its span, saturating")
    }
}

/// The name of a block file.
pub(crate) fn block_name(step: Millis, window: Millis, generation: u64) -> String {
    todo!("stage 4: STEP_WINDOW_GENERATION.blk")
}

/// The step, window and generation of a block file's name.
pub(crate) fn parse_block_name(name: &str) -> Option<(Millis, Millis, u64)> {
    todo!("stage 4: the three numbers of STEP_WINDOW_GENERATION.blk")
}

/// The block files a store reads, by level step, window and generation.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    /// The files.
    files: BTreeMap<(Millis, Millis, u64), Arc<BlockFile>>,
}

impl Blocks {
    /// Adds a file.
    pub(crate) fn insert(&mut self, file: BlockFile) {
        todo!("stage 4: keyed by step, window and generation")
    }

    /// The files of the level of `step` whose window may overlap `from..=to`, given the level's
    /// span.
    pub(crate) fn overlapping(
        &self,
        step: Millis,
        span: Millis,
        from: Millis,
        to: Millis,
    ) -> Vec<Arc<BlockFile>> {
        todo!("stage 4: the files of the level whose window may overlap the range")
    }

    /// Takes out the files of the level of `step` whose window ended by `cutoff`.
    pub(crate) fn take_expired(&mut self, step: Millis, cutoff: Millis) -> Vec<Arc<BlockFile>> {
        todo!("stage 4: remove and return the level's files whose window ended by the cutoff")
    }

    /// Every file.
    pub(crate) fn iter(
        &self,
    ) -> std::collections::btree_map::Values<'_, (Millis, Millis, u64), Arc<BlockFile>> {
        todo!("stage 4: every file")
    }
}

/// The first `N` bytes of `bytes` (which has at least `N`) as an array.
fn take<const N: usize>(bytes: &[u8]) -> [u8; N] {
    todo!("stage 4: the first N bytes as an array")
}
