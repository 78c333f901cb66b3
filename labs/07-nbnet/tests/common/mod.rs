//! Support shared by the stage tests: a small line service to drive the loops with, servers run on
//! threads and stopped when dropped, blocking clients with timeouts, and a memcached client that
//! reads exactly one request's answer.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nbnet::memcache::{Clock, ManualClock, MemcacheService, Store, StoreConfig};
use nbnet::{
    Codec, CodecError, Config, Context, EventLoop, Handle, LoopStats, Options, Outcome, Server, ServerHandle,
    Service, Shutdown,
};

/// How long a client waits for one read before the test fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Set when a server thread of this test process panicked (a `todo!()` not yet written): clients
/// then fail at once instead of waiting out their read timeout.
static SERVER_PANICKED: AtomicBool = AtomicBool::new(false);

/// Runs `run` (a server's loop), noting a panic for the clients.
pub fn watch<T>(run: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(panic) => {
            SERVER_PANICKED.store(true, Ordering::SeqCst);
            std::panic::resume_unwind(panic)
        }
    }
}

/// One `read`, retried through the socket's short timeouts until READ_TIMEOUT, failing at once if
/// a server thread has panicked.
pub fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    let start = Instant::now();
    loop {
        match stream.read(buf) {
            Err(err)
                if matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                assert!(!SERVER_PANICKED.load(Ordering::SeqCst), "the server thread panicked");
                if start.elapsed() >= READ_TIMEOUT {
                    return Err(err);
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// What went wrong with a read, said for a test's failure message: a timeout as the wait it was,
/// not as `EAGAIN`.
fn read_failure(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("the server sent nothing for {READ_TIMEOUT:?}")
        }
        _ => format!("the read failed: {err}"),
    }
}

/// The tests' own line framing (so stage 1 does not depend on the stage 3 codecs): `\n`-ended
/// lines, answered with `\n`-ended lines.
#[derive(Debug, Default)]
pub struct Lines;

impl Codec for Lines {
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
        match buf.iter().position(|&b| b == b'\n') {
            Some(end) => Ok(Some((buf[..end].to_vec(), end + 1))),
            None if buf.len() > 1 << 20 => Err(CodecError::TooLong { len: buf.len(), max: 1 << 20 }),
            None => Ok(None),
        }
    }

    fn encode(&mut self, response: Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(&response);
        out.push(b'\n');
    }
}

/// The test service: echoes each line, except
/// `big N` (N bytes of `b`), `deadline MS` (close the connection MS from now; answers `ok`),
/// `later X` (answers `done X` from another thread through the loop's handle), `id` (answers the
/// connection's token and generation), `quit`.
#[derive(Debug, Default)]
pub struct Echo;

impl Service for Echo {
    type Codec = Lines;

    fn codec(&self) -> Lines {
        Lines
    }

    fn call(&self, line: Vec<u8>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        let text = String::from_utf8_lossy(&line).into_owned();
        if let Some(n) = text.strip_prefix("big ") {
            return Some(vec![b'b'; n.parse().expect("big N")]);
        }
        if let Some(ms) = text.strip_prefix("deadline ") {
            cx.set_deadline(Duration::from_millis(ms.parse().expect("deadline MS")));
            return Some(b"ok".to_vec());
        }
        if let Some(what) = text.strip_prefix("later ") {
            let handle = cx.handle().expect("a mio loop has a handle").clone();
            let (id, what) = (cx.id(), what.to_string());
            std::thread::spawn(move || handle.write(id, format!("done {what}\n").into_bytes()));
            return None;
        }
        if text == "id" {
            return Some(format!("{} {}", cx.id().token, cx.id().generation).into_bytes());
        }
        if text == "quit" {
            cx.close();
            return None;
        }
        Some(line)
    }

    fn refusal(&self) -> &[u8] {
        b"BUSY\n"
    }
}

/// An [`EventLoop`] running on a thread; shut down and joined when dropped.
pub struct RunningLoop {
    pub addr: SocketAddr,
    pub handle: Handle,
    pub stats: Arc<LoopStats>,
    pub done: mpsc::Receiver<Result<(), nbnet::Error>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts an [`EventLoop`] serving [`Echo`] with `options` on 127.0.0.1, port 0.
pub fn start_loop(options: Options) -> RunningLoop {
    let event_loop = EventLoop::bind(localhost(), Echo, options).expect("bind 127.0.0.1:0");
    let addr = event_loop.local_addr().expect("a bound loop has an address");
    let (handle, stats) = (event_loop.handle(), event_loop.stats());
    let (tx, done) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(watch(|| event_loop.run()));
    });
    RunningLoop { addr, handle, stats, done, thread: Some(thread) }
}

