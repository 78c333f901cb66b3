//! The job API: a [`Job`] maps records to key/value pairs, may combine a key's values early, and
//! reduces each key's values to one output value. The shipped jobs are here too.
//!
//! Keys are strings and values are `u64`s: counts, or numbers that stand for something the reducer
//! knows (the inverted index sends file numbers). A small fixed value type keeps the shuffle, the
//! spill files and the worker protocol simple.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::access::parse_access;
use crate::words::text_words;

/// One input record: a line and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The input's position in the job's input list.
    pub file: usize,
    /// The line, with its `\n` when it has one.
    pub line: &'a [u8],
}

/// A map/reduce job. `Send + Sync`: one job value is shared by every worker thread.
///
/// A reducer must not depend on the order of the values it is given: they arrive in an order that
/// depends on the number of workers and on scheduling. Counting, summing, sets: all fine.
pub trait Job: Send + Sync {
    /// Calls `emit` with each key/value pair of one record.
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64));

    /// Shrinks one key's values before they leave the map task (a sum for counts). The default keeps
    /// them all. It must not change what [`Job::reduce`] gives.
    fn combine(&self, key: &str, values: &mut Vec<u64>) {
        let _ = (key, values);
    }

    /// The output value of `key`, from all its values.
    fn reduce(&self, key: &str, values: &[u64]) -> String;

    /// How to rebuild this job in a worker process; `None` (the default) keeps it in threads mode.
    fn spec(&self) -> Option<JobSpec> {
        None
    }
}

/// The shipped jobs, by name: what a worker process needs to rebuild one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobSpec {
    /// [`WordCount`].
    WordCount,
    /// [`TopUrls`].
    TopUrls,
    /// [`StatusCount`].
    Status,
    /// [`InvertedIndex`].
    Index,
}

impl JobSpec {
    /// The job, for a job over `inputs` (only the inverted index's reducer needs their names).
    pub fn job(self, inputs: &[PathBuf]) -> Box<dyn Job> {
        match self {
            JobSpec::WordCount => Box::new(WordCount),
            JobSpec::TopUrls => Box::new(TopUrls),
            JobSpec::Status => Box::new(StatusCount),
            JobSpec::Index => Box::new(InvertedIndex::new(inputs.to_vec())),
        }
    }
}

/// Word count over text: word → number of occurrences. Words as [`text_words`] finds them.
#[derive(Clone, Copy, Debug, Default)]
pub struct WordCount;

/// Requests per URL over nginx logs: request target → count. Malformed lines are skipped.
#[derive(Clone, Copy, Debug, Default)]
pub struct TopUrls;

/// Requests per status over nginx logs: status code → count. Malformed lines are skipped.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatusCount;

/// An inverted index over text: word → the sorted, comma-separated names of the files it is in.
#[derive(Clone, Debug, Default)]
pub struct InvertedIndex {
    inputs: Vec<PathBuf>,
}

impl InvertedIndex {
    /// The index of a job over `inputs`, in the order the splits number them.
    pub fn new(inputs: Vec<PathBuf>) -> Self {
        Self { inputs }
    }
}

// TODO(stage 1): the counting jobs all combine and reduce alike (a sum): one small private helper
// that replaces a key's values by their sum serves every combiner. TODO(stage 4): InvertedIndex
// emits the record's file number, drops repeats in combine, and names the files in reduce.

impl Job for WordCount {
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        todo!("stage 1: the pairs of one record for WordCount")
    }
    fn combine(&self, _key: &str, values: &mut Vec<u64>) {
        todo!("stage 1: shrink one key's values for WordCount")
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        todo!("stage 1: the output value of one key for WordCount")
    }
    fn spec(&self) -> Option<JobSpec> {
        Some(JobSpec::WordCount)
    }
}

impl Job for TopUrls {
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        todo!("stage 4: the pairs of one record for TopUrls")
    }
    fn combine(&self, _key: &str, values: &mut Vec<u64>) {
        todo!("stage 4: shrink one key's values for TopUrls")
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        todo!("stage 4: the output value of one key for TopUrls")
    }
    fn spec(&self) -> Option<JobSpec> {
        Some(JobSpec::TopUrls)
    }
}

impl Job for StatusCount {
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        todo!("stage 4: the pairs of one record for StatusCount")
    }
    fn combine(&self, _key: &str, values: &mut Vec<u64>) {
        todo!("stage 4: shrink one key's values for StatusCount")
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        todo!("stage 4: the output value of one key for StatusCount")
    }
    fn spec(&self) -> Option<JobSpec> {
        Some(JobSpec::Status)
    }
}

impl Job for InvertedIndex {
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        todo!("stage 4: the pairs of one record for InvertedIndex")
    }
    fn combine(&self, _key: &str, values: &mut Vec<u64>) {
        todo!("stage 4: shrink one key's values for InvertedIndex")
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        todo!("stage 4: the output value of one key for InvertedIndex")
    }
    fn spec(&self) -> Option<JobSpec> {
        Some(JobSpec::Index)
    }
}

/// The `n` pairs with the largest numeric values, largest first, ties by key ascending (for the
/// `top-urls` report over a job's output).
pub fn top_n(pairs: &[(String, String)], n: usize) -> Vec<(String, u64)> {
    todo!("stage 4: rank by count descending, then key ascending, keep n")
}
