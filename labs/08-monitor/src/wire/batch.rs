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
use crate::point::{Kind, Point, Tags};

/// What a decoded tag takes beyond its text: two `String`s and their share of a tree node.
const TAG_BYTES: usize = 64;

/// The fewest bytes a series can be sent in: host, metric, kind and tag count.
const MIN_SERIES_BYTES: usize = 4;

/// The fewest bytes a point can be sent in: index, delta and value.
const MIN_POINT_BYTES: usize = 10;

/// What one decoded point with `text` bytes of host, metric and tags and `tags` tags takes in
/// memory, as counted against [`MAX_DECODED_BYTES`].
pub(crate) fn point_cost(text: usize, tags: usize) -> usize {
    todo!("stage 2: the size of a Point, its text, and TAG_BYTES a tag")
}

/// Appends the string table, the series table and `points`.
// Until it is written, `out` is only passed through, which clippy would rather see as a slice.
#[allow(clippy::ptr_arg)]
pub(crate) fn encode_batch(points: &[Point], out: &mut Vec<u8>) {
    todo!(
        "stage 2: a string table and a series table (each distinct string and series once), then each point as its series index, a zigzag timestamp delta and its value"
    )
}

/// Reads the body after `seq` and returns its points.
pub(crate) fn decode_batch(cursor: &mut Cursor<'_>) -> Result<Vec<Point>, WireError> {
    todo!(
        "stage 2: the tables, then the points; check every count against its limit and the bytes left, every index against its table, and the decoded size against MAX_DECODED_BYTES, before allocating"
    )
}
