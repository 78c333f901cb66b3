//! The wire (stage 2): how points travel from an agent to a relay.
//!
//! Points go in compact batches ([`Message::Batch`]: a string table, a series table, then about
//! ten bytes a point), each in one of nbNet's length frames, over one long TCP connection. The
//! relay answers each batch with an [`Message::Ack`] once it has it, or [`Message::Refused`] (a
//! protocol version it does not speak, a frame it cannot read) before it closes the connection.
//! Structural faults are [`WireError`]s and cost the sender its connection; points that decode but
//! are not worth storing (NaN, a timestamp from another year, a tag set too big) are each refused
//! with a [`Reject`] and counted ([`Rejections`]), and the rest of the batch is kept.
//!
//! The agent's [`Sender`] puts each batch in an on-disk [`Spool`] before sending it and takes it
//! out when its ack comes, so batches survive a relay outage and an agent restart, in order.
//!
//! # Layout
//!
//! - [`message`]: [`Message`], the protocol's version and limits, [`encode`] and [`decode`].
//! - `batch` and `varint` (private): a batch's tables and points; varints, zigzag and a bounds-checked
//!   cursor.
//! - [`validate`](mod@validate): per-point checks ([`validate()`], [`Reject`], [`Rejections`]).
//! - [`frame`]: frames on a stream ([`encode_frame`], [`write_message`], [`FrameDecoder`],
//!   [`FrameReader`]).
//! - [`spool`]: the bounded on-disk queue ([`Spool`]); `segment` (private): its files.
//! - [`sender`]: the agent's sender ([`Sender`], [`SenderConfig`], [`SenderStats`]); `connection`
//!   and `backoff` (crate-private): one connection to a relay, and the waits between tries, which the
//!   relay's forwarders wait too.
//! - [`error`]: what can be wrong with bytes from a peer ([`WireError`]).

pub(crate) mod backoff;
mod batch;
mod connection;
pub mod error;
pub mod frame;
pub mod message;
mod segment;
pub mod sender;
pub mod spool;
pub mod validate;
pub(crate) mod varint;

pub(crate) use batch::{BatchView, SeriesView};
pub use error::WireError;
pub use frame::{FrameDecoder, FrameReader, encode_frame, write_frame, write_message};
pub use message::{
    MAGIC, MAX_BATCH_POINTS, MAX_DECODED_BYTES, MAX_PAYLOAD_BYTES, MAX_SERIES_TAGS, MAX_STRING_BYTES,
    Message, PROTOCOL_VERSION, batch_seq, decode, decoded_size, encode,
};
pub use sender::{Sender, SenderConfig, SenderStats};
pub use spool::Spool;
pub use validate::{
    MAX_FUTURE, MAX_NAME_BYTES, MAX_PAST, MAX_TAGS, Reject, Rejections, keep_valid, validate,
};
