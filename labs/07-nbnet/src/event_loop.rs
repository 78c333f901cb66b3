//! One thread's event loop: a `mio::Poll`, the connections in a slab keyed by their `Token`, a
//! listener (or connections handed over by an acceptor), timers, and a waker.
//!
//! mio is edge-triggered: an event says the socket *became* ready, once. So every readable event
//! is drained until `WouldBlock` (including the listener's accept queue), and interest is switched
//! between readable and writable as each connection's state needs.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use crate::codec::Codec;
use crate::connection::{Activity, ConnId, Connection, Reads, Times};
use crate::error::Error;
use crate::handle::{Handle, Message};
use crate::options::Options;
use crate::service::Service;
use crate::stats::LoopStats;
use crate::timer::Timers;

const WAKER: Token = Token(usize::MAX);
const LISTENER: Token = Token(usize::MAX - 1);

/// How long to wait before accepting again after running out of descriptors or memory.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A connection in the slab, with the interest it is registered for and its times.
struct Slot<C: Codec> {
    conn: Connection<TcpStream, C>,
    interest: Interest,
    times: Times,
}

/// One thread's loop, serving `S` on the connections it accepts or is handed.
///
/// # Examples
///
/// ```no_run
/// use nbnet::{Context, EventLoop, LineCodec, Options, Service};
/// struct Echo;
/// impl Service for Echo {
///     type Codec = LineCodec;
///     fn codec(&self) -> LineCodec { LineCodec::default() }
///     fn call(&self, line: Vec<u8>, _: &mut Context<'_>) -> Option<Vec<u8>> { Some(line) }
/// }
/// let event_loop = EventLoop::bind("127.0.0.1:0".parse().unwrap(), Echo, Options::default())?;
/// println!("listening on {}", event_loop.local_addr().unwrap());
/// event_loop.run()?;
/// # Ok::<(), nbnet::Error>(())
/// ```
pub struct EventLoop<S: Service> {
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    local_addr: Option<SocketAddr>,
    service: Arc<S>,
    conns: Slab<Slot<S::Codec>>,
    options: Options,
    handle: Handle,
    inbox: Receiver<Message>,
    timers: Timers,
    stats: Arc<LoopStats>,
    live: Arc<AtomicUsize>,
    scratch: Vec<u8>,
    generation: u64,
    stopping: Option<Instant>,
    accept_paused_until: Option<Instant>,
}

impl<S: Service> EventLoop<S> {
    /// A loop listening on `addr` (port 0 picks a free port: see [`local_addr`](Self::local_addr)).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound or the poller cannot be made.
    pub fn bind(addr: SocketAddr, service: S, options: Options) -> Result<Self, Error> {
        let listener = TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        Self::new(Some(listener), Arc::new(service), options, Arc::new(AtomicUsize::new(0)))
    }

    /// A loop with no listener, taking connections handed to it through its [`Handle`]; `live`
    /// counts the open connections of every worker sharing it.
    ///
    /// # Errors
    ///
    /// When the poller cannot be made.
    pub fn worker(service: Arc<S>, options: Options, live: Arc<AtomicUsize>) -> Result<Self, Error> {
        Self::new(None, service, options, live)
    }

    fn new(
        mut listener: Option<TcpListener>,
        service: Arc<S>,
        options: Options,
        live: Arc<AtomicUsize>,
    ) -> Result<Self, Error> {
        let poll = Poll::new().map_err(Error::sys("epoll_create"))?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(Error::sys("eventfd"))?);
        let (sender, inbox) = mpsc::channel();
        let mut local_addr = None;
        if let Some(listener) = listener.as_mut() {
            local_addr = Some(listener.local_addr().map_err(Error::sys("getsockname"))?);
            poll.registry()
                .register(listener, LISTENER, Interest::READABLE)
                .map_err(Error::sys("epoll_ctl"))?;
        }
        let scratch = vec![0; options.read_chunk.max(1)];
        Ok(EventLoop {
            poll,
            events: Events::with_capacity(1024),
            listener,
            local_addr,
            service,
            conns: Slab::new(),
            options,
            handle: Handle::new(sender, waker),
            inbox,
            timers: Timers::new(),
            stats: Arc::new(LoopStats::default()),
            live,
            scratch,
            generation: 0,
            stopping: None,
            accept_paused_until: None,
        })
    }

    /// The address the listener is bound to (`None` for a worker).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// A handle to write to connections or shut the loop down from other threads.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// The loop's counters.
    pub fn stats(&self) -> Arc<LoopStats> {
        Arc::clone(&self.stats)
    }

    // TODO(stage 1): poll, accept until WouldBlock (counting each connection in `live` and refusing
    // past max_conns), drive each ready connection, and re-register only when its interest changes.
    // TODO(stage 3): sleep no longer than the earliest timer; a due timer whose generation is not the
    // slot's is stale; read the Handle's messages when the waker fires (a Write whose ConnId is not
    // the slot's occupant is dropped); shut down gracefully.
    // TODO(stage 5): after a writable event on a connection not registered for reading, call
    // on_readable at once (a streamed answer may have ended with requests waiting).
    /// Runs until shut down through a [`Handle`].
    ///
    /// # Errors
    ///
    /// When polling fails for a reason other than a signal.
    pub fn run(self) -> Result<(), Error> {
        todo!(
            "stage 1: poll; accept until WouldBlock; on readiness drive the connection and re-register its interest; stage 3: timers, the waker's messages, shutdown"
        )
    }
}

/// Writes `refusal` (best effort: the socket is new, so its buffer is empty) and drops `stream`.
pub(crate) fn refuse(mut stream: TcpStream, refusal: &[u8], stats: &LoopStats) {
    let _ = stream.write(refusal);
    LoopStats::add(&stats.refused, 1);
}
