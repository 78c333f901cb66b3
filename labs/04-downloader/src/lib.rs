//! `downloader`: a multithreaded HTTP downloader, lab 04 of the course.
//!
//! It fetches one file over several connections at once, each asking for different byte ranges,
//! and writes every piece at its place in one file. It survives a flaky server (retries with
//! backoff, stalled connections detected and their work taken up again), refuses to splice together
//! two versions of a file, and can be killed at any moment and continued later without fetching
//! again what it had saved.
//!
//! # Layout
//!
//! - [`url`]: the `http://` URLs it accepts ([`Url`]); [`http`]: a small blocking HTTP/1.1 client
//!   ([`http::Connection`]). Both are given: lab 03 is where HTTP is built.
//! - [`content_range`]: the `Content-Range` header ([`ContentRange`]).
//! - [`probe`](mod@probe): what the server says about the file ([`probe()`], [`Remote`], [`Validator`]).
//! - [`size`]: sizes like `4M` ([`parse_size`]); [`plan`](mod@plan): splitting a file into chunks
//!   ([`plan()`], [`Chunk`]).
//! - [`worker`]: a worker thread fetching chunks over its connection; [`retry`]: backoff between
//!   attempts; [`progress`]: the shared byte counter and the bar ([`Progress`]).
//! - [`state`]: the resumable state file ([`State`]).
//! - [`download`](mod@download): one download from probe to rename ([`download()`], [`Outcome`]).
//! - [`cli`], [`config`]: the arguments, and the validated [`Config`] they become: what to
//!   download and how; [`run`](mod@run): the command ([`run()`]); [`error`]: what can go wrong
//!   ([`Error`]), and the exit code each error means.

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod cli;
pub mod config;
pub mod content_range;
pub mod download;
pub mod error;
pub mod http;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod retry;
pub mod run;
pub mod size;
pub mod state;
pub mod url;
pub mod worker;

pub use config::{Config, DEFAULT_CHUNK_SIZE, part_path, state_path};
pub use content_range::ContentRange;
pub use download::{Outcome, download};
pub use error::Error;
pub use plan::{Chunk, plan};
pub use probe::{Remote, Validator, probe};
pub use progress::Progress;
pub use run::run;
pub use size::{SizeError, parse_size};
pub use state::{State, StateError};
pub use url::{Url, UrlError};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
