//! The body of a [`Message::Batch`](super::Message::Batch) after its `seq`: a string table, a series
//! table and the points, each point a series index, a timestamp delta and a value.
//!
//! A node's batch is a few hundred series of one host, all read at one instant: its strings are
//! sent once, each series once, and each point then costs about 10 bytes (an index of one or two
//! bytes, a delta of 0 in one byte, eight bytes of value).

use std::collections::HashMap;
use std::mem::size_of;
use std::ops::Range;

use super::error::WireError;
use super::message::{MAX_BATCH_POINTS, MAX_DECODED_BYTES, MAX_SERIES_TAGS, MAX_STRING_BYTES};
use super::varint::{Cursor, put_varint, unzigzag, zigzag};
use crate::point::{Kind, Millis, Point, Tags};

/// What a decoded tag takes beyond its text: two `String`s and their share of a tree node.
const TAG_BYTES: usize = 64;

/// The fewest bytes a series can be sent in: host, metric, kind and tag count.
const MIN_SERIES_BYTES: usize = 4;

/// The fewest bytes a point can be sent in: index, delta and value.
const MIN_POINT_BYTES: usize = 10;

/// What one decoded point with `text` bytes of host, metric and tags and `tags` tags takes in
/// memory, as counted against [`MAX_DECODED_BYTES`].
pub(crate) fn point_cost(text: usize, tags: usize) -> usize {
    size_of::<Point>() + text + tags * TAG_BYTES
}

/// Appends the string table, the series table and `points`.
pub(crate) fn encode_batch(points: &[Point], out: &mut Vec<u8>) {
    let mut tables = Tables::default();
    let indices: Vec<u32> = points.iter().map(|point| tables.series_of(point)).collect();

    put_varint(out, tables.strings.len() as u64);
    for string in &tables.strings {
        put_varint(out, string.len() as u64);
        out.extend_from_slice(string.as_bytes());
    }
    put_varint(out, tables.series.len() as u64);
    for series in &tables.series {
        put_varint(out, u64::from(series.host));
        put_varint(out, u64::from(series.metric));
        out.push(match series.kind {
            Kind::Gauge => 0,
            Kind::Counter => 1,
        });
        let tags = &tables.tags[series.tags.clone()];
        put_varint(out, (tags.len() / 2) as u64);
        for &index in tags {
            put_varint(out, u64::from(index));
        }
    }
    put_varint(out, points.len() as u64);
    out.reserve(points.len() * 11);
    let mut previous: i64 = 0;
    for (point, &index) in points.iter().zip(&indices) {
        put_varint(out, u64::from(index));
        // Wrapping both ways: any two i64s have a delta that round-trips.
        put_varint(out, zigzag(point.timestamp.wrapping_sub(previous)));
        previous = point.timestamp;
        out.extend_from_slice(&point.value.to_le_bytes());
    }
}

/// One series of a batch as it lies in the frame: its text borrowed, nothing allocated for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesView<'a> {
    /// Its host.
    pub(crate) host: &'a str,
    /// Its metric.
    pub(crate) metric: &'a str,
    /// Its kind.
    pub(crate) kind: Kind,
    /// Where its tags are in the batch's (see [`BatchView::tags_of`]).
    tags: Range<usize>,
    /// What one of its points takes once decoded, as counted against [`MAX_DECODED_BYTES`].
    cost: usize,
}

/// A batch as it lies in the frame: its series table and its points as (series index, timestamp,
/// value). The store takes it this way, and finds each series once a batch, not once a point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BatchView<'a> {
    /// The series table.
    pub(crate) series: Vec<SeriesView<'a>>,
    /// Every series' tags, one after another, each series' by name.
    tags: Vec<(&'a str, &'a str)>,
    /// The points, each naming its series by its place in the table.
    pub(crate) points: Vec<(u32, Millis, f64)>,
}

