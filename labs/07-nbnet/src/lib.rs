//! `nbnet`: an event-loop network library on mio, and a memcached server on it, lab 07 of the course.
//!
//! A server built on `nbnet` is a [`Service`]: a [`Codec`] that cuts the bytes a client sends into
//! requests and turns responses back into bytes, and a handler called once per request. Everything
//! else is the library's: non-blocking sockets watched by one `mio::Poll` per thread, each
//! connection a small state machine with its own buffers ([`Connection`]), partial reads and writes,
//! idle timeouts and deadlines ([`Timers`]), a [`Handle`] through which other threads hand work back
//! to a loop, graceful shutdown, and memcached's thread model: one acceptor thread handing new
//! connections round-robin to N worker loops ([`Server`]).
//!
//! # Layout
//!
//! - [`codec`]: framing ([`Codec`]), the nbNet 10-byte length header ([`LengthCodec`]) and lines
//!   ([`LineCodec`]).
//! - [`service`]: the `logic` callback, typed ([`Service`], [`Context`]).
//! - [`connection`]: one connection's state machine ([`Connection`]).
//! - [`event_loop`]: one thread's loop ([`EventLoop`]); [`timer`]: its deadlines ([`Timers`]);
//!   [`handle`]: waking it from other threads ([`Handle`]).
//! - [`epoll`]: a raw epoll backend, level- or edge-triggered ([`epoll::EpollLoop`]).
//! - [`server`]: one acceptor and N workers ([`Server`]).
//! - [`memcache`]: a memcached text-protocol server on the library.
//! - [`options`], [`stats`], [`error`]: settings, counters and errors.
//! - the `memkv` command: [`cli`] (its arguments), [`config`] (what to run, [`Config`]), [`run()`]
//!   (serving until a [`Shutdown`], [`Outcome`]), [`shutdown`] (stopping a server from any thread).

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod cli;
pub mod codec;
pub mod config;
pub mod connection;
pub mod epoll;
pub mod error;
pub mod event_loop;
pub mod handle;
pub mod memcache;
pub mod options;
pub mod run;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod stats;
pub mod timer;

pub use codec::{Codec, CodecError, LengthCodec, LineCodec};
pub use config::Config;
pub use connection::{ConnId, Connection, Reads};
pub use error::Error;
pub use event_loop::EventLoop;
pub use handle::Handle;
pub use options::Options;
pub use run::{Outcome, run};
pub use server::{Server, ServerHandle};
pub use service::{Context, Service};
pub use shutdown::Shutdown;
pub use stats::{LoopStats, StatsSnapshot};
pub use timer::Timers;

/// A result whose error is this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
