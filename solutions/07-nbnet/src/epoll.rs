//! A raw epoll backend, through `libc`: the same [`Connection`] state machine driven by
//! `epoll_wait` in level-triggered or edge-triggered mode, with switches that break each mode's rule
//! so the tests (and you) can watch what goes wrong.
//!
//! - Level-triggered: `epoll_wait` reports a descriptor for as long as it is ready. Reading one
//!   chunk per event is fine (the rest is reported again), but asking for `EPOLLOUT` when there is
//!   nothing to write makes every wait return at once: a busy loop.
//! - Edge-triggered: `epoll_wait` reports a descriptor when it *becomes* ready. Keeping `EPOLLOUT`
//!   costs nothing, but a reader that stops before `EAGAIN` leaves bytes in the socket that no
//!   further event will announce: the connection starves.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use slab::Slab;

use crate::connection::{Activity, ConnId, Connection, Reads};
use crate::service::Service;
use crate::stats::{LoopStats, StatsSnapshot};

/// When epoll reports a ready descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// On every wait while it is ready (`poll`'s and `select`'s behaviour).
    Level,
    /// Once each time it becomes ready (`EPOLLET`, mio's mode).
    Edge,
}

/// The loop's discipline; [`Rules::FOLLOWED`] is correct in both modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Read until `EAGAIN` on each readable event (false: one read per event).
    pub drain_reads: bool,
    /// Ask for `EPOLLOUT` only while output is pending (false: always).
    pub drop_write_interest: bool,
}

impl Rules {
    /// Both rules kept.
    pub const FOLLOWED: Rules = Rules { drain_reads: true, drop_write_interest: true };
}

/// An epoll instance.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

/// The event mask for the given interest and mode.
fn mask(read: bool, write: bool, trigger: Trigger) -> u32 {
    let mut events = libc::EPOLLRDHUP as u32;
    if read {
        events |= libc::EPOLLIN as u32;
    }
    if write {
        events |= libc::EPOLLOUT as u32;
    }
    if trigger == Trigger::Edge {
        events |= libc::EPOLLET as u32;
    }
    events
}

