//! The worker protocol: length-prefixed frames (a `u32` little-endian length, then that many bytes)
//! carrying JSON [`Message`]s. A worker first writes [`HELLO`], so that anything its program prints
//! before serving (a test harness's banner, say) is skipped.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::job::JobSpec;
use crate::map_task::MapOutput;
use crate::split::Split;
use crate::{Error, Result};

/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 1 << 30;

/// The line a worker writes before its first frame.
pub const HELLO: &[u8] = b"\nmapreduce-worker v1\n";

/// What the coordinator and a worker say to each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Coordinator → worker: run one map task.
    Task {
        /// The task's number.
        id: usize,
        /// The job to rebuild.
        job: JobSpec,
        /// The input.
        split: Split,
        /// The number of reducers to partition for.
        reducers: usize,
    },
    /// Worker → coordinator: a task's output.
    Done {
        /// The task's number.
        id: usize,
        /// What it produced.
        output: MapOutput,
    },
    /// Worker → coordinator: a task could not run.
    Failed {
        /// The task's number.
        id: usize,
        /// Why.
        message: String,
    },
}

// TODO(stage 3): read a frame's four length bytes in a loop of your own, so an end of input
// before the first one (a clean end) is told from one inside them; read the payload through
// Read::take, never allocating from a length a peer sent.

/// Writes `payload` as one frame.
///
/// # Errors
///
/// When `payload` is larger than [`MAX_FRAME`], or `out` fails.
pub fn write_frame(out: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    todo!("stage 3: a u32 little-endian length, then the payload")
}

/// Reads one frame; `Ok(None)` at a clean end of input (before a frame's first byte).
///
/// # Errors
///
/// [`Error::Frame`] for a frame cut short or longer than [`MAX_FRAME`]; [`Error::Sys`] when `input`
/// fails.
pub fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>> {
    todo!("stage 3: read the length (None at a clean end), refuse more than MAX_FRAME, read the payload")
}

/// The payload of `message`.
pub fn encode(message: &Message) -> Vec<u8> {
    todo!("stage 3: serialize with serde_json")
}

/// The message in `payload`.
///
/// # Errors
///
/// [`Error::Frame`] when `payload` is not a message.
pub fn decode(payload: &[u8]) -> Result<Message> {
    todo!("stage 3: deserialize with serde_json, a failure is Error::Frame")
}
