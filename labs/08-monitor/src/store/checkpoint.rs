//! The checkpoint file: the series table and every series' head (its recent points, open chunks and
//! buckets under way) as they stood when the log was rotated, so that a restart reads it and then
//! only the log's newer segments.
//!
//! Checkpoint `G` is the file `checkpoint-G` (`G` zero-padded to 20 digits), written with the block
//! files of generation `G` after the log was rotated to segment `G`: a store opens by reading the
//! newest whole checkpoint, the block files of its generation or older, and the log's segments
//! from `G` on. It is a run of records framed as the log's are ([`super::encoding`]), the whole
//! run compressed as one zstd stream (the series' names and the heads' times repeat from record
//! to record):
//!
//! | record | payload after its type byte |
//! |---|---|
//! | `C`, first | generation (varint), level count, each level's step (varints; 0 for raw) |
//! | `S`, a series | as in the log |
//! | `H`, a head | series id, newest and frontier time (`i64`), the recent points (a chunk), the raw open chunk, then for each level of `C` but the first: last bucket written (`i64`), the bucket under way (a flag: `0` none, `1` and a chunk of its row, or `2`: the raw open chunk's points from the last one's bucket on, added up again when read) and the open chunk |
//! | `E`, last | the number of `S` and `H` records (varints) |
//!
//! A chunk is a varint length and its bytes in the encoding at rest ([`super::compact`]), as in
//! the block files: a quarter of Gorilla's bytes, or less, on a collector's decimals. An open chunk
//! is a flag byte (0: none), then its window start (`i64`) and its rows as a chunk.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::chunk::OpenChunk;
use super::encoding::{Cursor, begin_record, end_record, put_varint, scan_records, unzigzag, zigzag};
use super::head::SeriesHead;
use super::options::Plan;
use super::rollup::{Bucket, COLUMNS, RollupHead};
use super::series::SeriesId;
use super::wal::{Record, decode_record, encode_series};
use crate::error::Error;
use crate::point::{Kind, Millis, SeriesKey};

/// A checkpoint read back.
#[derive(Debug, Default)]
pub(crate) struct Checkpoint {
    /// The series table.
    pub(crate) series: Vec<(SeriesId, SeriesKey, Kind)>,
    /// The heads.
    pub(crate) heads: Vec<(SeriesId, SeriesHead)>,
    /// Why it is not whole, when it is not: what was read before the damage is kept.
    pub(crate) damage: Option<String>,
}

/// A checkpoint being written, in memory.
#[derive(Debug)]
pub(crate) struct CheckpointWriter {
    /// The records so far.
    bytes: Vec<u8>,
    /// `S` records written.
    series: u64,
    /// `H` records written.
    heads: u64,
}

impl CheckpointWriter {
    /// A checkpoint of generation `generation` under `plan`.
    pub(crate) fn new(generation: u64, plan: &Plan) -> CheckpointWriter {
        todo!("stage 4: the C record: the generation and the levels' steps")
    }

    /// Adds a series.
    pub(crate) fn series(&mut self, id: SeriesId, key: &SeriesKey, kind: Kind) {
        todo!("stage 4: an S record, as in the log")
    }

    /// Adds a head, but for its sealed chunks (which go to block files).
    pub(crate) fn head(&mut self, id: SeriesId, head: &SeriesHead) {
        todo!("stage 4: an H record: newest, frontier, recent points, the raw open chunk, each rollup")
    }

    /// Writes the file `checkpoint-GENERATION` in `dir` under a temporary name, fsyncs it and
    /// renames it; the caller syncs the directory.
    pub(crate) fn write(self, dir: &Path, generation: u64) -> crate::Result<u64> {
        todo!("stage 4: the E record, then write to a temporary name, fsync, rename")
    }
}

/// The path of checkpoint `generation` in `dir`.
pub(crate) fn checkpoint_path(dir: &Path, generation: u64) -> PathBuf {
    todo!("stage 4: checkpoint- and the generation zero-padded to 20 digits")
}

/// The generation named by a checkpoint's file name.
pub(crate) fn parse_checkpoint_name(name: &str) -> Option<u64> {
    todo!("stage 4: the generation of a checkpoint file name")
}

/// Reads checkpoint `generation` of `dir` for `plan`: every record up to the first damaged one.
///
/// # Errors
///
/// [`Error::File`] when the file cannot be read.
pub(crate) fn read_checkpoint(dir: &Path, generation: u64, plan: &Plan) -> crate::Result<Checkpoint> {
    todo!("stage 4: every record up to the first damaged one; say what is damaged")
}

/// The level steps of a `C` record.
fn read_header(payload: &[u8]) -> Option<Vec<Millis>> {
    todo!("stage 4: the level steps of a C record")
}

/// A head of an `H` record, its rollups matched to `plan`'s levels by step.
fn read_head(payload: &[u8], steps: &[Millis], plan: &Plan) -> Option<(SeriesId, SeriesHead)> {
    todo!("stage 4: a head from an H record, its rollups matched to the plan's levels by step")
}

/// Appends an open chunk, or its absence.
#[allow(clippy::ptr_arg)]
fn put_open(out: &mut Vec<u8>, open: Option<&OpenChunk>) {
    todo!("stage 4: a flag, then the window and the chunk's bytes")
}

/// Reads an open chunk of `columns` values a row, or its absence; `None` when malformed.
fn read_open(cursor: &mut Cursor<'_>, columns: usize) -> Option<Option<OpenChunk>> {
    todo!("stage 4: an open chunk, restored by re-encoding its rows")
}
