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

/// Writes `payload` as one frame.
///
/// # Errors
///
/// When `payload` is larger than [`MAX_FRAME`], or `out` fails.
// ANCHOR: frames
pub fn write_frame(out: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    if payload.len() > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "frame larger than MAX_FRAME"));
    }
    out.write_all(&(payload.len() as u32).to_le_bytes())?;
    out.write_all(payload)?;
    out.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of input (before a frame's first byte).
///
/// # Errors
///
/// [`Error::Frame`] for a frame cut short or longer than [`MAX_FRAME`]; [`Error::Sys`] when `input`
/// fails.
pub fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(Error::Frame("end of input inside a frame's length".into())),
            Ok(n) => got += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(Error::sys("read a frame")(err)),
        }
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(Error::Frame(format!("frame of {len} bytes is larger than {MAX_FRAME}")));
    }
    // Read through `take` rather than preallocating: a bogus length must not allocate a gigabyte.
    let mut payload = Vec::new();
    input.take(len as u64).read_to_end(&mut payload).map_err(Error::sys("read a frame"))?;
    if payload.len() < len {
        return Err(Error::Frame(format!("frame cut short: {} of {len} bytes", payload.len())));
    }
    Ok(Some(payload))
}
// ANCHOR_END: frames

/// The payload of `message`.
pub fn encode(message: &Message) -> Vec<u8> {
    // A Message is plain data with string keys: serializing it cannot fail.
    serde_json::to_vec(message).expect("a Message serializes")
}

/// The message in `payload`.
///
/// # Errors
///
/// [`Error::Frame`] when `payload` is not a message.
pub fn decode(payload: &[u8]) -> Result<Message> {
    serde_json::from_slice(payload).map_err(|err| Error::Frame(format!("not a message: {err}")))
}
