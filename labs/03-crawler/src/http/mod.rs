//! HTTP/1.1, client side, written over a TCP stream.
//!
//! The protocol is split the way mini-redis splits its frames from its connection: a *sans-IO* core
//! that only looks at bytes ([`encode_request`], [`ResponseHead::parse`], [`BodyDecoder`]) and can be
//! tested with any split of any input, and an async [`Client`] that moves bytes between that core and
//! a [`tokio::net::TcpStream`], with timeouts, keep-alive and redirects.
//!
//! - [`request`]: writing a request.
//! - [`head`]: parsing a status line and headers; how the body is framed ([`BodyKind`]).
//! - [`body`]: decoding a body: by length, chunked, or to the end of the connection.
//! - [`client`]: the client ([`Client`], [`ClientConfig`], [`Response`]).

pub mod body;
pub mod client;
pub mod head;
pub mod request;

pub use body::BodyDecoder;
pub use client::{Client, ClientConfig, Response};
pub use head::{BodyKind, ResponseHead};
pub use request::encode_request;

/// The largest response head accepted: status line and headers together.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
