//! The `logic(fd, data)` callback of nbNet, typed: a [`Service`] names its [`Codec`] and handles
//! one decoded request at a time through a [`Context`].

use std::net::SocketAddr;
use std::time::Duration;

use crate::codec::Codec;
use crate::connection::ConnId;
use crate::handle::Handle;

/// The request type of service `S`.
pub type RequestOf<S> = <<S as Service>::Codec as Codec>::Request;
/// The response type of service `S`.
pub type ResponseOf<S> = <<S as Service>::Codec as Codec>::Response;

/// What a server does with each request. Shared by every worker thread, so `&self` only: keep
/// mutable state behind locks or atomics (the memcached store is sharded behind mutexes).
///
/// # Examples
///
/// An echo server over lines:
///
/// ```
/// use nbnet::{Context, LineCodec, Service};
/// struct Echo;
/// impl Service for Echo {
///     type Codec = LineCodec;
///     fn codec(&self) -> LineCodec {
///         LineCodec::default()
///     }
///     fn call(&self, line: Vec<u8>, _cx: &mut Context<'_>) -> Option<Vec<u8>> {
///         Some(line)
///     }
/// }
/// ```
pub trait Service: Send + Sync + 'static {
    /// How this service frames its requests and responses.
    type Codec: Codec;

    /// A fresh codec for a new connection.
    fn codec(&self) -> Self::Codec;

    /// Handles one request; the response, if any, is encoded and written in order.
    fn call(&self, request: RequestOf<Self>, cx: &mut Context<'_>) -> Option<ResponseOf<Self>>;

    /// Bytes written (best effort) to a connection refused at the connection limit.
    fn refusal(&self) -> &[u8] {
        b""
    }
}

/// What a request's handler knows of, and can ask of, its connection.
#[derive(Debug)]
pub struct Context<'a> {
    id: ConnId,
    peer: Option<SocketAddr>,
    handle: Option<&'a Handle>,
    close: bool,
    deadline: Option<Duration>,
}

impl<'a> Context<'a> {
    /// A context for a request of connection `id`.
    pub fn new(id: ConnId, peer: Option<SocketAddr>, handle: Option<&'a Handle>) -> Self {
        Context { id, peer, handle, close: false, deadline: None }
    }

    /// The connection, for [`Handle::write`] from another thread.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The client's address, when known.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The loop's handle, to answer later from another thread (`None` outside a mio loop).
    pub fn handle(&self) -> Option<&'a Handle> {
        self.handle
    }

    /// Close the connection once the responses so far are written; later requests are dropped.
    pub fn close(&mut self) {
        self.close = true;
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closing(&self) -> bool {
        self.close
    }

    /// Close the connection `after` from now, whatever it is doing then.
    pub fn set_deadline(&mut self, after: Duration) {
        self.deadline = Some(after);
    }

    /// The deadline asked for by [`set_deadline`](Self::set_deadline).
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }
}
