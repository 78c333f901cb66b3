//! The write-ahead log: every append is a record in the current *segment* file, and an append
//! returns only once its record is on disk, fsynced. A checkpoint starts a new segment; the old
//! ones are deleted once what they held is in block files and the checkpoint.
//!
//! **Group commit.** An fsync takes a fraction of a millisecond on an SSD and many on a disk,
//! whatever it writes, so appenders share them: each puts its record in a shared buffer and waits
//! for its *ticket* (the buffer's length after its record) to be durable. Whoever finds no write
//! under way becomes the leader: it takes the whole buffer, writes and fsyncs it without the lock,
//! and wakes everyone whose ticket it covered; records put in meanwhile wait for the next leader.
//! So a thousand concurrent appends cost a few fsyncs, not a thousand. A write or an fsync that
//! fails fails every append since, for good: after a failed fsync the kernel may have dropped the
//! pages, and nothing can say what is on disk.
//!
//! | record | payload after its type byte |
//! |---|---|
//! | `S`, a new series | its id (varint), then host, metric (each a varint length and UTF-8), kind (0 gauge, 1 counter), tag count, and each tag's name and value |
//! | `P`, points | the count (varint), then each point as its series id (varint), its time minus the previous point's (zigzag varint; the first minus 0) and its value (8 bytes, little-endian IEEE 754) |
//!
//! A series' `S` record always comes before the first `P` record naming it, in the same segment
//! or an older one still on disk; each record is framed with its length and CRC-32
//! ([`super::encoding`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tracing::warn;

use super::encoding::{
    Cursor, begin_record, end_record, put_series, put_varint, scan_records, unzigzag, zigzag,
};
use super::series::SeriesId;
use crate::error::Error;
use crate::point::{Kind, Millis, SeriesKey};

/// The most points one `P` record holds: a larger append writes several.
pub(crate) const MAX_RECORD_POINTS: usize = 1 << 16;

/// The type byte of a series record.
const SERIES: u8 = b'S';
/// The type byte of a points record.
const POINTS: u8 = b'P';

/// A point as the log and the head see it.
pub(crate) type Entry = (SeriesId, Millis, f64);

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// A series was given an id.
    Series(SeriesId, SeriesKey, Kind),
    /// Points.
    Points(Vec<Entry>),
}

/// Appends the framed record of a new series.
pub(crate) fn encode_series(out: &mut Vec<u8>, id: SeriesId, key: &SeriesKey, kind: Kind) {
    let start = begin_record(out);
    out.push(SERIES);
    put_varint(out, u64::from(id));
    put_series(out, key, kind);
    end_record(out, start);
}

/// Appends the framed records of `entries`, [`MAX_RECORD_POINTS`] a record.
pub(crate) fn encode_points(out: &mut Vec<u8>, entries: &[Entry]) {
    out.reserve(entries.len() * 12 + 16);
    for part in entries.chunks(MAX_RECORD_POINTS) {
        let start = begin_record(out);
        out.push(POINTS);
        put_varint(out, part.len() as u64);
        let mut previous: Millis = 0;
        for &(id, time, value) in part {
            put_varint(out, u64::from(id));
            put_varint(out, zigzag(time.wrapping_sub(previous)));
            previous = time;
            out.extend_from_slice(&value.to_le_bytes());
        }
        end_record(out, start);
    }
}

/// Decodes a record's payload; `None` when it is not one.
pub(crate) fn decode_record(payload: &[u8]) -> Option<Record> {
    let mut cursor = Cursor::new(payload);
    let record = match cursor.u8()? {
        SERIES => {
            let id = SeriesId::try_from(cursor.varint()?).ok()?;
            let (key, kind) = cursor.series()?;
            Record::Series(id, key, kind)
        }
        POINTS => {
            // A point takes at least 10 bytes: the count cannot ask for more than are left.
            let count = cursor.count(cursor.remaining() / 10)?;
            let mut entries = Vec::with_capacity(count);
            let mut time: Millis = 0;
            for _ in 0..count {
                let id = SeriesId::try_from(cursor.varint()?).ok()?;
                time = time.wrapping_add(unzigzag(cursor.varint()?));
                entries.push((id, time, cursor.f64()?));
            }
            Record::Points(entries)
        }
        _ => return None,
    };
    cursor.is_done().then_some(record)
}

