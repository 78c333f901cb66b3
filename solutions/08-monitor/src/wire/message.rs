//! [`Message`]: what one frame carries between an agent and a relay (a batch of points, an ack, a
//! refusal), the protocol's version and limits, and the codec ([`encode`], [`decode`]).
//!
//! Every payload starts with [`MAGIC`], [`PROTOCOL_VERSION`] and a type byte. A batch is compact:
//! a string table, a series table of indices into it, then each point as a series index, a zigzag
//! varint timestamp delta and an 8-byte value, so a host, metric or tag repeated over a batch is
//! sent once (the layout is in [`Message::Batch`]). A payload travels in nbNet's length frame
//! ([`super::frame`]), so the relay serves it on lab 07's event loop with `nbnet::LengthCodec`.
//!
//! [`decode`] checks every count and length against the bytes left and the limits below before it
//! reads or allocates: no payload panics it, and none makes it reserve more memory than its
//! points take ([`MAX_DECODED_BYTES`]).

use super::batch::{self, BatchView, decode_batch, encode_batch, point_cost};
use super::error::WireError;
use super::varint::{Cursor, put_varint};
use crate::point::Point;

/// The version of the protocol this crate speaks; a peer sending another is refused.
pub const PROTOCOL_VERSION: u8 = 1;

/// The first byte of every payload: `m`, for monitor.
pub const MAGIC: u8 = b'm';

/// The longest payload a frame may carry (4 MiB); the frame's 10-digit header does not count.
pub const MAX_PAYLOAD_BYTES: usize = 4 << 20;

/// The most points one batch may carry.
pub const MAX_BATCH_POINTS: usize = 10_000;

/// The longest string in a batch's string table (or a refusal's reason), in bytes.
pub const MAX_STRING_BYTES: usize = 1024;

/// The most tags one series of a batch may have.
pub const MAX_SERIES_TAGS: usize = 64;

/// The most memory a decoded batch may take (64 MiB), as [`decoded_size`] counts it: what keeps a
/// small payload whose points all name one huge series from decoding into gigabytes.
pub const MAX_DECODED_BYTES: usize = 64 << 20;

/// The type byte of a batch.
const BATCH: u8 = b'B';
/// The type byte of an ack.
const ACK: u8 = b'A';
/// The type byte of a refusal.
const REFUSED: u8 = b'R';

/// One frame's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Points from an agent, numbered so that its ack names it.
    ///
    /// After the magic, the version and `B`, all integers varints (`z` zigzag):
    ///
    /// | field | encoding |
    /// |---|---|
    /// | `seq` | varint |
    /// | string table | count, then each string as its length and its UTF-8 bytes |
    /// | series table | count, then each series as host and metric (string indices), kind (one byte: 0 gauge, 1 counter), tag count, and each tag as name and value (string indices), names strictly increasing |
    /// | points | count, then each point as its series index, its timestamp minus the previous point's (the first's minus 0) as a zigzag varint, and its value as 8 bytes of little-endian IEEE 754 |
    Batch {
        /// The batch's number: the sender's batches have increasing numbers, and a batch resent
        /// after a lost ack keeps its own.
        seq: u64,
        /// The points, in order.
        points: Vec<Point>,
    },
    /// The relay took the batch `seq`: `accepted` of its points were valid and `rejected` not
    /// (the relay counts why). The sender may forget the batch.
    Ack {
        /// The batch acknowledged.
        seq: u64,
        /// Its points that passed validation.
        accepted: u32,
        /// Its points that did not.
        rejected: u32,
    },
    /// The peer will not take what was sent (a version it does not speak, a malformed frame); it
    /// closes the connection after sending this. Its layout is the same in every version, so a
    /// peer can always read why it was turned away.
    Refused {
        /// Why, for the log.
        reason: String,
    },
}

