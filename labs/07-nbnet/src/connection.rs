//! One connection's state machine: read → decode → handle → encode → write, with partial reads and
//! writes carried over in the connection's own buffers.
//!
//! A [`Connection`] does not know which loop drives it: mio's (edge-triggered) or the raw epoll
//! backend's (either mode). The loop calls [`on_readable`](Connection::on_readable) and
//! [`on_writable`](Connection::on_writable) when the socket is ready and then asks
//! [`wants_read`](Connection::wants_read) and [`wants_write`](Connection::wants_write) which
//! readiness to wait for next; once [`is_closed`](Connection::is_closed) it drops the connection.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::codec::Codec;
use crate::handle::Handle;
use crate::service::{Context, Service};

/// A connection's name within its loop: the slab slot and a generation, so a late message for a
/// connection that closed cannot reach the next one to use the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// The slot in the loop's slab, also the `mio::Token`.
    pub token: usize,
    /// Which of the slot's occupants this is.
    pub generation: u64,
}

/// What one call did, for the loop's counters and timers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Bytes read from the socket.
    pub bytes_read: usize,
    /// Bytes written to the socket.
    pub bytes_written: usize,
    /// Requests decoded and handled.
    pub requests: usize,
    /// A deadline a handler asked for.
    pub deadline: Option<Duration>,
}

/// How much to read on a readable event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// One `read` (level-triggered loops may; edge-triggered ones starve).
    One,
    /// Until `WouldBlock`: what edge-triggering requires of any stream.
    UntilWouldBlock,
    /// Until `WouldBlock` or a read shorter than the buffer. For TCP a short read has emptied the
    /// socket (the kernel copies until its queue is empty), and any byte arriving later raises a
    /// new edge; this saves the read that would only say `WouldBlock`. Not for an event that says
    /// the peer closed: its end of file may be queued behind the data, with no edge left to come.
    UntilShort,
}

/// Buffers kept for a connection between events are shrunk back when they grew past this, so an
/// idle connection costs the same whatever it once did.
const KEEP_CAPACITY: usize = 16 << 10;

/// Output encoded ahead of the socket: a response the codec can encode in parts
/// ([`Codec::encode_part`]) is encoded only this far ahead of what is written, so a large answer
/// streams through a buffer of about this size instead of being built whole.
pub const STREAM_AHEAD: usize = 256 << 10;

/// One client connection over stream `T` (a non-blocking socket) framed by codec `C`.
#[derive(Debug)]
pub struct Connection<T, C: Codec> {
    stream: T,
    codec: C,
    id: ConnId,
    peer: Option<SocketAddr>,
    /// Received bytes not yet forming a whole request.
    input: Vec<u8>,
    /// Encoded responses; `output[written..]` is still to be sent.
    output: Vec<u8>,
    written: usize,
    /// What is left of a response being encoded in parts; no request is handled until it is out.
    rest: Option<C::Response>,
    /// The input may hold whole requests not yet handled: they came while `rest` was streamed.
    unhandled: bool,
    max_input: usize,
    max_output: usize,
    /// The client half-closed: no more requests will come.
    read_closed: bool,
    /// Stop reading; close once `output` is written.
    closing: bool,
    closed: bool,
    overflowed: bool,
}

// TODO(stage 1): on_readable, on_writable, wants_read, wants_write and pending, with private helpers
// of your own: read as `reads` says, decode every whole request, answer through the service, write
// until WouldBlock; close a connection whose unfinished request outgrows max_input, or whose client
// leaves more than max_output unread.
// TODO(stage 3): queue (a Handle's write) and close_after_flush (a graceful shutdown).
// TODO(stage 5): streaming: encode a response with Codec::encode_part only STREAM_AHEAD ahead of the
// socket, keep what is left in `rest`, and handle no request until it is out; requests read
// meanwhile wait in the input (`unhandled`) and are handled as soon as it is.
impl<T: Read + Write, C: Codec> Connection<T, C> {
    /// A new open connection, holding at most `max_input` bytes of an incomplete request and
    /// `max_output` bytes of unsent responses.
    pub fn new(
        stream: T,
        codec: C,
        id: ConnId,
        peer: Option<SocketAddr>,
        max_input: usize,
        max_output: usize,
    ) -> Self {
        Connection {
            stream,
            codec,
            id,
            peer,
            input: Vec::new(),
            output: Vec::new(),
            written: 0,
            rest: None,
            unhandled: false,
            max_input,
            max_output,
            read_closed: false,
            closing: false,
            closed: false,
            overflowed: false,
        }
    }

    /// The connection's id.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The socket.
    pub fn stream(&self) -> &T {
        &self.stream
    }

    /// The socket, mutably (to register it with a poller).
    pub fn stream_mut(&mut self) -> &mut T {
        &mut self.stream
    }

    /// The socket is readable: read into `scratch` as `reads` says, handle every whole request
    /// with `service`, and write what can be written at once.
    pub fn on_readable<S: Service<Codec = C>>(
        &mut self,
        service: &S,
        handle: Option<&Handle>,
        scratch: &mut [u8],
        reads: Reads,
    ) -> Activity {
        todo!(
            "stage 1: read into scratch as reads says, handle each whole request, write what the socket takes"
        )
    }

    /// The socket is writable: write as much of the pending output as it takes.
    pub fn on_writable(&mut self) -> Activity {
        todo!(
            "stage 1: write pending output until done or WouldBlock; close if the client half-closed and all is written"
        )
    }

    /// Queues `bytes` (a response computed elsewhere) and writes what can be written at once. A
    /// response being streamed is encoded whole first, so the bytes never land inside it.
    pub fn queue(&mut self, bytes: &[u8]) -> Activity {
        todo!(
            "stage 3: append bytes computed by another thread to the output and write what the socket takes"
        )
    }

    /// Stops reading; the connection closes once its pending output is written (a graceful
    /// shutdown).
    pub fn close_after_flush(&mut self) {
        todo!("stage 3: stop reading; close once the pending output is written")
    }

    /// Closes now, dropping pending output.
    pub fn abort(&mut self) {
        self.closed = true;
    }

    /// Whether the loop should wait for the socket to become readable: not while a response is
    /// being streamed (the next request waits for it). After a writable event on a connection not
    /// registered for reading, the loop calls [`on_readable`](Self::on_readable) at once: a
    /// streamed response may have ended, with requests waiting in the input and no edge to come.
    pub fn wants_read(&self) -> bool {
        todo!("stage 1: read interest unless closed, closing or half-closed; stage 5: not while streaming")
    }

    /// Whether the loop should wait for the socket to become writable: there is output pending.
    pub fn wants_write(&self) -> bool {
        todo!("stage 1: write interest while output is pending; stage 5: or more is left to encode")
    }

    /// Whether the connection is done and should be dropped.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether it was closed because its client did not read its responses.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Bytes of responses not yet written.
    pub fn pending(&self) -> usize {
        todo!("stage 1: bytes of output not yet written")
    }
}

/// When a connection last did something and when its deadline falls: kept by the loop beside it.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// The last time bytes moved.
    pub last_active: Instant,
    /// When a handler asked for the connection to be closed.
    pub deadline: Option<Instant>,
}
