//! A seeded generator of nginx access logs in the `combined` format, with the ground truth of every
//! line.
//!
//! ```text
//! ADDR - USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "REQUEST" STATUS BYTES "REFERER" "UA"
//! ```
//!
//! The log is realistic where a parser can trip: Zipf-distributed URLs and clients, IPv4 and IPv6,
//! a day/night rate, bots, escapes inside quoted fields, non-UTF-8 bytes, CRLF endings, TLS junk
//! requests and a share of genuinely malformed lines. The exact rules are in `datasets/README.md`.
//!
//! # Layout
//!
//! - [`spec`](LogSpec): what to generate.
//! - [`generator`](LogGenerator): the stream of lines and [`write_log`].
//! - `entry`: [`LogLine`] and [`Entry`], the ground truth.
//! - `line`: rendering one line and recording where its fields are.
//! - `clock`: calendar arithmetic and the time format.
//! - `urls`, `clients`, `agents`, `traffic`: the populations and how requests are answered.
//! - `defects`: the ways a line is broken.

mod agents;
mod clients;
mod clock;
mod defects;
mod entry;
mod generator;
mod line;
mod spec;
mod traffic;
mod urls;

pub use entry::{Entry, LogLine};
pub use generator::{LogGenerator, write_log};
pub use spec::LogSpec;
