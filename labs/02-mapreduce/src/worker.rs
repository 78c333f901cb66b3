//! The worker side of processes mode: say hello, then answer each task frame with its map output,
//! until the coordinator closes the pipe.

use std::io::{Read, Write};

use crate::codec::{HELLO, Message, decode, encode, read_frame, write_frame};
use crate::map_task::map_split;
use crate::process::{FAULT_ENV, Fault};
use crate::{Error, Result};

/// Exit code of a worker that crashes on purpose ([`Fault::Crash`]).
pub const CRASH_EXIT_CODE: i32 = 86;

/// Serves tasks read from `input`, writing replies to `output`, until `input` ends. Reads
/// [`FAULT_ENV`] to inject a [`Fault`].
///
/// # Errors
///
/// When a frame is malformed or a pipe fails. A task that fails (an unreadable input) is reported
/// to the coordinator as [`Message::Failed`], not returned.
pub fn serve_worker(input: impl Read, output: impl Write) -> Result<()> {
    todo!("stage 3: write HELLO, then answer each Task frame with Done (or Failed); obey FAULT_ENV")
}
