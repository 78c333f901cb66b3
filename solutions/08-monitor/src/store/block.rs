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
        chunks.sort_by_key(|(series, chunk)| (*series, chunk.first));
        let path = dir.join(block_name(level.step, window, generation));
        let temporary = path.with_extension("tmp");
        let mut out = BufWriter::new(File::create(&temporary).map_err(Error::file(&temporary))?);
        let mut index = Vec::with_capacity(chunks.len() * ENTRY_BYTES + FOOTER_BYTES);
        for (series, chunk) in chunks.iter() {
            let rows = decode_rows(&chunk.bytes)
                .map_err(|err| Error::file(&temporary)(std::io::Error::other(err)))?;
            let bytes = compact::encode(&rows);
            out.write_all(&bytes).map_err(Error::file(&temporary))?;
            index.extend_from_slice(&series.to_le_bytes());
            index.extend_from_slice(&chunk.rows.to_le_bytes());
            index.extend_from_slice(&chunk.first.to_le_bytes());
            index.extend_from_slice(&chunk.last.to_le_bytes());
            // A chunk holds at most MAX_CHUNK_POINTS rows of a few bytes each: far under 4 GiB.
            index.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            index.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
        }
        for field in [level.step, window, level.span] {
            index.extend_from_slice(&field.to_le_bytes());
        }
        index.extend_from_slice(&generation.to_le_bytes());
        index.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
        let crc = crc32fast::hash(&index);
        index.extend_from_slice(&crc.to_le_bytes());
        index.extend_from_slice(MAGIC);
        out.write_all(&index).map_err(Error::file(&temporary))?;
        let file = out.into_inner().map_err(|err| Error::file(&temporary)(err.into_error()))?;
        file.sync_all().map_err(Error::file(&temporary))?;
        fs::rename(&temporary, &path).map_err(Error::file(&path))?;
        BlockFile::open(&path)
            .map_err(|reason| Error::File { path: path.clone(), source: std::io::Error::other(reason) })
    }

    /// Opens a block file and reads its index; the reason when it is not a whole block file.
    pub(crate) fn open(path: &Path) -> Result<BlockFile, String> {
        let file = File::open(path).map_err(|err| err.to_string())?;
        let bytes = file.metadata().map_err(|err| err.to_string())?.len();
        if bytes < FOOTER_BYTES as u64 {
            return Err(format!("{bytes} bytes: too short for a footer"));
        }
        let mut footer = [0u8; FOOTER_BYTES];
        file.read_exact_at(&mut footer, bytes - FOOTER_BYTES as u64).map_err(|err| err.to_string())?;
        if &footer[40..] != MAGIC {
            return Err("no block file magic at its end".to_owned());
        }
        let count = u32::from_le_bytes(take(&footer[32..36])) as u64;
        let index_bytes = count * ENTRY_BYTES as u64;
        let Some(index_start) = (bytes - FOOTER_BYTES as u64).checked_sub(index_bytes) else {
            return Err(format!("an index of {count} entries does not fit"));
        };
        let mut index = vec![0u8; index_bytes as usize + 36];
        file.read_exact_at(&mut index, index_start).map_err(|err| err.to_string())?;
        if crc32fast::hash(&index) != u32::from_le_bytes(take(&footer[36..40])) {
            return Err("the index's CRC does not match".to_owned());
        }
        let mut entries = Vec::with_capacity(count as usize);
        let mut offset = 0u64;
        for raw in index[..index_bytes as usize].chunks_exact(ENTRY_BYTES) {
            let entry = BlockEntry {
                series: u32::from_le_bytes(take(&raw[0..4])),
                rows: u32::from_le_bytes(take(&raw[4..8])),
                first: i64::from_le_bytes(take(&raw[8..16])),
                last: i64::from_le_bytes(take(&raw[16..24])),
                offset,
                len: u32::from_le_bytes(take(&raw[24..28])),
                crc: u32::from_le_bytes(take(&raw[28..32])),
            };
            offset += u64::from(entry.len);
            if offset > index_start {
                return Err("the index names more chunk bytes than the file has".to_owned());
            }
            entries.push(entry);
        }
        entries.sort_by_key(|entry| (entry.series, entry.first));
        let field = |at: usize| i64::from_le_bytes(take(&footer[at..at + 8]));
        Ok(BlockFile {
            path: path.to_path_buf(),
            file,
            step: field(0),
            window: field(8),
            span: field(16),
            generation: field(24) as u64,
            entries,
            bytes,
        })
    }

    /// The chunks of `series`, by time.
    pub(crate) fn entries_of(&self, series: SeriesId) -> &[BlockEntry] {
        let start = self.entries.partition_point(|entry| entry.series < series);
        let end = self.entries.partition_point(|entry| entry.series <= series);
        &self.entries[start..end]
    }

    /// The rows of a chunk, or `None` (with a warning) when they cannot be read or are damaged.
    pub(crate) fn read(&self, entry: &BlockEntry) -> Option<Rows> {
        let mut bytes = vec![0u8; entry.len as usize];
        let read = self.file.read_exact_at(&mut bytes, entry.offset);
        if read.is_ok() && crc32fast::hash(&bytes) == entry.crc {
            if let Ok(rows) = compact::decode(&bytes) {
                return Some(rows);
            }
        }
        warn!(block = %self.path.display(), at = entry.offset, "block chunk unreadable or damaged: skipped");
        None
    }

    /// Rows in the file.
    pub(crate) fn rows(&self) -> u64 {
        self.entries.iter().map(|entry| u64::from(entry.rows)).sum()
    }

    /// The end of its window.
    pub(crate) fn end(&self) -> Millis {
        self.window.saturating_add(self.span)
    }
}