impl<'a> BatchView<'a> {
    /// The tags of `series`, one of this batch's, by name.
    pub(crate) fn tags_of(
        &self,
        series: &SeriesView<'a>,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + '_ {
        self.tags[series.tags.clone()].iter().copied()
    }
}

/// Reads the body after `seq` and returns its points.
pub(crate) fn decode_batch(cursor: &mut Cursor<'_>) -> Result<Vec<Point>, WireError> {
    let view = decode_batch_view(cursor)?;
    let templates: Vec<Point> = view
        .series
        .iter()
        .map(|series| Point {
            host: series.host.to_owned(),
            metric: series.metric.to_owned(),
            tags: view.tags_of(series).map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
            timestamp: 0,
            value: 0.0,
            kind: series.kind,
        })
        .collect();
    Ok(view
        .points
        .iter()
        .map(|&(index, timestamp, value)| Point { timestamp, value, ..templates[index as usize].clone() })
        .collect())
}

/// Reads the body after `seq`, checking all [`decode_batch`] checks (the memory its points would
/// take decoded included, so both refuse the same batches), without building a point.
pub(crate) fn decode_batch_view<'a>(cursor: &mut Cursor<'a>) -> Result<BatchView<'a>, WireError> {
    let mut spent = 0usize;
    let mut spend = |cost: usize| {
        spent = spent.saturating_add(cost);
        if spent > MAX_DECODED_BYTES { Err(WireError::TooLarge { max: MAX_DECODED_BYTES }) } else { Ok(()) }
    };

    // A string takes at least its one-byte length.
    let string_count = count(cursor, "string count", usize::MAX, 1)?;
    let mut strings = Vec::with_capacity(string_count);
    for _ in 0..string_count {
        strings.push(cursor.str(MAX_STRING_BYTES)?);
    }

    let series_count = count(cursor, "series count", MAX_BATCH_POINTS, MIN_SERIES_BYTES)?;
    let mut series = Vec::with_capacity(series_count);
    let mut tags: Vec<(&str, &str)> = Vec::new();
    for _ in 0..series_count {
        let host = string(cursor, &strings)?;
        let metric = string(cursor, &strings)?;
        let at = cursor.position();
        let kind = match cursor.u8()? {
            0 => Kind::Gauge,
            1 => Kind::Counter,
            found => return Err(WireError::UnknownKind { found, at }),
        };
        let tag_count = count(cursor, "tag count", MAX_SERIES_TAGS, 2)?;
        let first = tags.len();
        for _ in 0..tag_count {
            let at = cursor.position();
            let name = string(cursor, &strings)?;
            let value = string(cursor, &strings)?;
            if tags.len() > first && tags.last().is_some_and(|&(last, _)| last >= name) {
                return Err(WireError::UnsortedTags { at });
            }
            tags.push((name, value));
        }
        let own = &tags[first..];
        let text = host.len() + metric.len() + own.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        let cost = point_cost(text, own.len());
        // The series' template is memory too, when decoded to points: count it.
        spend(cost)?;
        series.push(SeriesView { host, metric, kind, tags: first..tags.len(), cost });
    }

    let point_count = count(cursor, "point count", MAX_BATCH_POINTS, MIN_POINT_BYTES)?;
    let mut points = Vec::with_capacity(point_count);
    let mut timestamp: i64 = 0;
    for _ in 0..point_count {
        let at = cursor.position();
        let index = cursor.varint()?;
        let found = usize::try_from(index).ok().and_then(|i| series.get(i));
        let Some(found) = found else {
            return Err(WireError::BadIndex { table: "series", index, len: series.len(), at });
        };
        spend(found.cost)?;
        timestamp = timestamp.wrapping_add(unzigzag(cursor.varint()?));
        let value = cursor.f64()?;
        // The index is within the table, whose length is at most MAX_BATCH_POINTS.
        points.push((index as u32, timestamp, value));
    }
    Ok(BatchView { series, tags, points })
}

/// A count of things that each take at least `min_bytes`: over `max`, or more than the bytes left
/// can hold, it is refused before anything is allocated for it.
fn count(
    cursor: &mut Cursor<'_>,
    what: &'static str,
    max: usize,
    min_bytes: usize,
) -> Result<usize, WireError> {
    let value = cursor.bounded(what, max as u64)? as usize;
    if value.saturating_mul(min_bytes) > cursor.remaining() {
        return Err(WireError::Truncated { at: cursor.position() + cursor.remaining() });
    }
    Ok(value)
}

/// A string index, and the string of `strings` it names.
fn string<'s>(cursor: &mut Cursor<'_>, strings: &[&'s str]) -> Result<&'s str, WireError> {
    let at = cursor.position();
    let index = cursor.varint()?;
    usize::try_from(index).ok().and_then(|i| strings.get(i)).copied().ok_or(WireError::BadIndex {
        table: "string",
        index,
        len: strings.len(),
        at,
    })
}

/// The tables of a batch being encoded.
#[derive(Default)]
struct Tables<'a> {
    /// Each distinct string, in first-use order.
    strings: Vec<&'a str>,
    /// The index of each string in `strings`.
    string_index: HashMap<&'a str, u32>,
    /// Each distinct series, in first-use order.
    series: Vec<SeriesEntry>,
    /// The index of each series in `series`.
    series_index: HashMap<SeriesRef<'a>, u32>,
    /// The tags of every series, flat: name index, value index, name index, ...
    tags: Vec<u32>,
}

/// A series as the encoder meets it, borrowed from a point.
#[derive(PartialEq, Eq, Hash)]
struct SeriesRef<'a> {
    host: &'a str,
    metric: &'a str,
    tags: &'a Tags,
    kind: Kind,
}

/// A series of the table: string indices.
struct SeriesEntry {
    host: u32,
    metric: u32,
    kind: Kind,
    /// Its name and value indices in [`Tables::tags`].
    tags: Range<usize>,
}

impl<'a> Tables<'a> {
    /// The index of `point`'s series, added to the table if new.
    fn series_of(&mut self, point: &'a Point) -> u32 {
        let key = SeriesRef { host: &point.host, metric: &point.metric, tags: &point.tags, kind: point.kind };
        if let Some(&index) = self.series_index.get(&key) {
            return index;
        }
        let host = self.string(&point.host);
        let metric = self.string(&point.metric);
        let start = self.tags.len();
        for (name, value) in &point.tags {
            let name = self.string(name);
            let value = self.string(value);
            self.tags.extend([name, value]);
        }
        let index = self.series.len() as u32;
        self.series.push(SeriesEntry { host, metric, kind: point.kind, tags: start..self.tags.len() });
        self.series_index.insert(key, index);
        index
    }

    /// The index of `string`, added to the table if new.
    fn string(&mut self, string: &'a str) -> u32 {
        let next = self.strings.len() as u32;
        let index = *self.string_index.entry(string).or_insert(next);
        if index == next {
            self.strings.push(string);
        }
        index
    }
}
