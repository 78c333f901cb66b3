//! The server: a thread per connection on `127.0.0.1:0`, HTTP/1.1 with keep-alive.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::connection;
use super::log::RequestLog;
use super::route::ServedRoute;
use super::shutdown::{Live, Shutdown};
use super::{RequestRecord, Route, Site};

/// How long dropping the server waits for its threads; they are all woken, so this is a backstop.
const STOP_DEADLINE: Duration = Duration::from_secs(3);
/// Connection threads do little and never recurse: a small stack lets many of them run at once.
const STACK_SIZE: usize = 256 * 1024;

/// A running fixture server. Dropping it stops it and closes every connection.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use testkit::web::{Site, WebServer};
///
/// let server = WebServer::start(Site::new().page("/", "<p>hello</p>"));
/// let mut client = std::net::TcpStream::connect(server.addr()).unwrap();
/// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
/// let mut answer = String::new();
/// client.read_to_string(&mut answer).unwrap();
/// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(answer.ends_with("<p>hello</p>"));
/// assert_eq!(server.requests().len(), 1);
/// ```
pub struct WebServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// What the accept loop and every connection thread share.
#[derive(Debug)]
pub(super) struct Shared {
    routes: RwLock<HashMap<String, Arc<ServedRoute>>>,
    pub(super) log: RequestLog,
    pub(super) shutdown: Shutdown,
    connections: AtomicU64,
}

impl Shared {
    /// The route for a request target: the exact target first, then the target without its query.
    pub(super) fn route(&self, target: &str) -> Option<Arc<ServedRoute>> {
        // An absolute-form target (`http://host/path`), as sent to proxies, names the same path.
        let target = match target.strip_prefix("http://") {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => target,
        };
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        routes.get(target).or_else(|| target.split_once('?').and_then(|(path, _)| routes.get(path))).cloned()
    }
}

impl std::fmt::Debug for WebServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl WebServer {
    /// Starts serving `site` on `127.0.0.1` at a free port.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound, which no test can recover from.
    pub fn start(site: Site) -> WebServer {
        WebServer::start_on(site, 0).expect("cannot listen on 127.0.0.1")
    }

    /// Starts serving `site` on `127.0.0.1:port` (`0` for a free port).
    ///
    /// # Errors
    ///
    /// When the port cannot be bound (in use, or privileged).
    pub fn start_on(site: Site, port: u16) -> std::io::Result<WebServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let routes =
            site.into_routes().into_iter().map(|(path, route)| (path, Arc::new(ServedRoute::new(route))));
        let shared = Arc::new(Shared {
            routes: RwLock::new(routes.collect()),
            log: RequestLog::default(),
            shutdown: Shutdown::default(),
            connections: AtomicU64::new(0),
        });
        shared.shutdown.enter();
        let accept = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("testkit-accept".to_owned())
                .spawn(move || accept_loop(&listener, &shared))
        };
        match accept {
            Ok(handle) => Ok(WebServer { addr, shared, accept: Some(handle) }),
            Err(err) => {
                shared.shutdown.leave();
                Err(err)
            }
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Replaces (or adds) the route at `path` while the server runs, for example to change a file
    /// between a download and its resumption. Requests already being answered finish with the old
    /// route; the new one starts with fresh fault counters.
    pub fn set_route(&self, path: &str, route: Route) {
        let mut routes = self.shared.routes.write().unwrap_or_else(PoisonError::into_inner);
        routes.insert(path.to_owned(), Arc::new(ServedRoute::new(route)));
    }

    /// Every request read so far, in the order their heads were read.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.records()
    }

    /// How many requests have been read so far (cheaper than `requests().len()`).
    pub fn request_count(&self) -> usize {
        self.shared.log.len()
    }

    /// The requests whose target is `target`, in order.
    pub fn requests_for(&self, target: &str) -> Vec<RequestRecord> {
        self.requests().into_iter().filter(|r| r.target == target).collect()
    }

    /// The most requests that were being answered at the same moment (head read, answer not yet
    /// finished), since the start.
    pub fn max_in_flight(&self) -> usize {
        self.shared.log.max_in_flight()
    }

    /// How many connections have been accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.shared.shutdown.stop();
        // Wake the accept loop, which then sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        self.shared.shutdown.wait_idle(STOP_DEADLINE);
        if let Some(accept) = self.accept.take().filter(JoinHandle::is_finished) {
            let _ = accept.join();
        }
    }
}

/// Accepts connections until the server stops, each served on its own thread.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let _live = Live(&shared.shutdown);
    for stream in listener.incoming() {
        if shared.shutdown.is_stopping() {
            break;
        }
        let Ok(stream) = stream else {
            // Out of descriptors, most likely: give the connections a moment to close some.
            shared.shutdown.pause(Duration::from_millis(10));
            continue;
        };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst);
        if !shared.shutdown.register(id, &stream) {
            break;
        }
        shared.shutdown.enter();
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new().name(format!("testkit-conn-{id}")).stack_size(STACK_SIZE).spawn(
            move || {
                let _live = Live(&worker.shutdown);
                connection::serve(&worker, stream, id);
            },
        );
        if spawned.is_err() {
            shared.shutdown.unregister(id);
            shared.shutdown.leave();
        }
    }
}
