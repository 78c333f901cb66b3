//! Running one program for `exec`: in its own process group, output streamed as it comes and
//! capped, the whole group killed at the timeout, when the program exits (so nothing it started
//! in the background outlives the call), or when the call is cancelled.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::exec::{ExecEvent, ExecRequest, ExitReport};
use crate::push::Publisher;
use crate::status::RemoteError;

/// Kills a process group when dropped, unless disarmed: the handler's future may be dropped at any
/// await (cancel, deadline, shutdown), and the group must die with it.
struct GroupGuard {
    pgid: i32,
}

impl GroupGuard {
    fn kill(&self) {
        // SAFETY: kill has no memory-safety preconditions; a negative pid names the group, which
        // exists while any member does (so its id cannot be reused meanwhile).
        unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

// ANCHOR: run_program
/// Runs `request` and publishes its events: `Started`, output chunks, then `Exited`.
pub(crate) async fn run_program(
    request: &ExecRequest,
    timeout: Duration,
    max_output: usize,
    publisher: &mut Publisher,
) -> Result<(), RemoteError> {
    let mut child = Command::new(&request.program)
        .args(&request.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|err| RemoteError::internal(format!("cannot run {}: {err}", request.program)))?;
    let pid = child.id().and_then(|pid| i32::try_from(pid).ok()).unwrap_or(0);
    let group = GroupGuard { pgid: pid };
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let deadline = tokio::time::Instant::now() + timeout;
    publisher.send(&ExecEvent::Started { pid }).await?;

    let (mut out_buf, mut err_buf) = (vec![0; 16 * 1024], vec![0; 16 * 1024]);
    let (mut out_sent, mut err_sent, mut truncated) = (0, 0, false);
    let mut status = None;
    let pump = async {
        while stdout.is_some() || stderr.is_some() || status.is_none() {
            tokio::select! {
                read = read_some(&mut stdout, &mut out_buf) => {
                    if let Some(chunk) = capped(read, &mut stdout, &out_buf, &mut out_sent, max_output, &mut truncated) {
                        publisher.send(&ExecEvent::Stdout(chunk)).await?;
                    }
                }
                read = read_some(&mut stderr, &mut err_buf) => {
                    if let Some(chunk) = capped(read, &mut stderr, &err_buf, &mut err_sent, max_output, &mut truncated) {
                        publisher.send(&ExecEvent::Stderr(chunk)).await?;
                    }
                }
                exited = child.wait(), if status.is_none() => {
                    status = Some(exited.map_err(|err| RemoteError::internal(format!("wait: {err}")))?);
                    // What it left running in the background dies with it, closing the pipes.
                    group.kill();
                }
            }
        }
        Ok::<_, RemoteError>(())
    };
    let timed_out = match tokio::time::timeout_at(deadline, pump).await {
        Ok(pumped) => {
            pumped?;
            false
        }
        Err(_) => true,
    };
    let status = match status {
        Some(status) => status,
        None => {
            group.kill();
            child.wait().await.map_err(|err| RemoteError::internal(format!("wait: {err}")))?
        }
    };
    let report = ExitReport { code: status.code(), signal: status.signal(), timed_out, truncated };
    publisher.send(&ExecEvent::Exited(report)).await
}
// ANCHOR_END: run_program

/// Reads from `pipe` if it is open; pending for ever once it is closed (so `select!` ignores it).
async fn read_some(pipe: &mut Option<impl AsyncReadExt + Unpin>, buf: &mut [u8]) -> std::io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// The part of a read that fits under the cap; closes the pipe on end of file or error.
fn capped<P>(
    read: std::io::Result<usize>,
    pipe: &mut Option<P>,
    buf: &[u8],
    sent: &mut usize,
    max: usize,
    truncated: &mut bool,
) -> Option<Vec<u8>> {
    let n = match read {
        Ok(0) | Err(_) => {
            *pipe = None;
            return None;
        }
        Ok(n) => n,
    };
    let room = max.saturating_sub(*sent);
    if n > room {
        *truncated = true;
    }
    let keep = n.min(room);
    *sent += keep;
    (keep > 0).then(|| buf[..keep].to_vec())
}