/// Appends the payload of `message` to `out`: no frame header (see [`super::encode_frame`]).
///
/// A batch should keep within the limits ([`MAX_BATCH_POINTS`], [`MAX_STRING_BYTES`],
/// [`MAX_SERIES_TAGS`], [`MAX_PAYLOAD_BYTES`], [`MAX_DECODED_BYTES`]): one that does not is
/// encoded all the same, and refused by its receiver. A reason longer than [`MAX_STRING_BYTES`] is
/// cut to fit.
///
/// # Examples
///
/// ```
/// use monitor::wire::{Message, decode, encode};
/// let mut payload = Vec::new();
/// encode(&Message::Ack { seq: 7, accepted: 1000, rejected: 2 }, &mut payload);
/// assert_eq!(payload[..2], [monitor::wire::MAGIC, monitor::wire::PROTOCOL_VERSION]);
/// assert_eq!(decode(&payload).unwrap(), Message::Ack { seq: 7, accepted: 1000, rejected: 2 });
/// ```
pub fn encode(message: &Message, out: &mut Vec<u8>) {
    out.extend_from_slice(&[MAGIC, PROTOCOL_VERSION]);
    match message {
        Message::Batch { seq, points } => {
            out.push(BATCH);
            put_varint(out, *seq);
            encode_batch(points, out);
        }
        Message::Ack { seq, accepted, rejected } => {
            out.push(ACK);
            put_varint(out, *seq);
            put_varint(out, u64::from(*accepted));
            put_varint(out, u64::from(*rejected));
        }
        Message::Refused { reason } => {
            out.push(REFUSED);
            let mut end = reason.len().min(MAX_STRING_BYTES);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            put_varint(out, end as u64);
            out.extend_from_slice(&reason.as_bytes()[..end]);
        }
    }
}

/// The message in `payload` (a whole payload, without its frame header).
///
/// # Errors
///
/// A [`WireError`] naming what is wrong and at which byte: a bad magic byte, a version other than
/// [`PROTOCOL_VERSION`] (but a refusal of any version is read), a truncated payload, a count or
/// length over its limit, an index out of its table, an unknown kind, trailing bytes. Points with
/// odd values (NaN, a timestamp in 1970) decode: refusing them is [`super::validate()`]'s job.
pub fn decode(payload: &[u8]) -> Result<Message, WireError> {
    let mut cursor = Cursor::new(payload);
    let kind = header(&mut cursor)?;
    let message = match kind {
        BATCH => {
            let seq = cursor.varint()?;
            Message::Batch { seq, points: decode_batch(&mut cursor)? }
        }
        ACK => Message::Ack {
            seq: cursor.varint()?,
            accepted: cursor.bounded("accepted count", u64::from(u32::MAX))? as u32,
            rejected: cursor.bounded("rejected count", u64::from(u32::MAX))? as u32,
        },
        REFUSED => Message::Refused { reason: cursor.str(MAX_STRING_BYTES)?.to_owned() },
        found => return Err(WireError::UnknownType { found }),
    };
    cursor.finish()?;
    Ok(message)
}

/// The `seq` of the batch encoded in `payload`, read without decoding its points: how a sender
/// matches an ack to the batch at the front of its spool.
///
/// # Errors
///
/// When `payload` does not start like a batch of this version.
pub fn batch_seq(payload: &[u8]) -> Result<u64, WireError> {
    let mut cursor = Cursor::new(payload);
    match header(&mut cursor)? {
        BATCH => cursor.varint(),
        found => Err(WireError::UnknownType { found }),
    }
}

/// The `seq` and the points of `payload` when it is a batch of this version, read as
/// [`decode`] reads them but without building a point (see `BatchView`); `None` when it is
/// another message.
///
/// # Errors
///
/// A [`WireError`], as [`decode`]'s.
pub(crate) fn decode_batch_view(payload: &[u8]) -> Result<Option<(u64, BatchView<'_>)>, WireError> {
    let mut cursor = Cursor::new(payload);
    if header(&mut cursor)? != BATCH {
        return Ok(None);
    }
    let seq = cursor.varint()?;
    let batch = batch::decode_batch_view(&mut cursor)?;
    cursor.finish()?;
    Ok(Some((seq, batch)))
}

/// What `points` take in memory once decoded, as [`decode`] counts it against
/// [`MAX_DECODED_BYTES`]: per point, the size of a [`Point`], its text, and 64 bytes a tag.
pub fn decoded_size(points: &[Point]) -> usize {
    let text = |point: &Point| {
        point.host.len()
            + point.metric.len()
            + point.tags.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>()
    };
    points.iter().map(|point| point_cost(text(point), point.tags.len())).sum()
}

/// Reads the magic, the version and the type byte, and returns the type; any version's refusal
/// passes.
fn header(cursor: &mut Cursor<'_>) -> Result<u8, WireError> {
    let magic = cursor.u8()?;
    if magic != MAGIC {
        return Err(WireError::BadMagic { found: magic });
    }
    let version = cursor.u8()?;
    match cursor.u8() {
        Ok(REFUSED) => Ok(REFUSED),
        _ if version != PROTOCOL_VERSION => Err(WireError::Version { found: version }),
        kind => kind,
    }
}