/// A position in the log: the bytes ever put in it, up to the end of one record.
pub(crate) type Ticket = u64;

/// The log of a store.
#[derive(Debug)]
pub(crate) struct Wal {
    /// The segments' directory.
    dir: PathBuf,
    /// The buffer and what is durable.
    state: Mutex<WalState>,
    /// Signalled when a leader has finished.
    written: Condvar,
    /// Fsyncs done.
    syncs: AtomicU64,
}

#[derive(Debug)]
struct WalState {
    /// Records put in and not yet written.
    pending: Vec<u8>,
    /// The bytes ever put in.
    enqueued: Ticket,
    /// The bytes ever made durable.
    durable: Ticket,
    /// Whether a leader is writing.
    writing: bool,
    /// The current segment's number.
    segment: u64,
    /// Its file.
    file: Arc<File>,
    /// Its bytes, written or pending.
    segment_bytes: u64,
    /// Why the log failed, once it has.
    failed: Option<(io::ErrorKind, String)>,
}

impl Wal {
    /// A log in `dir` appending to a new, empty segment `segment`.
    pub(crate) fn create(dir: &Path, segment: u64) -> crate::Result<Wal> {
        let file = create_segment(dir, segment)?;
        let state = WalState {
            pending: Vec::new(),
            enqueued: 0,
            durable: 0,
            writing: false,
            segment,
            file: Arc::new(file),
            segment_bytes: 0,
            failed: None,
        };
        Ok(Wal {
            dir: dir.to_path_buf(),
            state: Mutex::new(state),
            written: Condvar::new(),
            syncs: AtomicU64::new(0),
        })
    }

    /// Puts framed records in the buffer; their ticket is durable once [`Wal::wait`] returns.
    pub(crate) fn enqueue(&self, records: &[u8]) -> Ticket {
        let mut state = self.lock();
        state.pending.extend_from_slice(records);
        state.enqueued += records.len() as u64;
        state.segment_bytes += records.len() as u64;
        state.enqueued
    }

    /// Waits until `ticket` is durable, leading a write when none is under way.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the segment could not be written or synced, now or before.
    pub(crate) fn wait(&self, ticket: Ticket) -> crate::Result<()> {
        let mut state = self.lock();
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if let Some(failure) = &state.failed {
                return Err(self.failure(&state, failure));
            }
            if state.writing {
                state = self.written.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state = self.lead(state);
        }
    }

    /// Writes and syncs everything put in so far, then appends to a new segment; returns its
    /// number. Records put in after it returns go to the new segment.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the old segment cannot be written or synced or the new one made.
    pub(crate) fn rotate(&self) -> crate::Result<u64> {
        let mut state = self.lock();
        loop {
            if let Some(failure) = &state.failed {
                return Err(self.failure(&state, failure));
            }
            if state.writing {
                state = self.written.wait(state).unwrap_or_else(PoisonError::into_inner);
            } else if state.durable < state.enqueued {
                state = self.lead(state);
            } else {
                break;
            }
        }
        let next = state.segment.saturating_add(1);
        let file = create_segment(&self.dir, next)?;
        state.file = Arc::new(file);
        state.segment = next;
        state.segment_bytes = 0;
        Ok(next)
    }

    /// The current segment's bytes, written or pending.
    pub(crate) fn segment_bytes(&self) -> u64 {
        self.lock().segment_bytes
    }

    /// Fsyncs done since the log was made.
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Writes and syncs the buffer as the leader, with the lock released meanwhile.
    fn lead<'a>(&'a self, mut state: MutexGuard<'a, WalState>) -> MutexGuard<'a, WalState> {
        state.writing = true;
        let batch = std::mem::take(&mut state.pending);
        let end = state.enqueued;
        let file = Arc::clone(&state.file);
        drop(state);
        let result = (&*file).write_all(&batch).and_then(|()| file.sync_data());
        let mut state = self.lock();
        state.writing = false;
        match result {
            Ok(()) => {
                state.durable = end;
                self.syncs.fetch_add(1, Ordering::Relaxed);
                if state.pending.is_empty() {
                    // Keep the buffer's memory for the next round.
                    let mut batch = batch;
                    batch.clear();
                    state.pending = batch;
                }
            }
            Err(err) => {
                warn!(segment = %segment_path(&self.dir, state.segment).display(), cause = %err, "write-ahead log failed: no more appends");
                state.failed = Some((err.kind(), err.to_string()));
            }
        }
        self.written.notify_all();
        state
    }

