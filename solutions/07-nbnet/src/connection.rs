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

impl Activity {
    /// This step's activity followed by `later`'s: the counts add up, and `later`'s deadline, if
    /// it asked for one, replaces this one's.
    pub(crate) fn merge(self, later: Activity) -> Activity {
        Activity {
            bytes_read: self.bytes_read + later.bytes_read,
            bytes_written: self.bytes_written + later.bytes_written,
            requests: self.requests + later.requests,
            deadline: later.deadline.or(self.deadline),
        }
    }
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
        let mut activity = Activity::default();
        loop {
            if self.unhandled && self.rest.is_none() && !self.closing && !self.closed {
                // Requests that came while a response was streamed, waiting in the input.
                self.unhandled = false;
                self.take(&[], service, handle, &mut activity);
                self.flush(&mut activity);
                continue;
            }
            if !self.wants_read() {
                // Writing may end a streamed response here, if the client read since our last
                // write: the requests behind it are in the input, and no edge will come for them.
                if self.rest.is_some() {
                    self.flush(&mut activity);
                    if self.rest.is_none() && self.unhandled {
                        continue;
                    }
                }
                break;
            }
            match self.stream.read(scratch) {
                Ok(0) => self.read_closed = true,
                Ok(n) => {
                    activity.bytes_read += n;
                    self.take(&scratch[..n], service, handle, &mut activity);
                    // Write as we go, so a pipelining client's responses do not pile up here.
                    self.flush(&mut activity);
                    if reads == Reads::UntilShort && n < scratch.len() && !self.unhandled {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // A reset (ECONNRESET) or any other error: nothing more can be said to this peer.
                Err(_) => self.closed = true,
            }
            if reads == Reads::One && !self.unhandled {
                break;
            }
        }
        self.flush(&mut activity);
        self.settle();
        activity
    }

    /// The socket is writable: write as much of the pending output as it takes.
    pub fn on_writable(&mut self) -> Activity {
        let mut activity = Activity::default();
        self.flush(&mut activity);
        self.settle();
        activity
    }

    /// Queues `bytes` (a response computed elsewhere) and writes what can be written at once. A
    /// response being streamed is encoded whole first, so the bytes never land inside it.
    pub fn queue(&mut self, bytes: &[u8]) -> Activity {
        let mut activity = Activity::default();
        if !self.closed {
            // After the whole of a response being streamed, never inside it.
            if let Some(rest) = self.rest.take() {
                self.codec.encode(rest, &mut self.output);
            }
            self.output.extend_from_slice(bytes);
            self.flush(&mut activity);
        }
        self.settle();
        activity
    }

    /// Stops reading; the connection closes once its pending output is written (a graceful
    /// shutdown).
    pub fn close_after_flush(&mut self) {
        self.closing = true;
        self.settle();
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
        !self.closed && !self.closing && !self.read_closed && self.rest.is_none()
    }

    /// Whether the loop should wait for the socket to become writable: there is output pending.
    pub fn wants_write(&self) -> bool {
        !self.closed && (self.pending() > 0 || self.rest.is_some())
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
        self.output.len() - self.written
    }

    /// Appends fresh bytes to the input and handles every whole request in it.
    fn take<S: Service<Codec = C>>(
        &mut self,
        fresh: &[u8],
        service: &S,
        handle: Option<&Handle>,
        activity: &mut Activity,
    ) {
        // The common case, a read holding whole requests, decodes straight from the read buffer.
        if self.input.is_empty() {
            let used = self.handle_requests(fresh, service, handle, activity);
            self.input.extend_from_slice(&fresh[used..]);
        } else {
            self.input.extend_from_slice(fresh);
            let input = std::mem::take(&mut self.input);
            let used = self.handle_requests(&input, service, handle, activity);
            self.input = input;
            self.input.drain(..used);
        }
        if self.closing {
            self.input.clear();
        }
        self.unhandled = self.rest.is_some() && !self.input.is_empty();
        if self.input.len() > self.max_input {
            self.closed = true;
        }
        if self.input.is_empty() && self.input.capacity() > KEEP_CAPACITY {
            self.input = Vec::new();
        }
    }

    /// Decodes and handles the whole requests at the start of `data`; returns the bytes used.
    fn handle_requests<S: Service<Codec = C>>(
        &mut self,
        data: &[u8],
        service: &S,
        handle: Option<&Handle>,
        activity: &mut Activity,
    ) -> usize {
        let mut used = 0;
        while used < data.len() && !self.closing && !self.closed && self.rest.is_none() {
            match self.codec.decode(&data[used..]) {
                Ok(Some((request, len))) => {
                    used += len.max(1);
                    activity.requests += 1;
                    let mut cx = Context::new(self.id, self.peer, handle);
                    if let Some(response) = service.call(request, &mut cx) {
                        let limit = self.written + STREAM_AHEAD;
                        self.rest = self.codec.encode_part(response, &mut self.output, limit);
                        // Bound the output while a pipelined batch is handled, not only after it:
                        // 64 KiB of `get`s of a 1 MiB item would otherwise be gigabytes.
                        if self.pending() > self.max_output {
                            self.flush(activity);
                        }
                    }
                    if cx.is_closing() {
                        self.closing = true;
                    }
                    if let Some(after) = cx.deadline() {
                        activity.deadline = Some(after);
                    }
                }
                Ok(None) => break,
                // Bytes no request starts with: answer what came before, then hang up.
                Err(_) => {
                    self.closing = true;
                    used = data.len();
                }
            }
        }
        used
    }

    /// Writes pending output until done or `WouldBlock`, then closes the connection if more than
    /// `max_output` is still unsent: its client is not reading its responses.
    fn flush(&mut self, activity: &mut Activity) {
        loop {
            self.refill();
            if self.closed || self.written == self.output.len() {
                break;
            }
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => self.closed = true,
                Ok(n) => {
                    self.written += n;
                    activity.bytes_written += n;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // EPIPE, ECONNRESET: the client is gone.
                Err(_) => self.closed = true,
            }
        }
        if self.written == self.output.len() {
            self.output.clear();
            self.written = 0;
            if self.output.capacity() > KEEP_CAPACITY {
                self.output = Vec::new();
            }
        } else if self.written > KEEP_CAPACITY {
            // Keep the unsent tail at the front, so the buffer does not grow by what was sent.
            self.output.drain(..self.written);
            self.written = 0;
        }
        if self.pending() > self.max_output {
            self.overflowed = true;
            self.closed = true;
        }
    }

    /// Encodes more of a streamed response once less than [`STREAM_AHEAD`] is left to write.
    fn refill(&mut self) {
        if self.pending() >= STREAM_AHEAD {
            return;
        }
        let Some(rest) = self.rest.take() else { return };
        // Move the unsent tail to the front first, so the buffer stays about STREAM_AHEAD long.
        self.output.drain(..self.written);
        self.written = 0;
        self.rest = self.codec.encode_part(rest, &mut self.output, STREAM_AHEAD);
    }

    /// Moves to closed when nothing is left to do: the client half-closed, or we are closing, and
    /// every response is written.
    fn settle(&mut self) {
        let done = self.closing || (self.read_closed && !self.unhandled);
        if done && self.pending() == 0 && self.rest.is_none() {
            self.closed = true;
        }
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
