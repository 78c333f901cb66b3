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
        chunks.sort_by_key(|(series, chunk)| (*series, chunk.first));
        let path = dir.join(block_name(level.step, window, generation));
        let temporary = path.with_extension("tmp");
        let fail = |err: std::io::Error| Error::file(&temporary)(err);
        let mut out = BufWriter::new(File::create(&temporary).map_err(fail)?);
        let (mut frames, mut entries) = (Vec::new(), Vec::with_capacity(chunks.len() * 12));
        let mut run = Vec::with_capacity(FRAME_BYTES * 2);
        let mut end_frame = |run: &mut Vec<u8>, frames: &mut Vec<u8>| -> std::io::Result<()> {
            let frame = compact::compress(run)?;
            out.write_all(&frame)?;
            put_varint(frames, frame.len() as u64);
            frames.extend_from_slice(&crc32fast::hash(&frame).to_le_bytes());
            run.clear();
            Ok(())
        };
        let mut frame_count = 0u64;
        let mut previous = 0;
        for (series, chunk) in chunks.iter() {
            let rows = decode_rows(&chunk.bytes).map_err(|err| fail(std::io::Error::other(err)))?;
            let starts_frame = run.is_empty();
            let bytes = compact::encode_plain(&rows);
            run.extend_from_slice(&bytes);
            frame_count += u64::from(starts_frame);
            put_varint(&mut entries, u64::from(series - previous));
            entries.push(u8::from(starts_frame));
            put_varint(&mut entries, u64::from(chunk.rows));
            put_varint(&mut entries, zigzag(chunk.first.wrapping_sub(window)));
            put_varint(&mut entries, chunk.last.wrapping_sub(chunk.first) as u64);
            put_varint(&mut entries, bytes.len() as u64);
            previous = *series;
            if run.len() >= FRAME_BYTES {
                end_frame(&mut run, &mut frames).map_err(fail)?;
            }
        }
        if !run.is_empty() {
            end_frame(&mut run, &mut frames).map_err(fail)?;
        }
        let mut plain = Vec::with_capacity(frames.len() + entries.len() + 20);
        put_varint(&mut plain, frame_count);
        plain.extend_from_slice(&frames);
        put_varint(&mut plain, chunks.len() as u64);
        plain.extend_from_slice(&entries);
        let mut index = compact::compress(&plain).map_err(fail)?;
        let index_len = index.len() as u32;
        for field in [level.step, window, level.span] {
            index.extend_from_slice(&field.to_le_bytes());
        }
        index.extend_from_slice(&generation.to_le_bytes());
        index.extend_from_slice(&index_len.to_le_bytes());
        index.extend_from_slice(&(plain.len() as u32).to_le_bytes());
        let crc = crc32fast::hash(&index);
        index.extend_from_slice(&crc.to_le_bytes());
        index.extend_from_slice(MAGIC);
        out.write_all(&index).map_err(fail)?;
        let file = out.into_inner().map_err(|err| fail(err.into_error()))?;
        file.sync_all().map_err(fail)?;
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
        if &footer[44..] != MAGIC {
            return Err("no block file magic at its end".to_owned());
        }
        let index_len = u64::from(u32::from_le_bytes(take(&footer[32..36])));
        let Some(index_start) = (bytes - FOOTER_BYTES as u64).checked_sub(index_len) else {
            return Err(format!("an index of {index_len} bytes does not fit"));
        };
        let mut index = vec![0u8; index_len as usize + 40];
        file.read_exact_at(&mut index, index_start).map_err(|err| err.to_string())?;
        if crc32fast::hash(&index) != u32::from_le_bytes(take(&footer[40..44])) {
            return Err("the index's CRC does not match".to_owned());
        }
        let field = |at: usize| i64::from_le_bytes(take(&footer[at..at + 8]));
        let window = field(8);
        let plain_len = u32::from_le_bytes(take(&footer[36..40])) as usize;
        let (frames, entries) = compact::decompress(&index[..index_len as usize], plain_len)
            .and_then(|plain| read_index(&plain, window, index_start))
            .ok_or("the index does not decode")?;
        Ok(BlockFile {
            path: path.to_path_buf(),
            file,
            step: field(0),
            window,
            span: field(16),
            generation: field(24) as u64,
            entries,
            frames,
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
        let frame = self.frames.get(entry.frame as usize)?;
        let mut bytes = vec![0u8; frame.len as usize];
        let read = self.file.read_exact_at(&mut bytes, frame.offset);
        if read.is_ok() && crc32fast::hash(&bytes) == frame.crc {
            let run = compact::decompress(&bytes, frame.plain as usize);
            let chunk =
                run.as_deref().and_then(|run| run.get(entry.start as usize..)?.get(..entry.len as usize));
            if let Some(rows) = chunk.and_then(|chunk| compact::decode(chunk).ok()) {
                return Some(rows);
            }
        }
        warn!(block = %self.path.display(), frame = entry.frame, "block chunk unreadable or damaged: skipped");
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

/// The frames and the entries of a block file's decompressed index, checked against each other
/// and against the `frames_end` bytes of frames the file holds.
fn read_index(plain: &[u8], window: Millis, frames_end: u64) -> Option<(Vec<Frame>, Vec<BlockEntry>)> {
    let mut cursor = Cursor::new(plain);
    let frame_count = cursor.count(cursor.remaining() / 5)?;
    let mut frames = Vec::with_capacity(frame_count);
    let mut offset = 0u64;
    for _ in 0..frame_count {
        let len = u32::try_from(cursor.varint()?).ok()?;
        let crc = u32::from_le_bytes(take(cursor.bytes(4)?));
        frames.push(Frame { offset, len, crc, plain: 0 });
        offset += u64::from(len);
    }
    if offset > frames_end {
        return None;
    }
    let count = cursor.count(cursor.remaining() / 6)?;
    let mut entries = Vec::with_capacity(count);
    let (mut series, mut start) = (0u32, 0u32);
    for _ in 0..count {
        series = series.checked_add(u32::try_from(cursor.varint()?).ok()?)?;
        let frame = match (cursor.u8()?, entries.last()) {
            (1, Some(&BlockEntry { frame, .. })) => frame + 1,
            (1, None) => 0,
            (0, Some(&BlockEntry { frame, .. })) => frame,
            _ => return None,
        };
        if frame != entries.last().map_or(0, |last: &BlockEntry| last.frame) {
            start = 0;
        }
        let rows = u32::try_from(cursor.varint()?).ok()?;
        let first = window.wrapping_add(unzigzag(cursor.varint()?));
        let last = first.wrapping_add(cursor.varint()? as i64);
        let len = u32::try_from(cursor.varint()?).ok()?;
        let described = frames.get_mut(frame as usize)?;
        described.plain = described.plain.checked_add(len)?;
        entries.push(BlockEntry { series, rows, first, last, frame, start, len });
        start = start.checked_add(len)?;
    }
    let last_frame = entries.last().map_or(0, |last| last.frame as usize + 1);
    if !cursor.is_done() || last_frame != frames.len() {
        return None;
    }
    Some((frames, entries))
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

    #[test]
    fn chunks_in_many_frames_read_back_and_damage_stays_in_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        let level = Level { step: 0, span: 7_200_000, retention: 1 };
        let window = 1_700_006_400_000;
        let sealed: Vec<SealedChunk> = (0..100)
            .map(|series: i64| {
                let points: Vec<(i64, f64)> = (0..720)
                    .map(|i| (window + i * 10_000, ((i * 37 + series) % 101) as f64 / 10.0))
                    .collect();
                SealedChunk {
                    level: 0,
                    window,
                    first: points[0].0,
                    last: points[719].0,
                    rows: 720,
                    bytes: encode(&points),
                }
            })
            .collect();
        let mut chunks: Vec<(SeriesId, &SealedChunk)> =
            sealed.iter().enumerate().map(|(series, chunk)| (series as SeriesId * 3, chunk)).collect();
        let file = BlockFile::write(dir.path(), &level, window, 1, &mut chunks).unwrap();
        assert!(file.frames.len() > 2, "{} frames", file.frames.len());
        for (series, chunk) in &chunks {
            let entries = file.entries_of(*series);
            assert_eq!(entries.len(), 1);
            assert_eq!((entries[0].first, entries[0].last, entries[0].rows), (chunk.first, chunk.last, 720));
            assert_eq!(file.read(&entries[0]), decode_rows(&chunk.bytes).ok());
        }
        assert!(file.entries_of(1).is_empty());
        let mut bytes = fs::read(&file.path).unwrap();
        bytes[file.frames[1].offset as usize + 5] ^= 0x40;
        fs::write(&file.path, &bytes).unwrap();
        let damaged = BlockFile::open(&file.path).unwrap();
        let readable =
            chunks.iter().filter(|(series, _)| damaged.read(&damaged.entries_of(*series)[0]).is_some());
        let in_frame_1 = damaged.entries.iter().filter(|entry| entry.frame == 1).count();
        assert_eq!(readable.count(), chunks.len() - in_frame_1);
    }
}
