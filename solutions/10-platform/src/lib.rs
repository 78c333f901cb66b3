//! `platform`: one system for monitoring and control (lab 08's pipeline and lab 09's master behind
//! one API and dashboard, with users, roles and an audit log), its records in a SQL database, lab
//! 10 of the course.
//!
//! The records ([`records`]) are the platform's memory: hosts and their tags, users and roles,
//! alert rules, monitoring scripts and their versions, every command run with each host's result,
//! sessions and the audit log, in SQLite (embedded, the default) or MariaDB (by URL), through sqlx,
//! with versioned migrations. The time series are not among them: they stay in lab 08's store.
//! Every decision about who may do what is the [`platform::Platform`]'s, made on the server and
//! audited; the HTTP API ([`api`]) and the dashboard ([`dashboard`]) only take requests apart and
//! show answers. Commands go through lab 09's control master ([`commands`]), and every host's
//! result comes back to the records; metrics and alerts come from lab 08's pipeline, run in the
//! same process ([`monitoring`]), whose judge takes the rules the records keep.
//!
//! # Layout
//!
//! - [`records`]: the records in SQL ([`records::Records`]), their checks and the differences
//!   between the two dialects.
//! - [`auth`]: passwords, sessions and CSRF tokens, the limit on wrong passwords, what a role
//!   allows ([`auth::Grant`]).
//! - [`platform`]: the decisions ([`platform::Platform`]); [`commands`]: commands run through the
//!   control master and followed to the records ([`commands::Commands`]); [`alerting`]: alert
//!   rules and silences changed, and the recorded rules given to the judge.
//! - [`monitoring`]: lab 08's pipeline in the platform's process (relay, store, judge, alarm and
//!   console, [`monitoring::Monitoring`]).
//! - [`scripts`]: custom monitors, their manifest and the monitoring-script standard they are
//!   checked against before they are stored ([`scripts::check_package`]), their versions.
//! - [`api`]: the HTTP API ([`api::router`]); [`dashboard`]: the pages ([`dashboard::router`]);
//!   [`directory`]: what every request reads, kept for a second.
//! - [`availability`]: two servers, one leading and one standing by: the lease (a lock file or
//!   etcd), its fencing token, campaigning ([`availability::campaign`]).
//! - [`serve`]: the server in one process ([`serve::Server`]); [`host`]: a host in one process (lab
//!   09's agent, its scripts run as collectors, lab 08's sender; [`host::Host`]); [`demo`]: the
//!   whole platform with simulated hosts and one real one ([`demo::run_demo`]).
//! - the `platform` command: [`cli`] (its arguments), [`config`] (what to run, [`Config`]),
//!   [`run()`] (running it until a [`Shutdown`], [`Outcome`]), [`error`] ([`Error`]).

pub mod alerting;
pub mod api;
pub mod auth;
pub mod availability;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod directory;
pub mod error;
pub mod host;
pub mod monitoring;
pub mod platform;
pub mod records;
pub mod releases;
pub mod run;
pub mod scripts;
pub mod serve;
pub mod shutdown;

pub use config::Config;
pub use error::Error;
pub use run::{Outcome, run};
pub use shutdown::Shutdown;

/// Now, in milliseconds since the Unix epoch: the time the records keep.
pub fn now_millis() -> records::Millis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A result whose error is this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
