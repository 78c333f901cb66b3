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
// ANCHOR: serve_worker
pub fn serve_worker(mut input: impl Read, mut output: impl Write) -> Result<()> {
    let fault = std::env::var(FAULT_ENV).ok().and_then(|value| Fault::from_env(&value));
    output.write_all(HELLO).and_then(|()| output.flush()).map_err(Error::sys("greet the coordinator"))?;
    let mut served = 0;
    while let Some(frame) = read_frame(&mut input)? {
        let Message::Task { id, job, split, reducers } = decode(&frame)? else {
            return Err(Error::Frame("a worker expects tasks".into()));
        };
        served += 1;
        match fault {
            Some(Fault::Crash { task }) if task == served => std::process::exit(CRASH_EXIT_CODE),
            Some(Fault::Straggle { task, delay }) if task == served => std::thread::sleep(delay),
            _ => {}
        }
        let reply = match map_split(job.job(&[]).as_ref(), &split, reducers) {
            Ok(output) => Message::Done { id, output },
            Err(err) => Message::Failed { id, message: err.to_string() },
        };
        write_frame(&mut output, &encode(&reply)).map_err(Error::sys("reply to the coordinator"))?;
    }
    Ok(())
}
// ANCHOR_END: serve_worker
