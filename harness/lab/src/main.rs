//! `cargo lab`: test, benchmark, grade and verify the course's labs.
//!
//! A lab is a folder `labs/NN-name/` holding a student crate and a `lab.toml` manifest; its reference
//! solution lives in `solutions/NN-name/` and compiles the very same test files. This binary reads the
//! manifests and runs the graded tests one process per test, so that a test which hangs, crashes or
//! eats memory costs that test only.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap derive); never passed past [`app`].
//! - [`app`]: dispatches a parsed command to its module in [`cmd`].
//! - [`cmd`]: one file per command (`status`, `test`, `watch`, `bench`, `grade`, `verify`, `run-many`, `list`,
//!   `clean`, `export`).
//! - [`manifest`], [`workspace`]: `lab.toml`, the workspace root and lab lookup.
//! - [`compile`], [`libtest`], [`runner`], [`suite`], [`test_order`]: the test engine shared by every
//!   command: build the test binaries, list their tests in their file's order, run each one
//!   sandboxed, in parallel.
//! - [`interrupt`]: Ctrl-C kills the test process groups before exiting.
//! - [`score`]: per-stage pass counts and points.
//! - [`cache`]: the per-lab results behind the instant status table.
//! - [`grading`], [`sync`], [`gradebook`], [`grade_json`]: grading a submission in a separate
//!   workspace, and the CSV, feedback, JSON and Gradescope outputs.
//! - [`parity`]: `verify`'s check that a lab and its reference are one API with two sets of bodies,
//!   and that the book's quotations resolve.
//! - [`criterion`]: reading criterion's `estimates.json`.
//! - [`report`], [`style`], [`output`]: human-readable output, colours, stdout that tolerates a closed
//!   pipe.
//! - [`error`]: the errors that name a bad input, and their exit codes.

mod app;
mod cache;
mod cgroup;
mod cli;
mod cmd;
mod compile;
mod criterion;
mod error;
mod grade_json;
mod gradebook;
mod grading;
mod interrupt;
mod libtest;
mod manifest;
mod output;
mod parity;
mod report;
mod runner;
mod sandbox;
mod score;
mod style;
mod suite;
mod sync;
mod test_order;
mod verdict;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_from(cli::args());
    match app::run(cli) {
        Ok(code) => code,
        Err(err) => error::report(&err),
    }
}