impl RunningLoop {
    /// Waits for `run` to return (after a shutdown) and gives its result.
    #[track_caller]
    pub fn wait_done(&self) -> Result<(), nbnet::Error> {
        match self.done.recv_timeout(testkit::DEFAULT_DEADLINE) {
            Ok(ran) => ran,
            Err(_) => panic!(
                "waiting for EventLoop::run to return after Handle::shutdown: it had not within {:?} \
                 (it must read the waker's Shutdown message, finish its connections and return)",
                testkit::DEFAULT_DEADLINE
            ),
        }
    }
}

impl Drop for RunningLoop {
    /// Asks the loop to shut down but does not wait for it: a test that checks shutdown waits with
    /// [`wait_done`](RunningLoop::wait_done), and a stage 1 loop, which has no shutdown yet
    /// (stage 3), must not fail every test at its end. Its thread ends with the test process.
    fn drop(&mut self) {
        self.handle.shutdown();
        drop(self.thread.take());
    }
}

/// A [`Server`] running on a thread; shut down and joined when dropped.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub stats: Vec<Arc<LoopStats>>,
    pub done: mpsc::Receiver<Result<(), nbnet::Error>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a [`Server`] serving `service` with `options` on 127.0.0.1, port 0.
pub fn start_server<S: Service>(service: S, options: Options) -> RunningServer {
    run_server(Server::bind(localhost(), service, options).expect("bind 127.0.0.1:0"))
}

/// Runs a bound [`Server`] on a thread (connections made since it was bound wait in its queue).
pub fn run_server<S: Service>(server: Server<S>) -> RunningServer {
    let (addr, handle, stats) = (server.local_addr(), server.handle(), server.stats());
    let (tx, done) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(watch(|| server.run()));
    });
    RunningServer { addr, handle, stats, done, thread: Some(thread) }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `memkv` run in-process as its `main` runs it ([`nbnet::run`]), on a thread: what it printed comes
/// through `printed`, how it ended through `done`.
pub struct RunningMemkv {
    pub shutdown: Shutdown,
    pub printed: mpsc::Receiver<Vec<u8>>,
    pub done: mpsc::Receiver<Result<Outcome, nbnet::Error>>,
}

/// Standard output for an in-process run: every write goes to the test as it is made.
struct Printed(mpsc::Sender<Vec<u8>>);

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts [`nbnet::run`] with `config` and `shutdown` on a thread. Its thread is not joined: a run
/// that never returns fails the test that waits for it ([`RunningMemkv::wait_done`]), and the
/// thread ends with the test process.
pub fn start_run(config: Config, shutdown: Shutdown) -> RunningMemkv {
    let (print, printed) = mpsc::channel();
    let (tx, done) = mpsc::channel();
    let requests = shutdown.clone();
    std::thread::spawn(move || {
        let _ = tx.send(watch(|| nbnet::run(&config, &requests, &mut Printed(print))));
    });
    RunningMemkv { shutdown, printed, done }
}

impl RunningMemkv {
    /// The address in the first line printed, `memkv listening on ADDR`.
    #[track_caller]
    pub fn addr(&self) -> SocketAddr {
        let mut line = Vec::new();
        while !line.ends_with(b"\n") {
            match self.printed.recv_timeout(testkit::DEFAULT_DEADLINE) {
                Ok(bytes) => line.extend_from_slice(&bytes),
                Err(_) => panic!(
                    "waiting for run to print `memkv listening on ADDR`: got {:?} within {:?}",
                    String::from_utf8_lossy(&line),
                    testkit::DEFAULT_DEADLINE
                ),
            }
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        line.trim_end()
            .strip_prefix("memkv listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("run printed {line:?}, not `memkv listening on ADDR`"))
    }

    /// Waits for `run` to return and gives its result.
    #[track_caller]
    pub fn wait_done(&self) -> Result<Outcome, nbnet::Error> {
        match self.done.recv_timeout(testkit::DEFAULT_DEADLINE) {
            Ok(ran) => ran,
            Err(_) => panic!(
                "waiting for nbnet::run to return after a shutdown: it had not within {:?} (the shutdown \
                 must reach the server's waker, and the server must finish its connections and return)",
                testkit::DEFAULT_DEADLINE
            ),
        }
    }
}

impl Drop for RunningMemkv {
    fn drop(&mut self) {
        self.shutdown.stop();
    }
}

/// `memkv`'s configuration for the tests: 127.0.0.1, port 0, two workers, 16 MiB.
pub fn memkv_config() -> Config {
    let mut config = Config::new(localhost());
    config.options.workers = 2;
    config.store.memory_limit = 16 << 20;
    config
}

/// A memcached server (two workers) on a fresh store timed by `clock`.
pub fn start_memkv(config: StoreConfig, clock: Arc<dyn Clock>) -> RunningServer {
    let store = Arc::new(Store::new(config, clock));
    start_server(MemcacheService::new(store, 2), Options { workers: 2, ..Options::default() })
}

/// A memcached server with the default store and a manual clock at a fixed time.
pub fn start_memkv_manual() -> (RunningServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START_TIME));
    (start_memkv(StoreConfig::default(), clock.clone()), clock)
}

