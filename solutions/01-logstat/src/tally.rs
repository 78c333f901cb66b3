//! The analyses `logstat` runs over blocks of lines: each a [`Tally`] that `scan` can split across
//! threads and merge.

use std::collections::BTreeMap;

use crate::report::{SummaryReport, TopReport};
use crate::scan::Tally;
use crate::{Counter, Field, Timestamp, parse_line, path_words, text_words};

/// Calls `line` with each line of a block, without its `\n`. An empty segment after the block's
/// final newline is not a line; an empty line between two newlines is.
fn for_each_line(block: &[u8], mut line: impl FnMut(&[u8])) {
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', block) {
        line(&block[start..end]);
        start = end + 1;
    }
    if start < block.len() {
        line(&block[start..]);
    }
}

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
        for_each_line(block, |line| match parse_line(line) {
            Ok(record) => {
                self.valid += 1;
                if let Some(key) = record.key(self.field) {
                    self.counts.add(&key, 1);
                }
            }
            Err(_) => self.malformed += 1,
        });
    }

    fn merge(&mut self, other: TopTally) {
        self.counts.merge(other.counts);
        self.valid += other.valid;
        self.malformed += other.malformed;
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
        for_each_line(block, |line| match parse_line(line) {
            Ok(record) => {
                self.valid += 1;
                if let Some(path) = record.path() {
                    path_words(path, |word| self.counts.add(word, 1));
                }
            }
            Err(_) => self.malformed += 1,
        });
    }

    fn merge(&mut self, other: PathWordTally) {
        self.counts.merge(other.counts);
        self.valid += other.valid;
        self.malformed += other.malformed;
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
        text_words(&String::from_utf8_lossy(block), |word| self.counts.add(word.as_bytes(), 1));
    }

    fn merge(&mut self, other: TextWordTally) {
        self.counts.merge(other.counts);
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
        for_each_line(block, |line| match parse_line(line) {
            Ok(record) => {
                self.valid += 1;
                self.bytes = self.bytes.saturating_add(record.bytes);
                self.clients.add(record.addr, 1);
                self.first = Some(self.first.map_or(record.time, |t| t.min(record.time)));
                self.last = Some(self.last.map_or(record.time, |t| t.max(record.time)));
                let class = usize::from(record.status / 100);
                self.classes[if (1..=5).contains(&class) { class } else { 0 }] += 1;
            }
            Err(_) => self.malformed += 1,
        });
    }

    fn merge(&mut self, other: SummaryTally) {
        self.valid += other.valid;
        self.malformed += other.malformed;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.clients.merge(other.clients);
        self.first = [self.first, other.first].into_iter().flatten().min();
        self.last = [self.last, other.last].into_iter().flatten().max();
        for (mine, theirs) in self.classes.iter_mut().zip(other.classes) {
            *mine += theirs;
        }
    }
}
