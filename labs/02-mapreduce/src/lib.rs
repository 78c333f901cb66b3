//! `mapreduce`: a small map/reduce engine, lab 02 of the course.
//!
//! A [`Job`] is a mapper (one input line → key/value pairs), an optional combiner and a reducer. The
//! engine cuts the inputs into [`Split`]s aligned to line boundaries, maps them on a pool of worker
//! threads or worker processes, shuffles the pairs into `R` partitions by key hash (spilling sorted
//! runs to disk when a partition outgrows its memory budget), then merges each partition's runs with a
//! heap and reduces every key. The output is sorted by key and the same for any number of workers,
//! any number of reducers and any worker failure.
//!
//! # Layout
//!
//! - [`split`]: byte-range input splits cut at line boundaries ([`plan_splits`], [`read_split`]).
//! - [`words`]: the tokenizer of the word count ([`text_words`]); [`access`]: nginx lines.
//! - [`job`]: the [`Job`] trait and the shipped jobs ([`JobSpec`]).
//! - [`map_task`]: running a mapper and combiner over one split ([`map_split`]).
//! - [`shuffle`]: partitioning, spills and the reducers' k-way merge ([`Shuffle`]).
//! - [`run_file`]: the on-disk format of a sorted run.
//! - [`engine`]: the whole job ([`run_job`], [`JobConfig`], [`Output`], [`Stats`]).
//! - [`codec`]: the length-prefixed frames workers and coordinator exchange ([`Message`]).
//! - [`process`]: the coordinator over worker processes ([`WorkerCommand`], [`Fault`]).
//! - [`worker`]: the worker side ([`serve_worker`]).
//! - [`error`]: what can go wrong ([`Error`]), and the exit code each error means.
//! - [`cli`], [`config`], [`run`](mod@run): the command: its arguments, the validated [`Config`] they
//!   become, and [`run()`], which runs the job and writes its output ([`Outcome`]).

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod access;
pub mod cli;
pub mod codec;
pub mod config;
pub mod engine;
pub mod error;
pub mod job;
pub mod map_task;
pub mod process;
pub mod run;
pub mod run_file;
pub mod shuffle;
pub mod split;
pub mod words;
pub mod worker;

pub use access::{AccessFields, parse_access};
pub use codec::{Message, decode, encode, read_frame, write_frame};
pub use config::Config;
pub use engine::{JobConfig, Mode, Output, Stats, run_job};
pub use error::Error;
pub use job::{InvertedIndex, Job, JobSpec, Record, StatusCount, TopUrls, WordCount, top_n};
pub use map_task::{MapOutput, map_split};
pub use process::{FAULT_ENV, Fault, ProcessOptions, WorkerCommand};
pub use run::{Outcome, run};
pub use shuffle::{Shuffle, partition_of};
pub use split::{Split, plan_splits, read_split};
pub use words::text_words;
pub use worker::serve_worker;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
