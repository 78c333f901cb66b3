//! Running one program for `exec`: in its own process group, output streamed as it comes and
//! capped, the whole group killed at the timeout, when the program exits (so nothing it started
//! in the background outlives the call), or when the call is cancelled.

use std::time::Duration;

use crate::exec::ExecRequest;
use crate::push::Publisher;
use crate::status::RemoteError;

// TODO(stage 5): Command::process_group(0), no shell; read stdout and stderr in one select! loop
// with child.wait(), all under timeout_at; kill(-pgid, SIGKILL) (libc) at the timeout, when the
// program exits, and from a guard's Drop when the call is cancelled.

/// Runs `request` and publishes its events: `Started`, output chunks, then `Exited`.
pub(crate) async fn run_program(
    request: &ExecRequest,
    timeout: Duration,
    max_output: usize,
    publisher: &mut Publisher,
) -> Result<(), RemoteError> {
    todo!(
        "stage 5: spawn the program in its own process group, stream its capped output, kill the group at the end"
    )
}
