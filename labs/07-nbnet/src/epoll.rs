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
    todo!("stage 2: EPOLLIN/EPOLLOUT as asked, EPOLLRDHUP, EPOLLET for edge-triggered")
}

impl Epoll {
    /// A new epoll instance (close-on-exec).
    ///
    /// # Errors
    ///
    /// When the kernel refuses one (EMFILE, ENOMEM).
    pub fn new() -> io::Result<Self> {
        todo!("stage 2: epoll_create1(EPOLL_CLOEXEC), owned")
    }

    /// Watches `fd` under `token` for the given readiness in mode `trigger`.
    ///
    /// # Errors
    ///
    /// As `epoll_ctl(EPOLL_CTL_ADD)`.
    pub fn add(&self, fd: RawFd, token: u64, read: bool, write: bool, trigger: Trigger) -> io::Result<()> {
        todo!("stage 2: epoll_ctl(EPOLL_CTL_ADD) with the mask and the token in the event's u64")
    }

    /// Changes what `fd` is watched for. (In edge-triggered mode this also re-arms it: a descriptor
    /// already ready is reported again.)
    ///
    /// # Errors
    ///
    /// As `epoll_ctl(EPOLL_CTL_MOD)`.
    pub fn modify(&self, fd: RawFd, token: u64, read: bool, write: bool, trigger: Trigger) -> io::Result<()> {
        todo!("stage 2: epoll_ctl(EPOLL_CTL_MOD)")
    }

    /// Stops watching `fd`.
    ///
    /// # Errors
    ///
    /// As `epoll_ctl(EPOLL_CTL_DEL)`.
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        todo!("stage 2: epoll_ctl(EPOLL_CTL_DEL)")
    }

    /// Waits up to `timeout` (forever if `None`) and fills `events` with what is ready.
    ///
    /// # Errors
    ///
    /// As `epoll_wait`; `EINTR` is returned as an error of kind `Interrupted`.
    // Until it is written, `events` is only passed through, which clippy would rather see as a slice.
    #[allow(clippy::ptr_arg)]
    pub fn wait(&self, events: &mut Vec<libc::epoll_event>, timeout: Option<Duration>) -> io::Result<usize> {
        todo!("stage 2: epoll_wait into the vector's spare capacity, then set its length")
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

    // TODO(stage 2): one epoll_wait, then what Rules says: drain or read once, drop write interest or
    // keep it; EPOLL_CTL_MOD only when the interest changes.
    /// One `epoll_wait` (up to `timeout`) and the handling of what it reported; returns the number
    /// of events.
    ///
    /// # Errors
    ///
    /// When `epoll_wait` fails for a reason other than a signal.
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        todo!(
            "stage 2: one wait; accept on the listener's token; drive each connection (drain only if the rules say so); change its registration only when its interest changes"
        )
    }

    /// The loop's counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }
}
