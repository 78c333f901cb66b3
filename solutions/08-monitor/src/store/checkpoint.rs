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
use super::compact;
use super::encoding::{Cursor, begin_record, end_record, put_bytes, put_varint, scan_records};
use super::gorilla::Rows;
use super::head::SeriesHead;
use super::options::{Plan, floor};
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
        let mut bytes = Vec::new();
        let start = begin_record(&mut bytes);
        bytes.push(b'C');
        put_varint(&mut bytes, generation);
        put_varint(&mut bytes, plan.levels.len() as u64);
        for level in &plan.levels {
            put_varint(&mut bytes, level.step as u64);
        }
        end_record(&mut bytes, start);
        CheckpointWriter { bytes, series: 0, heads: 0 }
    }

    /// Adds a series.
    pub(crate) fn series(&mut self, id: SeriesId, key: &SeriesKey, kind: Kind) {
        encode_series(&mut self.bytes, id, key, kind);
        self.series += 1;
    }

    /// Adds a head, but for its sealed chunks (which go to block files).
    pub(crate) fn head(&mut self, id: SeriesId, head: &SeriesHead) {
        let out = &mut self.bytes;
        let start = begin_record(out);
        out.push(b'H');
        put_varint(out, u64::from(id));
        out.extend_from_slice(&head.newest.to_le_bytes());
        out.extend_from_slice(&head.frontier.to_le_bytes());
        let recent = Rows {
            columns: 1,
            times: head.recent.iter().map(|&(time, _)| time).collect(),
            values: head.recent.iter().map(|&(_, value)| value).collect(),
        };
        put_bytes(out, &compact::encode_plain(&recent));
        put_open(out, head.raw.as_ref());
        for rollup in &head.rollups {
            out.extend_from_slice(&rollup.closed.to_le_bytes());
            match &rollup.pending {
                // The bucket under way sums up the newest points fed, all of them in the raw open
                // chunk when it began at or before the bucket: a reader adds them up again, in the
                // same order, to the same bits, instead of this file keeping five more numbers.
                Some(bucket)
                    if head
                        .raw
                        .as_ref()
                        .is_some_and(|raw| raw.first <= bucket.start && bucket.start <= raw.last) =>
                {
                    out.push(2);
                }
                Some(bucket) => {
                    out.push(1);
                    let row =
                        Rows { columns: COLUMNS, times: vec![bucket.start], values: bucket.row().to_vec() };
                    put_bytes(out, &compact::encode_plain(&row));
                }
                None => out.push(0),
            }
            put_open(out, rollup.open.as_ref());
        }
        end_record(out, start);
        self.heads += 1;
    }

    /// Writes the file `checkpoint-GENERATION` in `dir` under a temporary name, fsyncs it and
    /// renames it; the caller syncs the directory.
    pub(crate) fn write(mut self, dir: &Path, generation: u64) -> crate::Result<u64> {
        let start = begin_record(&mut self.bytes);
        self.bytes.push(b'E');
        put_varint(&mut self.bytes, self.series);
        put_varint(&mut self.bytes, self.heads);
        end_record(&mut self.bytes, start);
        let path = checkpoint_path(dir, generation);
        let temporary = path.with_extension("tmp");
        let bytes = compact::compress_file(&self.bytes)
            .map_err(|err| Error::file(&temporary)(std::io::Error::other(err)))?;
        let file = File::create(&temporary).map_err(Error::file(&temporary))?;
        (&file).write_all(&bytes).and_then(|()| file.sync_all()).map_err(Error::file(&temporary))?;
        fs::rename(&temporary, &path).map_err(Error::file(&path))?;
        Ok(bytes.len() as u64)
    }
}

/// The path of checkpoint `generation` in `dir`.
pub(crate) fn checkpoint_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("checkpoint-{generation:020}"))
}

/// The generation named by a checkpoint's file name.
pub(crate) fn parse_checkpoint_name(name: &str) -> Option<u64> {
    name.strip_prefix("checkpoint-")?.parse().ok()
}

/// Reads checkpoint `generation` of `dir` for `plan`: every record up to the first damaged one.
///
/// # Errors
///
/// [`Error::File`] when the file cannot be read.
pub(crate) fn read_checkpoint(dir: &Path, generation: u64, plan: &Plan) -> crate::Result<Checkpoint> {
    let path = checkpoint_path(dir, generation);
    let file = fs::read(&path).map_err(Error::file(&path))?;
    let bytes = compact::decompress_file(&file);
    let (records, good) = scan_records(&bytes);
    let mut checkpoint = Checkpoint::default();
    let mut steps: Option<Vec<Millis>> = None;
    let mut ended = false;
    for range in records {
        let payload = &bytes[range];
        let parsed = match (payload.first(), &steps) {
            (Some(b'C'), None) => read_header(payload).map(|found| steps = Some(found)),
            (Some(b'S'), Some(_)) => match decode_record(payload) {
                Some(Record::Series(id, key, kind)) => {
                    checkpoint.series.push((id, key, kind));
                    Some(())
                }
                _ => None,
            },
            (Some(b'H'), Some(steps)) => {
                read_head(payload, steps, plan).map(|head| checkpoint.heads.push(head))
            }
            (Some(b'E'), Some(_)) => {
                ended = true;
                Some(())
            }
            _ => None,
        };
        if parsed.is_none() || ended {
            break;
        }
    }
    if !ended {
        checkpoint.damage = Some(format!("damaged after byte {good} of {}", bytes.len()));
    }
    Ok(checkpoint)
}

