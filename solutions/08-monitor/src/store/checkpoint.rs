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
use super::options::{Level, MAX_CHUNK_POINTS, Plan};
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
            put_rollup(out, rollup, head.raw.as_ref());
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
        let (pending, again) = match cursor.u8()? {
            0 => (None, None),
            1 => {
                let row = compact::decode(cursor.prefixed()?).ok()?;
                if row.columns != COLUMNS || row.times.len() != 1 {
                    return None;
                }
                (Some(Bucket::from_row(row.times[0], &row.values)), None)
            }
            2 => (None, Some((cursor.i64()?, cursor.count(MAX_CHUNK_POINTS as usize)?))),
            _ => return None,
        };
        let open = read_open(&mut cursor, COLUMNS)?;
        // A level no longer configured is dropped; one new since starts empty.
        if let Some(at) = plan.levels.iter().skip(1).position(|level| level.step == step) {
            let mut rollup = RollupHead { pending, open, closed };
            if let Some((from, left_out)) = again {
                feed_again(&mut rollup, head.raw.as_ref()?, from, left_out, &plan.levels[at + 1], at + 1)?;
            }
            head.rollups[at] = rollup;
        }
    }
    cursor.is_done().then_some((id, head))
}

/// Appends one rollup level of a head: the last bucket written, then what is needed of the bucket
/// under way and of the open chunk.
///
/// A rollup's newest rows and its bucket under way sum up the newest points, which the raw open
/// chunk holds from its first on: the rows of the buckets that start at or after it, and the
/// bucket under way, are left out and the reader feeds the raw points to the level again, in the
/// same order, to the same bits. That makes the checkpoint, written again at every checkpoint,
/// about a fifth smaller on node-like data.
fn put_rollup(out: &mut Vec<u8>, rollup: &RollupHead, raw: Option<&OpenChunk>) {
    out.extend_from_slice(&rollup.closed.to_le_bytes());
    let Some(bucket) = rollup.pending else {
        out.push(0);
        put_open(out, rollup.open.as_ref());
        return;
    };
    let rows = rollup.open.as_ref().map(OpenChunk::decoded);
    let Some(raw) = raw.filter(|raw| raw.first <= bucket.start && bucket.start <= raw.last) else {
        out.push(1);
        let row = Rows { columns: COLUMNS, times: vec![bucket.start], values: bucket.row().to_vec() };
        put_bytes(out, &compact::encode_plain(&row));
        put_open(out, rollup.open.as_ref());
        return;
    };
    // The first row the raw points hold, or else the bucket under way.
    let kept = rows.as_ref().map_or(0, |rows| rows.times.partition_point(|&time| time < raw.first));
    let from = rows.as_ref().and_then(|rows| rows.times.get(kept).copied()).unwrap_or(bucket.start);
    out.push(2);
    out.extend_from_slice(&from.to_le_bytes());
    let left_out = rows.as_ref().map_or(0, |rows| rows.times.len() - kept);
    put_varint(out, left_out as u64);
    match (&rollup.open, rows) {
        (Some(open), Some(rows)) => {
            let kept = Rows {
                columns: COLUMNS,
                times: rows.times[..kept].to_vec(),
                values: rows.values[..kept * COLUMNS].to_vec(),
            };
            put_chunk(out, open.window, &kept);
        }
        _ => out.push(0),
    }
}

/// Feeds `raw`'s points from `from` on to `rollup` (whose open chunk holds its rows before), as
/// they were fed before the checkpoint, which left out `left_out` rows and the bucket under way:
/// `None` unless that gives back exactly as many rows, none in another window, and a bucket under
/// way.
fn feed_again(
    rollup: &mut RollupHead,
    raw: &OpenChunk,
    from: Millis,
    left_out: usize,
    level: &Level,
    index: usize,
) -> Option<()> {
    let closed = rollup.closed;
    // Every bucket before `from` was written, none after.
    rollup.closed = from.checked_sub(1)?;
    let before = rollup.open.as_ref().map_or(0, OpenChunk::rows);
    let rows = raw.decoded();
    let mut sealed = Vec::new();
    for (&time, &value) in rows.times.iter().zip(&rows.values).filter(|&(&time, _)| time >= from) {
        rollup.feed(time, value, level, index, &mut sealed);
    }
    let after = rollup.open.as_ref().map_or(0, OpenChunk::rows);
    let whole = sealed.is_empty()
        && (after - before) as usize == left_out
        && rollup.pending.is_some()
        && (left_out == 0 || rollup.closed == closed);
    rollup.closed = closed;
    whole.then_some(())
}

