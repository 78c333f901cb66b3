//! Running one command's program on an agent: no shell, its own process group, each output stream
//! capped, and the whole group killed at the timeout (or when the program exits, so nothing it
//! left in the background outlives the command).

use std::time::Duration;

use tokio::io::AsyncRead;

use crate::wire::Exit;

/// How much of each output stream comes back: what fits a sealed frame with room to spare.
pub const MAX_OUTPUT: usize = 16 * 1024;

/// Kills a process group when dropped: the agent's task may be dropped at any await (a shutdown),
/// and the group must die with it.
struct GroupGuard(i32);

impl GroupGuard {
    fn kill(&self) {
        todo!("stage 2: SIGKILL the whole group, if there is one")
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        todo!("stage 2: kill")
    }
}

/// Runs `program` with `args` for at most `timeout`, keeping up to `max_output` bytes of each
/// stream.
///
/// # Errors
///
/// A message when the program cannot be started (not found, not executable).
pub async fn run_program(
    program: &str,
    args: &[String],
    timeout: Duration,
    max_output: usize,
) -> Result<Exit, String> {
    todo!(
        "stage 2: no shell, its own process group, piped output captured with a timeout; at the timeout or the exit kill the group"
    )
}

/// Reads `pipe` to its end, keeping the first `max` bytes; whether it had more.
async fn capture(pipe: Option<impl AsyncRead + Unpin>, max: usize) -> (Vec<u8>, bool) {
    todo!("stage 2: read to the end, keeping the first max bytes; whether there was more")
}
