//! The analyses `logstat` runs over blocks of lines: each a [`Tally`] that `scan` can split across
//! threads and merge.

use std::collections::BTreeMap;

use crate::report::{SummaryReport, TopReport};
use crate::scan::Tally;
use crate::{Counter, Field, Timestamp};

/// Counts the values of one field over the valid lines.
#[derive(Debug)]
pub struct TopTally {
    field: Field,
    counts: Counter,
    valid: u64,
    malformed: u64,
}

impl TopTally {
    /// An empty tally for `field`.
    pub fn new(field: Field) -> TopTally {
        TopTally { field, counts: Counter::new(), valid: 0, malformed: 0 }
    }

    /// The `n` most frequent values.
    pub fn report(&self, n: usize) -> TopReport {
        TopReport {
            field: self.field.name().to_owned(),
            total: self.valid,
            malformed: self.malformed,
            top: self.counts.top(n),
        }
    }
}

impl Tally for TopTally {
    fn add_block(&mut self, block: &[u8]) {
        todo!("stage 2: split the block into lines, parse each, count it")
    }

    fn merge(&mut self, other: TopTally) {
        todo!("stage 2: add the other tally into this one")
    }
}

/// Counts the words of the request paths of the valid lines.
#[derive(Debug, Default)]
pub struct PathWordTally {
    counts: Counter,
    valid: u64,
    malformed: u64,
}

impl PathWordTally {
    /// The `n` most frequent words.
    pub fn report(&self, n: usize) -> TopReport {
        TopReport {
            field: "word".to_owned(),
            total: self.valid,
            malformed: self.malformed,
            top: self.counts.top(n),
        }
    }
}

impl Tally for PathWordTally {
    fn add_block(&mut self, block: &[u8]) {
        todo!("stage 3: split the block into lines, parse each, count the words of its path")
    }

    fn merge(&mut self, other: PathWordTally) {
        todo!("stage 3: add the other tally into this one")
    }
}

/// Counts the words of plain text; bytes that are not UTF-8 separate words.
#[derive(Debug, Default)]
pub struct TextWordTally {
    counts: Counter,
}

impl TextWordTally {
    /// The `n` most frequent words; `total` is the number of words counted.
    pub fn report(&self, n: usize) -> TopReport {
        TopReport {
            field: "word".to_owned(),
            total: self.counts.total(),
            malformed: 0,
            top: self.counts.top(n),
        }
    }
}

impl Tally for TextWordTally {
    fn add_block(&mut self, block: &[u8]) {
        todo!("stage 3: count the words of the block's text; bytes that are not UTF-8 separate words")
    }

    fn merge(&mut self, other: TextWordTally) {
        todo!("stage 3: add the other tally into this one")
    }
}

/// Totals over the valid lines.
#[derive(Debug, Default)]
pub struct SummaryTally {
    valid: u64,
    malformed: u64,
    bytes: u64,
    clients: Counter,
    // Ties between equal instants written in different zones break by zone (Timestamp's Ord),
    // so the answer does not depend on which thread saw which line.
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// Lines per status class: index 1–5 for 1xx–5xx, 0 for anything else.
    classes: [u64; 6],
}

impl SummaryTally {
    /// The totals as a report.
    pub fn report(&self) -> SummaryReport {
        let names = ["other", "1xx", "2xx", "3xx", "4xx", "5xx"];
        let status_classes: BTreeMap<String, u64> =
            names.iter().zip(self.classes).map(|(name, count)| (name.to_string(), count)).collect();
        SummaryReport {
            total: self.valid,
            malformed: self.malformed,
            bytes: self.bytes,
            distinct_ips: self.clients.len() as u64,
            first: self.first.map(|t| t.to_string()),
            last: self.last.map(|t| t.to_string()),
            status_classes,
        }
    }
}

impl Tally for SummaryTally {
    fn add_block(&mut self, block: &[u8]) {
        todo!("stage 2: split the block into lines, parse each, count it")
    }

    fn merge(&mut self, other: SummaryTally) {
        todo!("stage 2: add the other tally into this one")
    }
}
