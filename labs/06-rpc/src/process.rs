//! Running one program for `exec`: in its own process group, output streamed as it comes and
//! capped, the whole group killed at the timeout, when the program exits (so nothing it started
//! in the background outlives the call), or when the call is cancelled.

use std::time::Duration;

use crate::exec::ExecRequest;
use crate::push::Publisher;
use crate::status::RemoteError;

/// Runs `request` and publishes its events: `Started`, output chunks, then `Exited`.
pub(crate) async fn run_program(
    request: &ExecRequest,
    timeout: Duration,
    max_output: usize,
    publisher: &mut Publisher,
) -> Result<(), RemoteError> {
    todo!(
        "stage 5: run {request:?} in its own process group for at most {timeout:?}, streaming up to {max_output} bytes of each output"
    )
}
