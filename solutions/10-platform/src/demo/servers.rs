//! The demo's two platform servers: `platform serve` twice, as child processes of the demo, over
//! the same records, data directory and addresses, with the lock file's lease (stage 5): `a`
//! leads, `b` stands by. Each is watched by a task of its own that hands on what it prints, and
//! starts it again, to stand by, when it dies: `kill -9` the leader as often as you like and
//! watch the other take over from the dashboard. At the demo's end each gets SIGTERM (it gives
//! the lease up and stops cleanly), and SIGKILL if it has not stopped within [`STOP_WAIT`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a server may take to stop cleanly before it is killed.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

/// How long a dead server's watcher waits before starting it again.
const RESTART_AFTER: Duration = Duration::from_secs(1);

/// Where both servers serve, and what they share.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The records (`sqlite://…`).
    pub db: String,
    /// The data directory.
    pub dir: PathBuf,
    /// The API and the dashboard.
    pub http: SocketAddr,
    /// The control master.
    pub control: SocketAddr,
    /// The monitoring relay.
    pub relay: SocketAddr,
}

/// A server, watched and started again whenever it dies, until `stop`. Each line it prints is
/// sent to `lines` as `[NODE, pid PID] LINE`, and so is each of its deaths.
pub fn watch(
    program: PathBuf,
    node: &'static str,
    shared: Shared,
    lines: UnboundedSender<String>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.is_cancelled() {
            let child = match start(&program, node, &shared) {
                Ok(child) => child,
                Err(err) => {
                    let _ = lines.send(format!("[{node}] cannot start {}: {err}", program.display()));
                    return;
                }
            };
            let pid = child.id().unwrap_or(0);
            let Some(ended) = follow(child, &format!("[{node}, pid {pid}]"), &lines, &stop).await else {
                return;
            };
            let _ = lines.send(format!("[{node}, pid {pid}] {ended}; started again to stand by"));
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(RESTART_AFTER) => {}
            }
        }
    })
}

/// `platform serve` as `node`, its standard output piped; it gets SIGTERM if the demo dies.
fn start(program: &Path, node: &str, shared: &Shared) -> std::io::Result<Child> {
    let path = |name: &str| shared.dir.join(name).display().to_string();
    let mut command = Command::new(program);
    // SAFETY: prctl(2) between fork and exec touches no memory of the parent's: async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            // A demo killed with SIGKILL leaves no server behind holding its addresses.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
        .args(["serve", "--db", &shared.db, "--dir", &shared.dir.display().to_string()])
        .args(["--listen", &shared.http.to_string(), "--control", &shared.control.to_string()])
        .args(["--relay", &shared.relay.to_string(), "--auto-accept"])
        .args(["--host-scripts", &path("host-scripts"), "--host-releases", &path("host-releases")])
        .args(["--lease", "embedded", "--node", node])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

/// Hands on `child`'s lines, each after `prefix`, until it ends (how it ended, in words) or `stop`
/// (`None`, once it has been stopped).
async fn follow(
    mut child: Child,
    prefix: &str,
    lines: &UnboundedSender<String>,
    stop: &CancellationToken,
) -> Option<String> {
    let mut out = child.stdout.take().map(|stdout| BufReader::new(stdout).lines());
    loop {
        let line = async {
            match &mut out {
                Some(out) => out.next_line().await.ok().flatten(),
                None => None,
            }
        };
        tokio::select! {
            () = stop.cancelled() => {
                terminate(&mut child).await;
                return None;
            }
            line = line => match line {
                Some(line) => {
                    let _ = lines.send(format!("{prefix} {line}"));
                }
                None => break,
            },
        }
    }
    let ended = tokio::select! {
        () = stop.cancelled() => {
            terminate(&mut child).await;
            return None;
        }
        status = child.wait() => status,
    };
    Some(match ended {
        Ok(status) => describe(status),
        Err(err) => format!("lost ({err})"),
    })
}

/// How a server ended, in words.
fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(signal)) => format!("killed by signal {signal}"),
        (Some(code), None) => format!("exited with status {code}"),
        (None, None) => "ended".to_string(),
    }
}

/// SIGTERM (the server resigns and stops), then SIGKILL after [`STOP_WAIT`].
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()) {
        // SAFETY: kill(2) with a pid this process started and has not reaped: no memory involved.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(STOP_WAIT, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

/// A loopback address with a port free now, for a server that both processes must share.
///
/// # Errors
///
/// When no port can be had.
pub fn free_address() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}