/// The name of a block file.
pub(crate) fn block_name(step: Millis, window: Millis, generation: u64) -> String {
    format!("{step}_{window}_{generation}.blk")
}

/// The step, window and generation of a block file's name.
pub(crate) fn parse_block_name(name: &str) -> Option<(Millis, Millis, u64)> {
    let mut parts = name.strip_suffix(".blk")?.splitn(3, '_');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
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
        self.files.insert((file.step, file.window, file.generation), Arc::new(file));
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
        let low = (step, from.saturating_sub(span), 0);
        let high = (step, to, u64::MAX);
        self.files.range(low..=high).map(|(_, file)| file).filter(|file| file.end() > from).cloned().collect()
    }

    /// Takes out the files of the level of `step` whose window ended by `cutoff`.
    pub(crate) fn take_expired(&mut self, step: Millis, cutoff: Millis) -> Vec<Arc<BlockFile>> {
        let expired: Vec<_> = self
            .files
            .range((step, Millis::MIN, 0)..=(step, Millis::MAX, u64::MAX))
            .filter(|(_, file)| file.end() <= cutoff)
            .map(|(key, _)| *key)
            .collect();
        expired.iter().filter_map(|key| self.files.remove(key)).collect()
    }

    /// Every file.
    pub(crate) fn iter(
        &self,
    ) -> std::collections::btree_map::Values<'_, (Millis, Millis, u64), Arc<BlockFile>> {
        self.files.values()
    }
}

/// The first `N` bytes of `bytes` (which has at least `N`) as an array.
fn take<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0u8; N];
    array.copy_from_slice(&bytes[..N]);
    array
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::gorilla::encode;

    #[test]
    fn a_block_file_reads_back_its_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let level = Level { step: 0, span: 7_200_000, retention: 1 };
        let chunk = |first: i64| SealedChunk {
            level: 0,
            window: 0,
            first,
            last: first + 10,
            rows: 2,
            bytes: encode(&[(first, 1.0), (first + 10, 2.0)]),
        };
        let (a, b, c) = (chunk(100), chunk(5), chunk(50));
        let file = BlockFile::write(dir.path(), &level, 0, 3, &mut [(9, &a), (2, &b), (9, &c)]).unwrap();
        assert_eq!(parse_block_name(file.path.file_name().unwrap().to_str().unwrap()), Some((0, 0, 3)));
        let firsts: Vec<i64> = file.entries_of(9).iter().map(|entry| entry.first).collect();
        assert_eq!(firsts, [50, 100]);
        assert_eq!(file.read(&file.entries_of(2)[0]), decode_rows(&b.bytes).ok());
        assert_eq!(file.rows(), 6);
        let mut bytes = fs::read(&file.path).unwrap();
        let len = bytes.len();
        bytes[len - 20] ^= 1;
        fs::write(&file.path, &bytes).unwrap();
        assert!(BlockFile::open(&file.path).is_err());
    }
}