/// Appends an open chunk, or its absence.
fn put_open(out: &mut Vec<u8>, open: Option<&OpenChunk>) {
    match open {
        Some(open) => put_chunk(out, open.window, &open.decoded()),
        None => out.push(0),
    }
}

/// Appends a present open chunk: its flag, its window and its rows, as `read_open` reads them.
fn put_chunk(out: &mut Vec<u8>, window: Millis, rows: &Rows) {
    out.push(1);
    out.extend_from_slice(&window.to_le_bytes());
    put_bytes(out, &compact::encode_plain(rows));
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
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::store::options::{RollupLevel, StoreOptions};

    /// Everything of a head a checkpoint keeps, with values as bits.
    fn state(head: &SeriesHead) -> String {
        let rows = |open: &Option<OpenChunk>| {
            open.as_ref().map(|open| {
                let rows = open.decoded();
                (open.window, rows.times, rows.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            })
        };
        let recent: Vec<(Millis, u64)> = head.recent.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        let rollups: Vec<_> = head
            .rollups
            .iter()
            .map(|r| (r.closed, r.pending.map(|b| (b.start, b.row().map(f64::to_bits))), rows(&r.open)))
            .collect();
        format!("{} {} {recent:?} {:?} {rollups:?}", head.newest, head.frontier, rows(&head.raw))
    }

    fn round_trip(plan: &Plan, head: &SeriesHead) -> SeriesHead {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = CheckpointWriter::new(1, plan);
        writer.head(5, head);
        writer.write(dir.path(), 1).unwrap();
        let mut read = read_checkpoint(dir.path(), 1, plan).unwrap();
        assert_eq!(read.damage, None);
        read.heads.pop().expect("the head").1
    }

    fn plan(span_minutes: u64, steps: &[u64]) -> Plan {
        let mut options = StoreOptions::new("unused");
        options.chunk_span = Duration::from_secs(span_minutes * 60);
        options.rollups = steps
            .iter()
            .map(|&step| RollupLevel {
                step: Duration::from_secs(step),
                retention: Duration::from_secs(1 << 30),
            })
            .collect();
        Plan::new(&options).unwrap()
    }

    #[test]
    fn heads_read_back_with_their_buckets_under_way_to_the_bit() {
        let plan = plan(120, &[300, 3600]);
        let start = 1_700_006_400_000;
        // Every 10 s for a while, so that the buckets under way are at every stage: just begun,
        // half full, with the raw open chunk begun inside them (a new 2-hour window).
        for points in [1, 45, 719, 725, 1500] {
            let mut head = SeriesHead::new(&plan);
            for i in 0..points {
                head.apply(start + i * 10_000 + 3, f64::from(i as u32 % 97) / 10.0 + 0.01, &plan);
            }
            assert_eq!(state(&round_trip(&plan, &head)), state(&head), "{points} points");
        }
    }

    proptest! {
        #[test]
        fn any_head_reads_back_as_it_was_and_goes_on_alike(
            span in prop::sample::select(vec![30u64, 60, 90, 120, 420]),
            steps in prop::sample::select(vec![vec![], vec![60], vec![300, 3600], vec![70, 700], vec![600]]),
            gaps in prop::collection::vec((1i64..40, prop::bool::weighted(0.05), -40i64..40, 0u32..1000), 1..400),
            split in any::<prop::sample::Index>(),
            close in any::<bool>(),
        ) {
            let plan = plan(span, &steps);
            let mut time = 1_700_006_400_000i64;
            let points: Vec<(Millis, f64)> = gaps
                .iter()
                .map(|&(gap, long, jitter, value)| {
                    time += if long { 7_200_000 } else { gap * 10_000 };
                    (time + jitter * 1_000, f64::from(value) / 10.0)
                })
                .collect();
            let at = split.index(points.len());
            let mut head = SeriesHead::new(&plan);
            for &(time, value) in &points[..at] {
                head.apply(time, value, &plan);
            }
            if close {
                head.close(&plan);
            }
            head.sealed.clear();
            let mut read = round_trip(&plan, &head);
            prop_assert_eq!(state(&read), state(&head));
            for &(time, value) in &points[at..] {
                prop_assert_eq!(head.apply(time, value, &plan), read.apply(time, value, &plan));
            }
            head.close(&plan);
            read.close(&plan);
            prop_assert_eq!(state(&read), state(&head));
            let sealed = |head: &SeriesHead| -> Vec<_> {
                head.sealed.iter().map(|c| (c.level, c.window, c.first, c.last, c.rows, c.bytes.clone())).collect()
            };
            prop_assert_eq!(sealed(&read), sealed(&head));
        }
    }
}
