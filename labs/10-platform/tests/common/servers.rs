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

/// What a leading server printed that its hosts need: the master's key and the operator's, and the
/// admin's password (printed on the first start of the records only).
#[derive(Debug, Clone)]
pub struct Printed {
    pub master_key: String,
    pub operator_key: String,
    pub password: String,
}

impl ServerProcess {
    /// What a first leader printed, once it serves.
    pub async fn printed(&mut self) -> Printed {
        self.line("platform on", Duration::from_secs(30)).await;
        let master = self.line("control master on", Duration::ZERO).await;
        let operator = self.line("agents must trust the operator key", Duration::ZERO).await;
        let password = self.line("log in as admin with the password", Duration::ZERO).await;
        let word_after = |line: &str, word: &str| {
            line.split(word)
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches(')')
                .to_string()
        };
        Printed {
            master_key: word_after(&master, "(key "),
            operator_key: word_after(&operator, "operator key "),
            password: word_after(&password, "password "),
        }
    }
}

/// `platform agent` in a process of its own, in a directory of its own (its working directory:
/// the releases a rollout deploys land under `releases/`), dialing the servers' shared control
/// address.
pub struct AgentProcess {
    pub id: String,
    pub dir: PathBuf,
    child: Child,
}

impl AgentProcess {
    pub fn spawn(id: &str, dir: &Path, addresses: &Addresses, printed: &Printed) -> AgentProcess {
        let dir = dir.join("hosts").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("allow"), format!("/bin/sh\n{}\n", super::installer())).unwrap();
        let child = Command::new(super::installer())
            .current_dir(&dir)
            .args(["agent", "--id", id, "--master", &addresses.control.to_string()])
            .args(["--master-key", &printed.master_key, "--operator-key", &printed.operator_key])
            .args(["--relay", &addresses.relay.to_string(), "--key", "agent.key", "--allow", "allow"])
            .args(["--scripts", "scripts", "--spool", "spool"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("agent.out")).unwrap())
            .stderr(std::fs::File::create(dir.join("agent.err")).unwrap())
            .spawn()
            .unwrap();
        AgentProcess { id: id.to_string(), dir, child }
    }

    /// The lines of `events` the release's hooks wrote on this host.
    pub fn events(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("events"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// What `releases/NAME/current` names on this host, if anything.
    pub fn current(&self, name: &str) -> Option<String> {
        let link = std::fs::read_link(self.dir.join("releases").join(name).join("current")).ok()?;
        Some(link.to_string_lossy().into_owned())
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A logged-in user of a server process, over HTTP: the session lives in the shared records, so
/// it holds across a failover.
#[derive(Debug, Clone)]
pub struct Remote {
    pub http: SocketAddr,
    token: String,
    csrf: String,
}

impl Remote {
    /// Logs `user` in at `http` with `password`.
    pub async fn login(http: SocketAddr, user: &str, password: &str) -> Remote {
        let body = serde_json::json!({ "user": user, "password": password });
        let (status, headers, answer) = exchange(http, "POST", "/api/login", &[], Some(body)).await;
        assert_eq!(status, 200, "login of {user}: {answer}");
        let cookie = headers.get("set-cookie").and_then(|value| value.to_str().ok()).unwrap_or("");
        let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
        let csrf = answer["data"]["csrf"].as_str().unwrap().to_string();
        Remote { http, token, csrf }
    }

    /// `GET path`: the status and the JSON.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let cookie = format!("{}={}", platform::api::SESSION_COOKIE, self.token);
        let (status, _, body) = exchange(self.http, "GET", path, &[("cookie", &cookie)], None).await;
        (status, body)
    }

    /// `POST path` with `body`: the status and the JSON.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let cookie = format!("{}={}", platform::api::SESSION_COOKIE, self.token);
        let headers = [("cookie", cookie.as_str()), ("x-csrf-token", self.csrf.as_str())];
        let (status, _, body) = exchange(self.http, "POST", path, &headers, Some(body)).await;
        (status, body)
    }
}

/// One HTTP/1.1 exchange on a connection of its own (status 0: nothing answered).
async fn exchange(
    http: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> (u16, hyper::HeaderMap, serde_json::Value) {
    use http_body_util::{BodyExt, Full};
    let Ok(stream) = tokio::net::TcpStream::connect(http).await else {
        return (0, hyper::HeaderMap::new(), serde_json::Value::Null);
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder().method(method).uri(path).header("host", http.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let bytes = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            body.to_string()
        }
        None => String::new(),
    };
    let Ok(response) =
        sender.send_request(request.body(Full::new(hyper::body::Bytes::from(bytes))).unwrap()).await
    else {
        return (0, hyper::HeaderMap::new(), serde_json::Value::Null);
    };
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let bytes = response.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}