impl Epoll {
    /// A new epoll instance (close-on-exec).
    ///
    /// # Errors
    ///
    /// When the kernel refuses one (EMFILE, ENOMEM).
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes a flag and returns a new descriptor or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by epoll_create1, so it is open and owned by nobody else.
        Ok(Epoll { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: `self.fd` is an open epoll descriptor and `event` a valid epoll_event for the
        // duration of the call (the kernel copies it).
        let done = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) };
        if done < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Watches `fd` under `token` for the given readiness in mode `trigger`.
    ///
    /// # Errors
    ///
    /// As `epoll_ctl(EPOLL_CTL_ADD)`.
    pub fn add(&self, fd: RawFd, token: u64, read: bool, write: bool, trigger: Trigger) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, mask(read, write, trigger))
    }

    /// Changes what `fd` is watched for. (In edge-triggered mode this also re-arms it: a descriptor
    /// already ready is reported again.)
    ///
    /// # Errors
    ///
    /// As `epoll_ctl(EPOLL_CTL_MOD)`.
    pub fn modify(&self, fd: RawFd, token: u64, read: bool, write: bool, trigger: Trigger) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, mask(read, write, trigger))
    }

    /// Stops watching `fd`.
    ///
    /// # Errors
    ///
    /// As `epoll_ctl(EPOLL_CTL_DEL)`.
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeout` (forever if `None`) and fills `events` with what is ready.
    ///
    /// # Errors
    ///
    /// As `epoll_wait`; `EINTR` is returned as an error of kind `Interrupted`.
    pub fn wait(&self, events: &mut Vec<libc::epoll_event>, timeout: Option<Duration>) -> io::Result<usize> {
        let capacity = events.capacity().max(1);
        events.clear();
        events.reserve(capacity);
        let millis = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as libc::c_int);
        // SAFETY: `events` has room for `capacity` entries; the kernel writes at most that many
        // and returns how many it wrote.
        let n = unsafe {
            libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), capacity as libc::c_int, millis)
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialised the first `n` entries (n <= capacity).
        unsafe { events.set_len(n as usize) };
        Ok(n as usize)
    }
}

const LISTENER: u64 = u64::MAX;

/// A connection of the epoll loop, with the (read, write) interest it is registered for.
type Slot<C> = (Connection<TcpStream, C>, (bool, bool));

/// A one-thread server on raw epoll, driven a wait at a time with [`turn`](Self::turn).
pub struct EpollLoop<S: Service> {
    epoll: Epoll,
    listener: TcpListener,
    service: S,
    trigger: Trigger,
    rules: Rules,
    conns: Slab<Slot<S::Codec>>,
    events: Vec<libc::epoll_event>,
    scratch: Vec<u8>,
    stats: LoopStats,
    generation: u64,
}

impl<S: Service> EpollLoop<S> {
    /// A loop listening on `addr`, reading at most `read_chunk` bytes per `read`.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound or epoll set up.
    pub fn bind(
        addr: SocketAddr,
        service: S,
        trigger: Trigger,
        rules: Rules,
        read_chunk: usize,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let epoll = Epoll::new()?;
        epoll.add(listener.as_raw_fd(), LISTENER, true, false, trigger)?;
        Ok(EpollLoop {
            epoll,
            listener,
            service,
            trigger,
            rules,
            conns: Slab::new(),
            events: Vec::with_capacity(256),
            scratch: vec![0; read_chunk.max(1)],
            stats: LoopStats::default(),
            generation: 0,
        })
    }

    /// The listener's address.
    ///
    /// # Errors
    ///
    /// As `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// One `epoll_wait` (up to `timeout`) and the handling of what it reported; returns the number
    /// of events.
    ///
    /// # Errors
    ///
    /// When `epoll_wait` fails for a reason other than a signal.
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = std::mem::take(&mut self.events);
        let n = match self.epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => 0,
            Err(err) => {
                self.events = events;
                return Err(err);
            }
        };
        LoopStats::add(&self.stats.wakeups, 1);
        for event in &events {
            let (token, flags) = (event.u64, event.events);
            if token == LISTENER {
                self.accept();
                continue;
            }
            let token = token as usize;
            let Some((conn, registered)) = self.conns.get_mut(token) else { continue };
            let writable = flags & (libc::EPOLLOUT as u32) != 0;
            let mut activity = if writable { conn.on_writable() } else { Activity::default() };
            let hup = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
            // Not registered for reading: a streamed response may just have ended, with requests
            // waiting in the input and no event to come.
            let resumed = writable && !registered.0;
            if flags & hup != 0 || resumed {
                let reads = if self.rules.drain_reads { Reads::UntilWouldBlock } else { Reads::One };
                let read = conn.on_readable(&self.service, None, &mut self.scratch, reads);
                activity = activity.merge(read);
            }
            self.settle(token, activity);
        }
        self.events = events;
        Ok(n)
    }

    /// The loop's counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Accepts until `EAGAIN` (in either mode: the rule under test is the readers').
    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let entry = self.conns.vacant_entry();
                    let token = entry.key();
                    self.generation += 1;
                    let id = ConnId { token, generation: self.generation };
                    let write = !self.rules.drop_write_interest;
                    if self.epoll.add(stream.as_raw_fd(), token as u64, true, write, self.trigger).is_err() {
                        continue;
                    }
                    let conn =
                        Connection::new(stream, self.service.codec(), id, Some(peer), 4 << 20, 8 << 20);
                    entry.insert((conn, (true, write)));
                    LoopStats::add(&self.stats.accepted, 1);
                    LoopStats::add(&self.stats.active, 1);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
    }

    /// Counts `activity`; closes the connection or changes its interest as its state needs.
    fn settle(&mut self, token: usize, activity: Activity) {
        LoopStats::add(&self.stats.bytes_read, activity.bytes_read as u64);
        LoopStats::add(&self.stats.bytes_written, activity.bytes_written as u64);
        LoopStats::add(&self.stats.requests, activity.requests as u64);
        let Some((conn, registered)) = self.conns.get_mut(token) else { return };
        if conn.is_closed() {
            let _ = self.epoll.delete(conn.stream().as_raw_fd());
            self.conns.remove(token);
            self.stats.active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            LoopStats::add(&self.stats.closed, 1);
            return;
        }
        let wanted = (conn.wants_read(), conn.wants_write() || !self.rules.drop_write_interest);
        // Only a change is written: in edge-triggered mode a needless EPOLL_CTL_MOD would re-arm
        // the descriptor and hide a reader that stopped early.
        if wanted != *registered {
            *registered = wanted;
            let fd = conn.stream().as_raw_fd();
            if self.epoll.modify(fd, token as u64, wanted.0, wanted.1, self.trigger).is_err() {
                conn.abort();
            }
        }
    }
}