/// The manual clock's start: a Unix time well past 30 days, as real ones are.
pub const START_TIME: u64 = 1_700_000_000;

/// 127.0.0.1, port 0.
pub fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a valid address")
}

/// A blocking client with a short read timeout (the helpers retry it up to READ_TIMEOUT), Nagle off.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the test server");
    stream.set_read_timeout(Some(Duration::from_millis(100))).expect("set a read timeout");
    stream.set_nodelay(true).expect("set TCP_NODELAY");
    stream
}

/// Reads exactly `n` bytes.
#[track_caller]
pub fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    let mut got = 0;
    while got < n {
        match read_some(stream, &mut buf[got..]) {
            Ok(0) => panic!("waiting for {n} bytes of answer: the connection closed after {got}"),
            Ok(read) => got += read,
            Err(err) => panic!("waiting for {n} bytes of answer: {} after {got}", read_failure(&err)),
        }
    }
    buf
}

/// Reads until the server closes the connection (a reset counts as closed); returns what came.
#[track_caller]
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0; 64 << 10];
    loop {
        match read_some(stream, &mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => return all,
            Err(err) => panic!(
                "waiting for the server to close the connection: {} after {} bytes",
                read_failure(&err),
                all.len()
            ),
        }
    }
}

/// Sends `line` plus `\n` and reads one `\n`-ended line back (without it).
#[track_caller]
pub fn ask(stream: &mut TcpStream, line: &str) -> String {
    stream.write_all(format!("{line}\n").as_bytes()).expect("write a request");
    read_line(stream)
}

/// Reads one `\n`-ended line (without it), a byte at a time.
#[track_caller]
pub fn read_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0; 1];
    loop {
        match read_some(stream, &mut byte) {
            Ok(0) => panic!("waiting for a line: the connection closed after \"{}\"", line.escape_ascii()),
            Ok(_) if byte[0] == b'\n' => return String::from_utf8(line).expect("UTF-8 answer"),
            Ok(_) => line.push(byte[0]),
            Err(err) => {
                panic!("waiting for a line: {} after \"{}\"", read_failure(&err), line.escape_ascii())
            }
        }
    }
}

/// Sends `request` then `version\r\n` to a memcached server and returns everything it answered
/// before its `VERSION` line: exactly `request`'s answer, however many lines it has (or none).
#[track_caller]
pub fn mc(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    let mut wire = request.to_vec();
    wire.extend_from_slice(b"version\r\n");
    stream.write_all(&wire).expect("write a memcached request");
    let mut got = Vec::new();
    let mut buf = [0; 64 << 10];
    loop {
        if let Some(at) = find_version_line(&got) {
            got.truncate(at);
            return got;
        }
        match read_some(stream, &mut buf) {
            Ok(0) => panic!(
                "waiting for the answer to {}: the connection closed after {}",
                shown(request),
                shown(&got)
            ),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) => panic!(
                "waiting for the answer to {}: {} after {}",
                shown(request),
                read_failure(&err),
                shown(&got)
            ),
        }
    }
}

/// `bytes` quoted and escaped for a failure message, cut after 200 bytes.
pub fn shown(bytes: &[u8]) -> String {
    match bytes.get(..200) {
        Some(head) if bytes.len() > 200 => format!("\"{}\"… ({} bytes)", head.escape_ascii(), bytes.len()),
        _ => format!("\"{}\"", bytes.escape_ascii()),
    }
}

/// Where the final `VERSION …\r\n` line starts, once it is complete.
fn find_version_line(got: &[u8]) -> Option<usize> {
    if !got.ends_with(b"\r\n") {
        return None;
    }
    let body = &got[..got.len() - 2];
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
    body[start..].starts_with(b"VERSION ").then_some(start)
}

/// `mc` as text, for readable failures.
#[track_caller]
pub fn mcs(stream: &mut TcpStream, request: &str) -> String {
    String::from_utf8(mc(stream, request.as_bytes())).expect("a text answer")
}