    /// The error for a failed log.
    fn failure(&self, state: &WalState, (kind, message): &(io::ErrorKind, String)) -> Error {
        Error::File {
            path: segment_path(&self.dir, state.segment),
            source: io::Error::new(*kind, message.clone()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WalState> {
        // Every field is set by single statements: a panic elsewhere leaves it whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The path of segment `segment` in `dir`.
pub(crate) fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:020}.wal"))
}

/// The numbers of the segments in `dir`, in order.
pub(crate) fn list_segments(dir: &Path) -> crate::Result<Vec<u64>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::file(dir))? {
        let name = entry.map_err(Error::file(dir))?.file_name();
        if let Some(number) =
            name.to_str().and_then(|name| name.strip_suffix(".wal")).and_then(|n| n.parse().ok())
        {
            segments.push(number);
        }
    }
    segments.sort_unstable();
    Ok(segments)
}

/// The records of segment `segment` (its bytes and each payload's range), after cutting it with
/// a warning at the first torn or damaged record.
pub(crate) fn recover_segment(dir: &Path, segment: u64) -> crate::Result<(Vec<u8>, Vec<Range<usize>>)> {
    let path = segment_path(dir, segment);
    let bytes = fs::read(&path).map_err(Error::file(&path))?;
    let (mut records, mut good) = scan_records(&bytes);
    // A record that passes its CRC but does not decode ends the good part too.
    if let Some(bad) = records.iter().position(|range| decode_record(&bytes[range.clone()]).is_none()) {
        good = records[bad].start - super::encoding::RECORD_HEADER;
        records.truncate(bad);
    }
    if good < bytes.len() {
        warn!(segment = %path.display(), at = good, lost = bytes.len() - good, "write-ahead log damaged: cut at the last good record");
        let file = OpenOptions::new().write(true).open(&path).map_err(Error::file(&path))?;
        file.set_len(good as u64).and_then(|()| file.sync_all()).map_err(Error::file(&path))?;
    }
    Ok((bytes, records))
}

/// Creates segment `segment`, empty, and syncs the directory so that its name is durable.
fn create_segment(dir: &Path, segment: u64) -> crate::Result<File> {
    let path = segment_path(dir, segment);
    let file = OpenOptions::new().append(true).create_new(true).open(&path).map_err(Error::file(&path))?;
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(Error::file(dir))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_decode_as_encoded() {
        let key = SeriesKey { host: "h".into(), metric: "m".into(), tags: Default::default() };
        let mut out = Vec::new();
        encode_series(&mut out, 7, &key, Kind::Gauge);
        let entries = vec![(7, 1_700_000_000_000, 1.5), (7, -5, f64::NAN), (0, i64::MAX, -0.0)];
        encode_points(&mut out, &entries);
        let (records, end) = scan_records(&out);
        assert_eq!(end, out.len());
        assert_eq!(decode_record(&out[records[0].clone()]), Some(Record::Series(7, key, Kind::Gauge)));
        let Some(Record::Points(got)) = decode_record(&out[records[1].clone()]) else { panic!("points") };
        let bits =
            |entries: &[Entry]| entries.iter().map(|&(id, t, v)| (id, t, v.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&entries));
    }

    #[test]
    fn concurrent_appends_share_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Wal::create(dir.path(), 1).unwrap();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let ticket = wal.enqueue(&[0; 100]);
                        wal.wait(ticket).unwrap();
                    }
                });
            }
        });
        assert!(wal.syncs() < 400, "{} syncs for 400 appends", wal.syncs());
        assert_eq!(fs::metadata(segment_path(dir.path(), 1)).unwrap().len(), 40_000);
        assert_eq!(wal.rotate().unwrap(), 2);
    }
}
