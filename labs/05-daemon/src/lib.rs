//! `superd`: a daemon library and a process supervisor built on it, lab 05 of the course.
//!
//! `superd start --pidfile P --log L -- COMMAND` detaches from the terminal (a double fork), locks
//! a pid file, and runs COMMAND, restarting it with exponential backoff whenever it dies, until it
//! dies too often or `superd stop` sends SIGTERM. SIGHUP (`superd reload`) reopens the log, so
//! logrotate can move it, and rereads the `--config` file, whose settings apply from the next
//! restart.
//!
//! # Layout
//!
//! - [`daemonize`](mod@daemonize): becoming a daemon ([`daemonize()`], [`Daemonized`]).
//! - [`pidfile`]: the locked pid file ([`PidFile`], [`pidfile::status`]).
//! - [`signals`]: signal handlers and the self-pipe ([`Signals`]).
//! - [`config`]: what a run is asked to do ([`Config`]), the settings and the file that overrides
//!   them ([`Settings`], [`SettingsSource`], [`config::merge`]).
//! - [`backoff`]: when to restart and when to give up ([`Restarts`]).
//! - [`supervise`](mod@supervise): the supervisor's loop ([`supervise()`], [`Policy`]).
//! - [`control`]: the subcommands ([`run`], [`Outcome`]); [`cli`]: the command line; [`error`]:
//!   [`Error`], and the exit code each error means.

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod backoff;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemonize;
pub mod error;
pub mod pidfile;
pub mod signals;
pub mod supervise;

pub use backoff::Restarts;
pub use config::{Config, Settings, SettingsSource};
pub use control::{Outcome, run};
pub use daemonize::{Daemonized, daemonize};
pub use error::Error;
pub use pidfile::PidFile;
pub use signals::Signals;
pub use supervise::{Policy, supervise};
