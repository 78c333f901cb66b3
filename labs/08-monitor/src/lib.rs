//! `monitor`: a monitoring system (an agent that collects, a relay that routes, a time-series
//! store that keeps), lab 08 of the course.
//!
//! The agent on each machine reads `/proc`, nginx and plugins on a schedule ([`collect`]) and sends
//! the points in compact batches over one long connection ([`wire`]), keeping them in an on-disk
//! spool while no relay answers. The relay and the store are servers on lab 07's event loop
//! (`nbnet`).
//!
//! # Layout
//!
//! - [`point`]: what is carried ([`Sample`], [`Point`], [`SeriesKey`]).
//! - [`collect`]: the collectors, pure functions over the text of `/proc` files and the like, and
//!   the scheduler that runs them ([`collect::Collector`], [`collect::Scheduler`]).
//! - [`wire`]: the batch codec ([`wire::Message`]), the spool ([`wire::Spool`]) and the agent's
//!   sender ([`wire::Sender`]).
//! - [`agent`]: the agent, collectors to sender ([`agent::run_agent`]).
//! - the `monitor` command: [`cli`] (its arguments), [`config`] (what to run, [`Config`]),
//!   [`run()`] (running it until a [`Shutdown`], [`Outcome`]), [`error`] ([`Error`]).

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod agent;
pub mod cli;
pub mod collect;
pub mod config;
pub mod error;
pub mod point;
pub mod run;
pub mod shutdown;
pub mod wire;

pub use config::Config;
pub use error::Error;
pub use point::{Kind, Millis, Point, Sample, SeriesKey, Tags};
pub use run::{Outcome, run};
pub use shutdown::Shutdown;

/// A result whose error is this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
