//! `logstat`: an nginx access-log analyser, lab 01 of the course.
//!
//! It answers the questions an operator asks of a web server's log, on files of any size: which
//! addresses, URLs, paths, statuses, methods, user agents or referers are most frequent ([`Command::Top`]);
//! which words appear in request paths or in any text ([`Command::Words`], the course's first homework);
//! which lines fall in a time range of a sorted log, found by binary search ([`Command::Range`]); and
//! what is being written right now, across log rotation ([`Command::Follow`]).
//!
//! # Layout
//!
//! - [`timestamp`]: nginx's `$time_local` ([`Timestamp`]).
//! - [`record`]: one parsed line ([`LogRecord`]) and the fields to group by ([`Field`]).
//! - [`parse`]: the hand-written byte parser ([`parse_line`]) and its errors ([`ParseError`]);
//!   [`regex_parse`]: the same format as a regular expression ([`parse_line_regex`]).
//! - [`top`]: counting keys and picking the top N with a heap ([`Counter`]).
//! - [`words`]: splitting paths and text into words ([`path_words`], [`text_words`]).
//! - [`range`]: binary search for a time range with seeks ([`find_range`]).
//! - [`follow`]: reading new lines across rotation ([`Follower`]).
//! - [`scan`]: streaming inputs in blocks through per-thread tallies; [`tally`]: the tallies.
//! - [`cli`]: the command line ([`cli::Cli`]); [`config`]: what to run ([`Config`]), validated from
//!   it; [`run()`]: running it; [`report`]: writing results.
//! - [`error`]: what can go wrong ([`Error`]).

pub mod cli;
pub mod config;
pub mod error;
pub mod follow;
pub mod parse;
pub mod range;
pub mod record;
pub mod regex_parse;
pub mod report;
pub mod run;
pub mod scan;
pub mod tally;
pub mod timestamp;
pub mod top;
pub mod words;

pub use config::{Command, Config, Input};
pub use error::Error;
pub use follow::{Follower, StartAt};
pub use parse::{ParseError, parse_line};
pub use range::find_range;
pub use record::{Field, LogRecord, RequestParts};
pub use regex_parse::parse_line_regex;
pub use report::{SummaryReport, TopReport};
pub use run::{Outcome, run};
pub use timestamp::Timestamp;
pub use top::Counter;
pub use words::{path_words, text_words};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