/// The level steps of a `C` record.
fn read_header(payload: &[u8]) -> Option<Vec<Millis>> {
    let mut cursor = Cursor::new(&payload[1..]);
    cursor.varint()?;
    let count = cursor.count(16)?;
    let steps = (0..count).map(|_| cursor.varint().map(|step| step as Millis)).collect::<Option<Vec<_>>>()?;
    cursor.is_done().then_some(steps)
}

/// A head of an `H` record, its rollups matched to `plan`'s levels by step.
fn read_head(payload: &[u8], steps: &[Millis], plan: &Plan) -> Option<(SeriesId, SeriesHead)> {
    let mut cursor = Cursor::new(&payload[1..]);
    let id = SeriesId::try_from(cursor.varint()?).ok()?;
    let mut head = SeriesHead::new(plan);
    head.newest = cursor.i64()?;
    head.frontier = cursor.i64()?;
    let recent = compact::decode(cursor.prefixed()?).ok().filter(|rows| rows.columns == 1)?;
    head.recent = recent.times.into_iter().zip(recent.values).collect();
    head.raw = read_open(&mut cursor, 1)?;
    for &step in steps.iter().skip(1) {
        let closed = cursor.i64()?;
        let pending = match cursor.u8()? {
            0 => None,
            1 => {
                let row = compact::decode(cursor.prefixed()?).ok()?;
                if row.columns != COLUMNS || row.times.len() != 1 {
                    return None;
                }
                Some(Bucket::from_row(row.times[0], &row.values))
            }
            2 => Some(bucket_from_raw(head.raw.as_ref()?, step)?),
            _ => return None,
        };
        let open = read_open(&mut cursor, COLUMNS)?;
        // A level no longer configured is dropped; one new since starts empty.
        if let Some(at) = plan.levels.iter().skip(1).position(|level| level.step == step) {
            head.rollups[at] = RollupHead { pending, open, closed };
        }
    }
    cursor.is_done().then_some((id, head))
}

/// The bucket of `step` under way when `raw` was the raw open chunk: its points from the bucket of
/// its last on, added up as they were fed; `None` when it has none.
fn bucket_from_raw(raw: &OpenChunk, step: Millis) -> Option<Bucket> {
    let rows = raw.decoded();
    let start = floor(*rows.times.last()?, step);
    let mut points = rows.times.iter().zip(&rows.values).filter(|&(&time, _)| time >= start);
    let (_, &first) = points.next()?;
    let mut bucket = Bucket::new(start, first);
    for (_, &value) in points {
        bucket.merge(&Bucket::new(start, value));
    }
    Some(bucket)
}

/// Appends an open chunk, or its absence.
fn put_open(out: &mut Vec<u8>, open: Option<&OpenChunk>) {
    match open {
        Some(open) => {
            out.push(1);
            out.extend_from_slice(&open.window.to_le_bytes());
            put_bytes(out, &compact::encode_plain(&open.decoded()));
        }
        None => out.push(0),
    }
}

/// Reads an open chunk of `columns` values a row, or its absence; `None` when malformed.
fn read_open(cursor: &mut Cursor<'_>, columns: usize) -> Option<Option<OpenChunk>> {
    match cursor.u8()? {
        0 => Some(None),
        1 => {
            let window = cursor.i64()?;
            let rows = compact::decode(cursor.prefixed()?).ok()?;
            OpenChunk::restore(window, columns, &rows).map(Some)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::options::StoreOptions;

    #[test]
    fn heads_read_back_with_their_buckets_under_way_to_the_bit() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan::new(&StoreOptions::new(dir.path())).unwrap();
        let start = 1_700_006_400_000;
        let mut heads = Vec::new();
        // Every few seconds for a while, so that the buckets under way are at every stage: just
        // begun, half full, with the raw open chunk begun inside them (a new 2-hour window).
        for (id, points) in [(0u32, 1), (1, 45), (2, 719), (3, 725), (4, 1500)] {
            let mut head = SeriesHead::new(&plan);
            for i in 0..points {
                head.apply(start + i * 10_000 + 3, f64::from(i as u32 % 97) / 10.0 + 0.01, &plan);
            }
            heads.push((id, head));
        }
        let mut writer = CheckpointWriter::new(7, &plan);
        for (id, head) in &heads {
            writer.head(*id, head);
        }
        writer.write(dir.path(), 7).unwrap();
        let read = read_checkpoint(dir.path(), 7, &plan).unwrap();
        assert_eq!(read.damage, None);
        assert_eq!(read.heads.len(), heads.len());
        for ((id, head), (read_id, read_head)) in heads.iter().zip(&read.heads) {
            assert_eq!(id, read_id);
            for (level, (rollup, read_rollup)) in head.rollups.iter().zip(&read_head.rollups).enumerate() {
                let bits = |bucket: &Option<Bucket>| bucket.map(|b| (b.start, b.row().map(f64::to_bits)));
                assert_eq!(bits(&rollup.pending), bits(&read_rollup.pending), "series {id}, level {level}");
                assert_eq!(rollup.closed, read_rollup.closed);
            }
            assert_eq!(
                head.raw.as_ref().map(OpenChunk::decoded),
                read_head.raw.as_ref().map(OpenChunk::decoded)
            );
        }
    }
}
