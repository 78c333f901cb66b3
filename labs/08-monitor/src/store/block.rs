//! Block files: the sealed chunks of one level and one window, written once by a checkpoint and
//! never changed, found by an index at the file's end; and [`Blocks`], the set of them a store
//! reads.
//!
//! A file is named `STEP_WINDOW_GENERATION.blk` (`0_1700006400000_12.blk`: raw points, the
//! window starting at that millisecond, written by checkpoint 12), so retention deletes whole
//! files by their name, and a file from a checkpoint that never finished is recognised at once.
//!
//! | part | layout |
//! |---|---|
//! | chunks | each chunk in the encoding at rest ([`super::compact`]), one after another |
//! | index | an entry a chunk, in the chunks' order (by series, then time): series id (`u32`), rows (`u32`), first and last time (`i64`), length (`u32`), CRC-32 of the chunk (`u32`): 32 bytes; a chunk starts where the one before it ends |
//! | footer | step, window start, window span (`i64` each), generation (`u64`), entry count (`u32`), CRC-32 of the index and the footer before it (`u32`), then the magic `MONBLK2\n`: 48 bytes |
//!
//! All integers are little-endian. A file is written under a temporary name, fsynced and renamed,
//! so a crash leaves it whole or absent.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::warn;

use super::chunk::SealedChunk;
use super::compact;
use super::gorilla::{Rows, decode_rows};
use super::options::Level;
use super::series::SeriesId;
use crate::error::Error;
use crate::point::Millis;

/// The last 8 bytes of every block file.
const MAGIC: &[u8; 8] = b"MONBLK2\n";
/// The bytes of an index entry.
const ENTRY_BYTES: usize = 32;
/// The bytes of the footer.
const FOOTER_BYTES: usize = 48;

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
    /// Where its bytes start.
    offset: u64,
    /// How many there are.
    len: u32,
    /// Their CRC-32.
    crc: u32,
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
            "stage 4: chunks sorted by series then time, each decoded and written as `compact::encode` makes it, then the index and the footer; written to a temporary name, fsynced, renamed"
        )
    }

    /// Opens a block file and reads its index; the reason when it is not a whole block file.
    pub(crate) fn open(path: &Path) -> Result<BlockFile, String> {
        todo!(
            "stage 4: read the footer and the index, check the magic, the sizes and the CRC: a reason, never a panic"
        )
    }

    /// The chunks of `series`, by time.
    pub(crate) fn entries_of(&self, series: SeriesId) -> &[BlockEntry] {
        todo!("stage 4: the entries of `series`: a binary search of the sorted index")
    }

    /// The rows of a chunk, or `None` (with a warning) when they cannot be read or are damaged.
    pub(crate) fn read(&self, entry: &BlockEntry) -> Option<Rows> {
        todo!("stage 4: pread the chunk's bytes, check its CRC and decode them with `compact::decode`")
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
