//! `monitor`: a monitoring system (an agent that collects, a relay that routes, a time-series
//! store that keeps, a judge that evaluates alert rules, and an HTTP API that answers), lab 08 of
//! the course.
//!
//! The agent on each machine reads `/proc`, nginx and plugins on a schedule ([`collect`]) and sends
//! the points in compact batches over one long connection ([`wire`]), keeping them in an on-disk
//! spool while no relay answers. The relay ([`relay`]) routes every series to its store shard by
//! consistent hashing; the store ([`store`]) makes each point durable before it acknowledges it and
//! keeps it compressed, with rollups; the judge ([`judge`]) evaluates alert rules as the points
//! arrive; the query API ([`query`]) answers range queries over HTTP. The relay, the store and the
//! judge are servers on lab 07's event loop (`nbnet`).
//!
//! # Layout
//!
//! - [`point`]: what is carried ([`Sample`], [`Point`], [`SeriesKey`]).
//! - [`collect`]: the collectors, pure functions over the text of `/proc` files and the like, and
//!   the scheduler that runs them ([`collect::Collector`], [`collect::Scheduler`]).
//! - [`wire`]: the batch codec ([`wire::Message`]), the spool ([`wire::Spool`]) and the agent's
//!   sender ([`wire::Sender`]).
//! - [`relay`]: consistent hashing ([`relay::Ring`]), bounded queues and forwarders
//!   ([`relay::Relay`]).
//! - [`store`]: the write-ahead log, Gorilla-compressed chunks, rollups and range queries
//!   ([`store::Store`]), served on nbnet ([`store::serve`]).
//! - [`judge`]: alert rules (`cpu.busy all(#3) > 90`) evaluated as the points arrive, on judge
//!   shards the relay routes each series to ([`judge::Judge`], [`judge::serve_judge`]).
//! - [`query`]: the HTTP API ([`query::router`]) and the agent's `/metrics` page
//!   ([`query::metrics_router`]).
//! - [`agent`]: the agent, collectors to sender ([`agent::run_agent`]); [`demo`]: everything on
//!   one machine ([`demo::run_demo`]).
//! - the `monitor` command: [`cli`] (its arguments), [`config`] (what to run, [`Config`]),
//!   [`run()`] (running it until a [`Shutdown`], [`Outcome`]), [`error`] ([`Error`]).

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod agent;
pub mod alarm;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod error;
pub mod judge;
pub mod point;
pub mod query;
pub mod relay;
pub mod run;
pub mod shutdown;
pub mod store;
pub mod web;
pub mod wire;

pub use config::Config;
pub use error::Error;
pub use point::{Kind, Millis, Point, Sample, SeriesKey, Tags};
pub use run::{Outcome, run};
pub use shutdown::Shutdown;

/// A result whose error is this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
