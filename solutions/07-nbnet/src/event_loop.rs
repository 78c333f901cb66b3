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

/// Whether `accept` failed for want of descriptors or kernel memory: the connection is still queued,
/// and accepting again at once would fail the same way, so the caller backs off for a while.
pub(crate) fn is_out_of_resources(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
}

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

    /// Runs until shut down through a [`Handle`].
    ///
    /// # Errors
    ///
    /// When polling fails for a reason other than a signal.
    pub fn run(mut self) -> Result<(), Error> {
        // Out of `self` for the whole run, so handling an event may borrow `self` mutably.
        let mut events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        let mut due = Vec::new();
        loop {
            if let Some(until) = self.stopping
                && (self.conns.is_empty() || Instant::now() >= until)
            {
                return Ok(());
            }
            let timeout = self.timeout();
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(Error::sys("epoll_wait")(err)),
            }
            LoopStats::add(&self.stats.wakeups, 1);
            for event in events.iter() {
                match event.token() {
                    WAKER => self.read_inbox(),
                    LISTENER => self.accept(),
                    Token(token) => {
                        let reads = if event.is_read_closed() || event.is_error() {
                            Some(Reads::UntilWouldBlock)
                        } else if event.is_readable() {
                            Some(Reads::UntilShort)
                        } else {
                            None
                        };
                        self.ready(token, reads, event.is_writable());
                    }
                }
            }
            if self.accept_paused_until.is_some_and(|until| Instant::now() >= until) {
                self.accept_paused_until = None;
                self.accept();
            }
            self.timers.expire(Instant::now(), &mut due);
            for (token, generation) in due.drain(..) {
                self.check_times(token, generation);
            }
        }
    }

    /// How long poll may sleep: until the next timer, the end of a shutdown, or an accept retry.
    fn timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        [self.timers.next_deadline(), self.stopping, self.accept_paused_until]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.saturating_duration_since(now))
    }

    /// Accepts until the queue is empty (edge-triggered: no other event will come for the rest).
    fn accept(&mut self) {
        loop {
            let Some(listener) = self.listener.as_ref() else { return };
            match listener.accept() {
                Ok((stream, peer)) => {
                    if self.live.load(Ordering::Relaxed) >= self.options.max_conns {
                        refuse(stream, self.service.refusal(), &self.stats);
                        continue;
                    }
                    self.live.fetch_add(1, Ordering::Relaxed);
                    self.adopt(stream, Some(peer));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) if is_out_of_resources(&err) => {
                    // The queue is not empty, so retry soon rather than wait for an edge that will
                    // not come.
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    return;
                }
                // ECONNABORTED and the like concern one connection only.
                Err(_) => continue,
            }
        }
    }

    /// Takes on `stream` (already counted in `live`).
    fn adopt(&mut self, mut stream: TcpStream, peer: Option<SocketAddr>) {
        if self.stopping.is_some() {
            self.live.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        // Responses are small and latency matters: do not wait to fill a segment (Nagle).
        let _ = stream.set_nodelay(true);
        let peer = peer.or_else(|| stream.peer_addr().ok());
        let entry = self.conns.vacant_entry();
        let token = entry.key();
        self.generation += 1;
        let id = ConnId { token, generation: self.generation };
        if self.poll.registry().register(&mut stream, Token(token), Interest::READABLE).is_err() {
            self.live.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let now = Instant::now();
        let conn = Connection::new(
            stream,
            self.service.codec(),
            id,
            peer,
            self.options.max_input,
            self.options.max_output,
        );
        entry.insert(Slot {
            conn,
            interest: Interest::READABLE,
            times: Times { last_active: now, deadline: None },
        });
        if let Some(idle) = self.options.idle_timeout {
            self.timers.schedule(now + idle, token, id.generation);
        }
        LoopStats::add(&self.stats.accepted, 1);
        LoopStats::add(&self.stats.active, 1);
        // Bytes may already be waiting: registering reports them, but reading now saves a wakeup.
        self.ready(token, Some(Reads::UntilWouldBlock), false);
    }

    /// The socket of `token` is ready: writable, and readable if `reads` says how to read.
    fn ready(&mut self, token: usize, reads: Option<Reads>, writable: bool) {
        let Some(slot) = self.conns.get_mut(token) else { return };
        let mut activity = if writable { slot.conn.on_writable() } else { Activity::default() };
        // Not registered for reading: a streamed response may just have ended, with requests
        // waiting in the input and bytes in the socket, and no edge to say so.
        let resumed = writable && !slot.interest.is_readable();
        let reads = reads.or(resumed.then_some(Reads::UntilWouldBlock));
        if let Some(reads) = reads {
            let read = slot.conn.on_readable(&*self.service, Some(&self.handle), &mut self.scratch, reads);
            activity = activity.merge(read);
        }
        self.account(token, activity);
    }

    /// Counts `activity`, moves timers, and closes or re-registers the connection.
    fn account(&mut self, token: usize, activity: Activity) {
        let Some(slot) = self.conns.get_mut(token) else { return };
        let stats = &self.stats;
        LoopStats::add(&stats.bytes_read, activity.bytes_read as u64);
        LoopStats::add(&stats.bytes_written, activity.bytes_written as u64);
        LoopStats::add(&stats.requests, activity.requests as u64);
        let now = Instant::now();
        if activity.bytes_read + activity.bytes_written > 0 {
            slot.times.last_active = now;
        }
        if let Some(after) = activity.deadline {
            slot.times.deadline = Some(now + after);
            self.timers.schedule(now + after, token, slot.conn.id().generation);
        }
        if slot.conn.is_closed() {
            if slot.conn.overflowed() {
                LoopStats::add(&stats.overflows, 1);
            }
            self.close(token);
            return;
        }
        let interest = match (slot.conn.wants_read(), slot.conn.wants_write()) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (true, false) => Interest::READABLE,
            (false, true) => Interest::WRITABLE,
            // Neither: settle() has closed it already; nothing to wait for either way.
            (false, false) => {
                self.close(token);
                return;
            }
        };
        if interest != slot.interest {
            slot.interest = interest;
            if self.poll.registry().reregister(slot.conn.stream_mut(), Token(token), interest).is_err() {
                self.close(token);
            }
        }
    }

    /// Drops connection `token`.
    fn close(&mut self, token: usize) {
        if let Some(mut slot) = self.conns.try_remove(token) {
            let _ = self.poll.registry().deregister(slot.conn.stream_mut());
            self.live.fetch_sub(1, Ordering::Relaxed);
            self.stats.active.fetch_sub(1, Ordering::Relaxed);
            LoopStats::add(&self.stats.closed, 1);
        }
    }

    /// A timer of `token` came up: close it if its idle time or deadline has passed.
    fn check_times(&mut self, token: usize, generation: u64) {
        let Some(slot) = self.conns.get(token) else { return };
        if slot.conn.id().generation != generation {
            return;
        }
        let now = Instant::now();
        let past_deadline = slot.times.deadline.is_some_and(|at| at <= now);
        let idle_until = self.options.idle_timeout.map(|idle| slot.times.last_active + idle);
        if past_deadline || idle_until.is_some_and(|at| at <= now) {
            LoopStats::add(&self.stats.timeouts, 1);
            self.close(token);
        } else if let Some(at) = idle_until {
            self.timers.schedule(at, token, generation);
        }
    }

    /// Handles what other threads sent.
    fn read_inbox(&mut self) {
        while let Ok(message) = self.inbox.try_recv() {
            match message {
                Message::Write(id, bytes) => {
                    let Some(slot) = self.conns.get_mut(id.token) else { continue };
                    if slot.conn.id() != id {
                        continue;
                    }
                    let mut activity = slot.conn.queue(&bytes);
                    // A streamed response it finished may leave requests waiting, and no edge to come.
                    if !slot.interest.is_readable() && slot.conn.wants_read() {
                        let reads = Reads::UntilWouldBlock;
                        let read = slot.conn.on_readable(
                            &*self.service,
                            Some(&self.handle),
                            &mut self.scratch,
                            reads,
                        );
                        activity = activity.merge(read);
                    }
                    self.account(id.token, activity);
                }
                Message::Adopt(stream) => self.adopt(stream, None),
                Message::Shutdown => self.begin_shutdown(),
            }
        }
    }

    /// Stops accepting and reading; connections close as their output is written, and all are
    /// closed when the grace period ends.
    fn begin_shutdown(&mut self) {
        if self.stopping.is_some() {
            return;
        }
        self.stopping = Some(Instant::now() + self.options.shutdown_grace);
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let tokens: Vec<usize> = self.conns.iter().map(|(token, _)| token).collect();
        for token in tokens {
            if let Some(slot) = self.conns.get_mut(token) {
                slot.conn.close_after_flush();
            }
            self.account(token, Activity::default());
        }
    }
}

/// Writes `refusal` (best effort: the socket is new, so its buffer is empty) and drops `stream`.
pub(crate) fn refuse(mut stream: TcpStream, refusal: &[u8], stats: &LoopStats) {
    let _ = stream.write(refusal);
    LoopStats::add(&stats.refused, 1);
}
