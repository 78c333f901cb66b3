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
        todo!("stage 4: take the checkpoint lock and run a checkpoint")
    }

    /// Runs a checkpoint unless one is under way (an append that filled the log's segment).
    pub(crate) fn checkpoint_if_idle(&self) {
        todo!("stage 4: try_lock the checkpoint lock; run one if it was free")
    }

    /// Runs a checkpoint, holding `guard` (the checkpoint lock) throughout.
    pub(crate) fn checkpoint_locked(&self, guard: MutexGuard<'_, u64>) -> crate::Result<()> {
        todo!(
            "stage 4: copy the heads, write the block files and the checkpoint, fsync, then register the files, drain the chunks written and delete older segments and checkpoints"
        )
    }

    /// Step 2: writes the block files of `groups` (into `files`, as they are written) and the
    /// checkpoint, then syncs the directories; returns the checkpoint's size.
    #[allow(clippy::ptr_arg)]
    fn write_generation(
        &self,
        generation: u64,
        writer: CheckpointWriter,
        groups: BTreeMap<(usize, Millis), Vec<(SeriesId, &SealedChunk)>>,
        files: &mut Vec<BlockFile>,
    ) -> crate::Result<u64> {
        todo!(
            "stage 4: a block file for each level and window, then the checkpoint file, then fsync both directories"
        )
    }

    /// Step 1: with the gate held, rotates the log, copies the series and clones the heads;
    /// returns the new generation, the checkpoint so far, the heads (without their sealed chunks)
    /// and each series' sealed chunks.
    #[allow(clippy::type_complexity)]
    fn copy_heads(
        &self,
    ) -> crate::Result<(u64, CheckpointWriter, Vec<(SeriesId, SeriesHead)>, Vec<(SeriesId, Vec<SealedChunk>)>)>
    {
        todo!(
            "stage 4: with the gate held for writing: rotate the log, copy the series, clone every head without its sealed chunks, keep those aside"
        )
    }
}
