//! Platform servers as processes of their own (`platform serve`), for the availability tests: a
//! server killed with SIGKILL is gone, with nothing of it left in the test's process.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The addresses two servers share (the standby takes the leader's over).
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    pub http: SocketAddr,
    pub control: SocketAddr,
    pub relay: SocketAddr,
}

impl Addresses {
    /// Three loopback ports free a moment ago.
    pub fn free() -> Addresses {
        let listeners: Vec<std::net::TcpListener> =
            (0..3).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let address = |n: usize| listeners[n].local_addr().unwrap();
        Addresses { http: address(0), control: address(1), relay: address(2) }
    }
}

/// `platform serve` in a process of its own, what it printed kept line by line.
pub struct ServerProcess {
    pub node: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// `platform serve` as server `node`, its records and data in `dir` (shared with the other
    /// server), on `addresses`, with `lease`; agents are accepted at once, and hosts keep their
    /// releases under `releases/` of their working directory.
    pub fn spawn(node: &str, dir: &Path, addresses: &Addresses, lease: &str) -> ServerProcess {
        let mut child = Command::new(super::installer())
            .args(["serve", "--db", &format!("sqlite://{}", records_path(dir).display())])
            .args(["--dir", &dir.join("data").display().to_string()])
            .args(["--listen", &addresses.http.to_string()])
            .args(["--control", &addresses.control.to_string()])
            .args(["--relay", &addresses.relay.to_string()])
            .args(["--auto-accept", "--lease", lease, "--node", node])
            .args(["--host-releases", "releases", "--host-scripts", "scripts"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join(format!("{node}.err"))).unwrap())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let kept = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        ServerProcess { node: node.to_string(), child, lines }
    }

    /// The first line it printed that starts with `prefix`, once it has, within `deadline`.
    pub async fn line(&mut self, prefix: &str, deadline: Duration) -> String {
        let lines = Arc::clone(&self.lines);
        let found = move || lines.lock().unwrap().iter().find(|line| line.starts_with(prefix)).cloned();
        let start = tokio::time::Instant::now();
        loop {
            if let Some(line) = found() {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "server {} ended ({status}) before printing {prefix:?}: {:?}",
                    self.node,
                    self.lines()
                );
            }
            assert!(
                start.elapsed() < deadline,
                "server {} printed no {prefix:?} within {deadline:?}: {:?}",
                self.node,
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Everything it printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Kills it with SIGKILL, and waits for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it has ended, and how.
    pub fn ended(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The records' file of the servers sharing `dir`.
pub fn records_path(dir: &Path) -> PathBuf {
    dir.join("records.db")
}

/// The status code a plain `GET path` gets from `address`, or `None` when nothing answers.
pub async fn status_of(address: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    let head = String::from_utf8_lossy(&answer);
    head.split(' ').nth(1)?.parse().ok()
}
