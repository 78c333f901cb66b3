//! One map task: read a split, map every line, combine each key's values, and cut the pairs into
//! one sorted run per reducer. Threads and worker processes both run this.

use std::collections::HashMap;
use std::fs::File;

use serde::{Deserialize, Serialize};

use crate::job::{Job, Record};
use crate::shuffle::partition_of;
use crate::split::{Split, read_split};
use crate::{Error, Result};

// TODO(stage 1): count into a HashMap<String, Vec<u64>>: look a key up with get_mut(&str) first so
// it is copied only the first time, and combine a key's values once COMBINE_AT of them pile up.
// At the end, combine every key once more and push its pairs into the run of its partition.

/// Combine a key's values once this many have piled up: bounds a map task's memory by its
/// distinct keys rather than by its records.
const COMBINE_AT: usize = 64;

/// What one map task produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapOutput {
    /// One run per reducer, each sorted by key (equal keys adjacent).
    pub runs: Vec<Vec<(String, u64)>>,
    /// Lines read.
    pub records: u64,
    /// Pairs the mapper emitted, before combining.
    pub emitted: u64,
}

/// Runs `job`'s mapper and combiner over `split`, for `reducers` reducers.
///
/// # Errors
///
/// [`Error::File`] when the split's file cannot be read.
pub fn map_split(job: &dyn Job, split: &Split, reducers: usize) -> Result<MapOutput> {
    todo!("stage 1: read the split, map each line, combine each key, cut into sorted runs by partition_of")
}
