//! One map task: read a split, map every line, combine each key's values, and cut the pairs into
//! one sorted run per reducer. Threads and worker processes both run this.

use std::collections::HashMap;
use std::fs::File;

use serde::{Deserialize, Serialize};

use crate::job::{Job, Record};
use crate::shuffle::partition_of;
use crate::split::{Split, read_split};
use crate::{Error, Result};

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
// ANCHOR: map_split
pub fn map_split(job: &dyn Job, split: &Split, reducers: usize) -> Result<MapOutput> {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = File::open(&split.path)?;
        read_split(&mut file, split.start, split.end)
    };
    let data = read().map_err(Error::file(&split.path))?;
    let mut table: HashMap<String, Vec<u64>> = HashMap::new();
    let mut output = MapOutput { runs: vec![Vec::new(); reducers], ..MapOutput::default() };
    for line in data.split_inclusive(|&b| b == b'\n') {
        output.records += 1;
        job.map(Record { file: split.file, line }, &mut |key, value| {
            output.emitted += 1;
            // Look up by the borrowed key: a key is copied only the first time it is seen.
            let values = match table.get_mut(key) {
                Some(values) => values,
                None => table.entry(key.to_owned()).or_default(),
            };
            values.push(value);
            if values.len() >= COMBINE_AT {
                job.combine(key, values);
            }
        });
    }
    for (key, mut values) in table {
        job.combine(&key, &mut values);
        let run = &mut output.runs[partition_of(&key, reducers)];
        for value in values {
            run.push((key.clone(), value));
        }
    }
    for run in &mut output.runs {
        run.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(output)
}
// ANCHOR_END: map_split
