//! Running one command's program on an agent: no shell, its own process group, each output stream
//! capped, and the whole group killed at the timeout (or when the program exits, so nothing it
//! left in the background outlives the command).

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::wire::Exit;

/// How much of each output stream comes back: what fits a sealed frame with room to spare.
pub const MAX_OUTPUT: usize = 16 * 1024;

/// Kills a process group when dropped: the agent's task may be dropped at any await (a shutdown),
/// and the group must die with it.
struct GroupGuard(i32);

impl GroupGuard {
    fn kill(&self) {
        if self.0 > 0 {
            // SAFETY: kill has no memory-safety preconditions; a negative pid names the group,
            // whose id stays reserved while any member lives.
            unsafe { libc::kill(-self.0, libc::SIGKILL) };
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
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
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    let group = GroupGuard(child.id().and_then(|pid| i32::try_from(pid).ok()).unwrap_or(0));
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let mut exit = Exit::default();
    let finished = tokio::time::timeout(timeout, async {
        let (out, err, status) =
            tokio::join!(capture(stdout, max_output), capture(stderr, max_output), async {
                let status = child.wait().await;
                // What it left running in the background dies with it, which closes the pipes.
                group.kill();
                status
            });
        (out, err, status)
    })
    .await;
    match finished {
        Ok(((stdout, out_cut), (stderr, err_cut), status)) => {
            let status = status.map_err(|err| format!("wait for {program}: {err}"))?;
            (exit.code, exit.signal) = (status.code(), status.signal());
            (exit.stdout, exit.stderr, exit.truncated) = (stdout, stderr, out_cut || err_cut);
        }
        Err(_) => {
            group.kill();
            let status = child.wait().await.map_err(|err| format!("wait for {program}: {err}"))?;
            (exit.code, exit.signal, exit.timed_out) = (status.code(), status.signal(), true);
        }
    }
    Ok(exit)
}

/// Reads `pipe` to its end, keeping the first `max` bytes; whether it had more.
async fn capture(pipe: Option<impl AsyncRead + Unpin>, max: usize) -> (Vec<u8>, bool) {
    let Some(mut pipe) = pipe else { return (Vec::new(), false) };
    let (mut kept, mut chunk, mut cut) = (Vec::new(), [0; 4096], false);
    while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
        let room = max.saturating_sub(kept.len());
        cut |= n > room;
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
    (kept, cut)
}
