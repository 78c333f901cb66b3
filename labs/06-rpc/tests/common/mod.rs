//! Support shared by the stage tests: servers started in-process on port 0, a raw connection that
//! speaks frames by hand, the `rpc` binary as a child process, and drop guards that show a handler
//! was cancelled. Waits with a deadline are testkit's (`testkit::tokio::{eventually, within}`).

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rpc::{Frame, FrameDecoder, Kind, RemoteError, Server, ServerConfig, Service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use testkit::tokio::within;

/// A server running in this process, stopped by [`TestServer::stop`] or when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts the shutdown without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Shuts down and waits for `serve` to return (at most the deadline).
    pub async fn stop(mut self) {
        self.begin_stop();
        let task = self.task.take().expect("stopped once");
        within("`serve` after its shutdown", task).await.unwrap().unwrap();
    }

    /// The `serve` task, to await after [`TestServer::begin_stop`].
    pub fn take_task(&mut self) -> JoinHandle<std::io::Result<()>> {
        self.task.take().expect("taken once")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.begin_stop();
    }
}

/// Serves `service` with `config` on 127.0.0.1, port 0.
pub async fn start(service: Service, config: ServerConfig) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(listener, service, config)
}

/// Serves `service` on `listener`.
pub fn start_on(listener: TcpListener, service: Service, config: ServerConfig) -> TestServer {
    let addr = listener.local_addr().unwrap();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(Server::new(service, config).serve(listener, async move {
        let _ = stopped.await;
    }));
    TestServer { addr, shutdown: Some(shutdown), task: Some(task) }
}

/// An address where nothing listens (a port just freed).
pub async fn dead_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A service with `echo` (the payload back) and `peer` (the caller's port, as a `u16`).
pub fn basic_service() -> Service {
    let mut service = Service::new();
    service.method("echo", |call| async move { Ok(call.payload) });
    service.method("peer", |call| async move { Ok(rpc::to_payload(&call.peer.port()).unwrap()) });
    service
}

/// A service with the basic methods and `hang`, whose handler marks `started`, then waits for ever
/// holding a [`DropFlag`] on `dropped`: the flag shows the handler was cancelled.
pub fn hanging_service(started: &Arc<AtomicBool>, dropped: &Arc<AtomicBool>) -> Service {
    let mut service = basic_service();
    let (started, dropped) = (Arc::clone(started), Arc::clone(dropped));
    service.method("hang", move |_| {
        let (started, guard) = (Arc::clone(&started), DropFlag(Arc::clone(&dropped)));
        async move {
            let _guard = guard;
            started.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
            Ok(vec![])
        }
    });
    service
}

/// A connection that sends and receives frames by hand.
pub struct RawConn {
    stream: TcpStream,
    decoder: FrameDecoder,
}

impl RawConn {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> RawConn {
        RawConn { stream: TcpStream::connect(addr).await.unwrap(), decoder: FrameDecoder::new(1 << 24) }
    }

    /// Sends raw bytes.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: &Frame) {
        let bytes = frame.to_bytes().unwrap();
        self.send_bytes(&bytes).await;
    }

    /// The next frame, or `None` at end of stream; fails the test after the deadline.
    pub async fn recv(&mut self) -> Option<Frame> {
        let mut buf = [0; 8192];
        loop {
            if let Some(frame) = self.decoder.next_frame().expect("the server sends valid frames") {
                return Some(frame);
            }
            let n = within("the server's answer", self.stream.read(&mut buf)).await.unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.decoder.extend(&buf[..n]);
        }
    }

    /// The next frame, which must exist.
    pub async fn expect(&mut self) -> Frame {
        self.recv().await.expect("a frame, not the end of the connection")
    }
}

/// A request frame for `method` with `id`.
pub fn request(id: u64, method: &str, payload: Vec<u8>) -> Frame {
    Frame::request(id, method, payload)
}

/// The error in an error frame.
pub fn remote_error(frame: &Frame) -> RemoteError {
    assert_eq!(frame.kind, Kind::Error, "expected an error frame, got {frame:?}");
    rpc::from_payload(&frame.payload).expect("an error frame holds a RemoteError")
}

/// Sets a flag when dropped: a handler holding one shows it was cancelled (its future dropped)
/// or finished.
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts the handlers running at once and the most ever seen.
#[derive(Default, Clone)]
pub struct Gauge {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

/// One running handler, counted by a [`Gauge`] until dropped.
pub struct Counted(Gauge);

impl Gauge {
    /// Counts one more running handler until the guard is dropped.
    pub fn enter(&self) -> Counted {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        Counted(self.clone())
    }

    /// Handlers running now.
    pub fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }

    /// The most that ever ran at once.
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A gate handlers wait at until the test opens it.
#[derive(Clone)]
pub struct Gate(Arc<watch::Sender<bool>>);

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate(Arc::new(watch::channel(false).0))
    }

    /// Waits until the gate is open.
    pub async fn pass(&self) {
        let mut open = self.0.subscribe();
        let _ = open.wait_for(|open| *open).await;
    }

    /// Opens it for good.
    pub fn open(&self) {
        self.0.send_replace(true);
    }
}

/// The `rpc serve` binary running as a child; killed and reaped when dropped.
pub struct ServerProcess {
    /// The child.
    pub child: Child,
    /// The address it printed.
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `rpc serve --listen 127.0.0.1:0 EXTRA...` and reads the address it prints.
    pub fn start(extra: &[&str]) -> ServerProcess {
        let mut child = Command::new(testkit::lab_binary!("rpc"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rpc serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr =
            line.trim().parse().unwrap_or_else(|_| panic!("rpc serve printed {line:?}, not an address"));
        ServerProcess { child, addr }
    }

    /// Kills it with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The live (not zombie) processes in process group `pgid`, from `/proc`.
pub fn live_in_group(pgid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc is mounted").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] is the state, [2] the process group.
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" && fields[0] != "X" {
            found.push(pid);
        }
    }
    found
}
