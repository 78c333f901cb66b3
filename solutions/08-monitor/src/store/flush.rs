//! Checkpoints ([`Store::flush`]): sealed chunks go to block files, the heads to a checkpoint
//! file, and the log's old segments are deleted.
//!
//! 1. With the gate held for writing (no append between logging and applying), the log is rotated
//!    to a new segment `G`, the series table is copied into checkpoint `G`, and every head is
//!    cloned, but for its sealed chunks, which are copied aside: a copy of memory, so appends wait
//!    milliseconds, not the time encoding takes.
//! 2. Without the gate, the heads are encoded into the checkpoint, the sealed chunks are written
//!    to block files of generation `G`, one a level and window, then the checkpoint file, each
//!    fsynced, then the directories.
//! 3. The block files join the store's, the chunks written leave the heads, and the checkpoints
//!    and segments older than `G` are deleted.
//!
//! A crash before the checkpoint file is whole leaves the old checkpoint and the old segments,
//! and the next open deletes the block files of generation `G`: all or nothing.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::MutexGuard;
use std::sync::TryLockError;
use std::sync::atomic::Ordering;

use tracing::{debug, warn};

use super::block::BlockFile;
use super::checkpoint::{CheckpointWriter, checkpoint_path};
use super::chunk::SealedChunk;
use super::engine::{Store, file_names, lock, read, remove, write};
use super::head::SeriesHead;
use super::series::SeriesId;
use super::wal::{list_segments, segment_path};
use crate::error::Error;
use crate::point::Millis;

impl Store {
    /// Runs a checkpoint: writes the chunks sealed so far to block files and the heads to a
    /// checkpoint file, and deletes the log's older segments. Appends go on meanwhile, but for a
    /// moment while the heads are copied. Points not yet in a sealed chunk stay in the head (and
    /// now the checkpoint); nothing is lost if it is never called, only replayed from the log.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when a file cannot be written, synced or deleted; the store goes on, and
    /// the next checkpoint writes what this one did not.
    pub fn flush(&self) -> crate::Result<()> {
        let guard = lock(&self.checkpoint);
        self.checkpoint_locked(guard)
    }

    /// Runs a checkpoint unless one is under way (an append that filled the log's segment).
    pub(crate) fn checkpoint_if_idle(&self) {
        let guard = match self.checkpoint.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if let Err(err) = self.checkpoint_locked(guard) {
            warn!(cause = %err, "checkpoint failed: the log keeps growing until one succeeds");
        }
    }

    /// Runs a checkpoint, holding `guard` (the checkpoint lock) throughout.
    pub(crate) fn checkpoint_locked(&self, mut guard: MutexGuard<'_, u64>) -> crate::Result<()> {
        let (generation, mut writer, heads, taken) = self.copy_heads()?;
        for (id, head) in heads {
            writer.head(id, &head);
        }
        let mut groups: BTreeMap<(usize, Millis), Vec<(SeriesId, &SealedChunk)>> = BTreeMap::new();
        for (id, chunks) in &taken {
            for chunk in chunks {
                groups.entry((chunk.level, chunk.window)).or_default().push((*id, chunk));
            }
        }
        let mut files = Vec::new();
        let bytes = match self.write_generation(generation, writer, groups, &mut files) {
            Ok(bytes) => bytes,
            Err(err) => {
                // The next checkpoint writes these chunks again under its own generation.
                for file in &files {
                    let _ = remove(&file.path);
                }
                return Err(err);
            }
        };

        let count = files.len();
        let mut blocks = write(&self.blocks);
        for file in files {
            blocks.insert(file);
        }
        drop(blocks);
        for (id, chunks) in &taken {
            let mut shard = lock(&self.shards[*id as usize % super::head::SHARDS]);
            let head = shard.head_mut(*id, &self.plan);
            // Appends only add sealed chunks, and retention holds the checkpoint lock: the first
            // ones are those copied.
            head.sealed.drain(..chunks.len().min(head.sealed.len()));
        }

        let wal_dir = self.dir.join("wal");
        for segment in list_segments(&wal_dir)? {
            if segment < generation {
                remove(&segment_path(&wal_dir, segment))?;
            }
        }
        for name in file_names(&self.dir)? {
            if let Some(old) = super::checkpoint::parse_checkpoint_name(&name).filter(|&old| old < generation)
            {
                remove(&checkpoint_path(&self.dir, old))?;
            }
        }
        *guard = generation;
        // The heads' copy is freed; without this glibc would keep its pages for good.
        crate::relay::give_back_memory();
        self.counters.checkpoints.fetch_add(1, Ordering::Relaxed);
        self.counters.checkpoint_bytes.store(bytes, Ordering::Relaxed);
        debug!(generation, block_files = count, checkpoint_bytes = bytes, "checkpoint done");
        Ok(())
    }

    /// Step 2: writes the block files of `groups` (into `files`, as they are written) and the
    /// checkpoint, then syncs the directories; returns the checkpoint's size.
    fn write_generation(
        &self,
        generation: u64,
        writer: CheckpointWriter,
        groups: BTreeMap<(usize, Millis), Vec<(SeriesId, &SealedChunk)>>,
        files: &mut Vec<BlockFile>,
    ) -> crate::Result<u64> {
        let blocks_dir = self.dir.join("blocks");
        for ((level, window), mut chunks) in groups {
            let level = &self.plan.levels[level];
            files.push(BlockFile::write(&blocks_dir, level, window, generation, &mut chunks)?);
        }
        let bytes = writer.write(&self.dir, generation)?;
        for dir in [&blocks_dir, &self.dir] {
            File::open(dir).and_then(|dir| dir.sync_all()).map_err(Error::file(dir))?;
        }
        Ok(bytes)
    }

    /// Step 1: with the gate held, rotates the log, copies the series and clones the heads;
    /// returns the new generation, the checkpoint so far, the heads (without their sealed chunks)
    /// and each series' sealed chunks.
    #[allow(clippy::type_complexity)]
    fn copy_heads(
        &self,
    ) -> crate::Result<(u64, CheckpointWriter, Vec<(SeriesId, SeriesHead)>, Vec<(SeriesId, Vec<SealedChunk>)>)>
    {
        let _gate = write(&self.gate);
        let generation = self.wal.rotate()?;
        let mut writer = CheckpointWriter::new(generation, &self.plan);
        for (id, key, kind) in read(&self.index).all() {
            writer.series(id, key, kind);
        }
        let (mut heads, mut taken) = (Vec::new(), Vec::new());
        for (number, shard) in self.shards.iter().enumerate() {
            let mut shard = lock(shard);
            for (id, head) in shard.heads_mut(number) {
                // The sealed chunks stay in the head until they are in a block file; the clone
                // goes without them.
                let sealed = std::mem::take(&mut head.sealed);
                heads.push((id, head.clone()));
                if !sealed.is_empty() {
                    taken.push((id, sealed.clone()));
                }
                head.sealed = sealed;
            }
        }
        Ok((generation, writer, heads, taken))
    }
}
