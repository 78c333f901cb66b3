//! [`WireError`]: why bytes from a peer are not a message, each variant naming what was wrong and
//! where.
//!
//! A `WireError` is about a frame, never about one point: the receiver answers
//! [`Message::Refused`](super::Message::Refused) and closes the connection. A point that decodes but
//! should not be stored (NaN, a timestamp from another year) is a [`Reject`](super::Reject) instead,
//! counted in the batch's ack.

use std::io;

/// Bytes that are not a message of this protocol, or a stream that ended inside one.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The payload does not start with [`MAGIC`](super::MAGIC): not this protocol at all.
    #[error("bad magic byte {found:#04x}")]
    BadMagic {
        /// The first byte.
        found: u8,
    },
    /// A protocol version this side does not speak.
    #[error("protocol version {found} unsupported (this side speaks {})", super::PROTOCOL_VERSION)]
    Version {
        /// The version the peer sent.
        found: u8,
    },
    /// A message type other than batch, ack or refused.
    #[error("unknown message type {found:#04x}")]
    UnknownType {
        /// The type byte.
        found: u8,
    },
    /// The payload ends before the message does.
    #[error("truncated at byte {at}")]
    Truncated {
        /// The payload's length: where more was needed.
        at: usize,
    },
    /// A varint longer than 10 bytes, or one whose value does not fit in 64 bits.
    #[error("bad varint at byte {at}")]
    BadVarint {
        /// Where the varint starts.
        at: usize,
    },
    /// A string that is not UTF-8.
    #[error("string at byte {at} is not UTF-8")]
    BadUtf8 {
        /// Where the string's bytes start.
        at: usize,
    },
    /// A length or count over the protocol's limit for it.
    #[error("{what} {value} at byte {at} is over the limit of {max}")]
    OverLimit {
        /// What was counted: `"string length"`, `"point count"`, ...
        what: &'static str,
        /// The value sent.
        value: u64,
        /// The limit.
        max: u64,
        /// Where the value was read.
        at: usize,
    },
    /// An index into the batch's string or series table past its end.
    #[error("{table} index {index} at byte {at} is out of a table of {len}")]
    BadIndex {
        /// `"string"` or `"series"`.
        table: &'static str,
        /// The index sent.
        index: u64,
        /// The table's length.
        len: usize,
        /// Where the index was read.
        at: usize,
    },
    /// A series whose kind byte is neither gauge (0) nor counter (1).
    #[error("unknown kind {found} at byte {at}")]
    UnknownKind {
        /// The kind byte.
        found: u8,
        /// Where it was read.
        at: usize,
    },
    /// A series' tags not in strictly increasing order of name (so one name twice).
    #[error("tags of the series at byte {at} are not sorted by name, or repeat one")]
    UnsortedTags {
        /// Where the out-of-order tag was read.
        at: usize,
    },
    /// A batch whose points would take more memory than [`MAX_DECODED_BYTES`](super::MAX_DECODED_BYTES):
    /// a small table referenced by many points must not become gigabytes.
    #[error("batch would decode to more than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// Bytes after the end of the message.
    #[error("{extra} bytes after the message, at byte {at}")]
    Trailing {
        /// Where the message ended.
        at: usize,
        /// How many bytes were left.
        extra: usize,
    },
    /// A frame whose length header is not 10 ASCII digits.
    #[error("bad frame header {header:?}")]
    BadHeader {
        /// The header's bytes, lossily as text.
        header: String,
    },
    /// A frame whose length is over the limit.
    #[error("frame length {len} over the limit of {max}")]
    FrameTooLong {
        /// The length in the header.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("connection closed inside a frame ({buffered} bytes of it received)")]
    ClosedInFrame {
        /// The bytes of the unfinished frame that had come.
        buffered: usize,
    },
    /// Reading the stream failed (only [`FrameReader`](super::FrameReader) returns this).
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

impl WireError {
    /// A short name for the kind of error, for counting refused frames by reason:
    /// `"bad_magic"`, `"version"`, `"truncated"`, ...
    pub fn reason(&self) -> &'static str {
        match self {
            WireError::BadMagic { .. } => "bad_magic",
            WireError::Version { .. } => "version",
            WireError::UnknownType { .. } => "unknown_type",
            WireError::Truncated { .. } => "truncated",
            WireError::BadVarint { .. } => "bad_varint",
            WireError::BadUtf8 { .. } => "bad_utf8",
            WireError::OverLimit { .. } => "over_limit",
            WireError::BadIndex { .. } => "bad_index",
            WireError::UnknownKind { .. } => "unknown_kind",
            WireError::UnsortedTags { .. } => "unsorted_tags",
            WireError::TooLarge { .. } => "too_large",
            WireError::Trailing { .. } => "trailing",
            WireError::BadHeader { .. } => "bad_header",
            WireError::FrameTooLong { .. } => "frame_too_long",
            WireError::ClosedInFrame { .. } => "closed_in_frame",
            WireError::Io(_) => "io",
        }
    }
}
