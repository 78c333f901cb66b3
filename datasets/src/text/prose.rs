//! Writing prose from the vocabulary while keeping the true count of every word.
//!
//! Words are joined only by separators that hold no alphanumeric character (spaces, punctuation,
//! apostrophes, hyphens, line breaks, now and then a byte that is not UTF-8), so the words a reader
//! finds are exactly the ones written, and each is counted as it is written.

use std::collections::HashMap;

use super::vocabulary::Word;
use crate::dice::Dice;
use crate::zipf::Zipf;

/// What follows a contraction's apostrophe; each is a word of its own to a reader.
const SUFFIXES: &[&str] = &["s", "t", "re", "ll", "ve", "d", "m"];
const LINE_WIDTH: usize = 72;

/// Writes paragraphs into a buffer and counts their words.
pub(crate) struct Prose<'a> {
    words: &'a [Word],
    ranks: Zipf,
    dice: Dice,
    counts: Vec<u64>,
    others: HashMap<String, u64>,
    column: usize,
    crlf: bool,
}

impl<'a> Prose<'a> {
    pub(crate) fn new(words: &'a [Word], dice: Dice) -> Self {
        Self {
            ranks: Zipf::new(words.len(), 1.0),
            words,
            dice,
            counts: vec![0; words.len()],
            others: HashMap::new(),
            column: 0,
            crlf: false,
        }
    }

    /// Appends one paragraph, ended by a blank line, to `out`.
    pub(crate) fn paragraph(&mut self, out: &mut Vec<u8>) {
        self.crlf = self.dice.chance(0.1);
        self.column = 0;
        let sentences = self.dice.between(1, 7);
        for s in 0..sentences {
            if s > 0 {
                self.space(out);
            }
            self.sentence(out);
        }
        let end: &[u8] = if self.crlf { b"\r\n\r\n" } else { b"\n\n" };
        out.extend_from_slice(end);
    }

    /// The true counts of everything written so far.
    pub(crate) fn into_counts(self) -> HashMap<String, u64> {
        let mut counts = self.others;
        for (word, &n) in self.words.iter().zip(&self.counts) {
            if n > 0 {
                *counts.entry(word.lower.clone()).or_insert(0) += n;
            }
        }
        counts
    }

    fn sentence(&mut self, out: &mut Vec<u8>) {
        let quoted = self.dice.chance(0.05);
        if quoted {
            out.extend_from_slice("\u{201c}".as_bytes());
        }
        let tokens = self.dice.between(4, 24);
        for t in 0..tokens {
            if t > 0 {
                self.separator(out);
            }
            self.token(out, t == 0);
        }
        let end = self.dice.weighted(&[(80, "."), (10, "?"), (5, "!"), (3, "\u{2026}"), (2, "...")]);
        out.extend_from_slice(end.as_bytes());
        if quoted {
            out.extend_from_slice("\u{201d}".as_bytes());
        }
    }

    fn token(&mut self, out: &mut Vec<u8>, first: bool) {
        match self.dice.below(100) {
            0..3 => self.number(out),
            3..6 => {
                self.word(out, first);
                out.push(b'\'');
                let suffix = self.dice.pick(SUFFIXES);
                self.other(out, suffix);
            }
            6..9 => {
                self.word(out, first);
                out.push(b'-');
                self.word(out, false);
            }
            9..11 => {
                out.push(b'(');
                self.word(out, false);
                out.push(b')');
            }
            _ => self.word(out, first),
        }
    }

    fn word(&mut self, out: &mut Vec<u8>, first: bool) {
        let rank = self.ranks.sample(&mut self.dice);
        let word = &self.words[rank];
        let written = match (first || self.dice.chance(0.02), self.dice.chance(0.01)) {
            (_, true) if word.upper.is_some() => word.upper.as_deref(),
            (true, _) => word.title.as_deref(),
            _ => None,
        }
        .unwrap_or(&word.lower);
        out.extend_from_slice(written.as_bytes());
        self.column += written.len();
        self.counts[rank] += 1;
    }

    fn number(&mut self, out: &mut Vec<u8>) {
        let mut buf = String::new();
        match self.dice.below(5) {
            0 => {
                let n = self.dice.between(1_900, 2_030).to_string();
                self.other(out, &n);
            }
            1 => {
                buf.push_str(&self.dice.between(0, 99).to_string());
                self.other(out, &buf);
                out.push(b'.');
                buf.clear();
                buf.push_str(&self.dice.between(0, 99).to_string());
                self.other(out, &buf);
            }
            2 => {
                let n = format!("{}{}", self.dice.between(1, 30), self.dice.pick(&["st", "nd", "rd", "th"]));
                self.other(out, &n);
            }
            3 => {
                let n = self.dice.between(0, 100).to_string();
                self.other(out, &n);
                out.push(b'%');
            }
            _ => {
                let n = self.dice.between(1, 20).to_string();
                self.other(out, &n);
            }
        }
    }

    /// Writes and counts a word that is not in the vocabulary.
    fn other(&mut self, out: &mut Vec<u8>, word: &str) {
        out.extend_from_slice(word.as_bytes());
        self.column += word.len();
        match self.others.get_mut(word) {
            Some(n) => *n += 1,
            None => {
                self.others.insert(word.to_owned(), 1);
            }
        }
    }

    fn separator(&mut self, out: &mut Vec<u8>) {
        match self.dice.below(1000) {
            0..80 => out.push(b','),
            80..90 => out.push(b';'),
            90..96 => out.push(b':'),
            96..106 => out.extend_from_slice(" \u{2014}".as_bytes()),
            // A byte that is never UTF-8: readers must treat it as a separator.
            106..107 => {
                out.push(0xff);
                return;
            }
            107..110 => out.push(b'\t'),
            _ => {}
        }
        self.space(out);
    }

    fn space(&mut self, out: &mut Vec<u8>) {
        if self.column >= LINE_WIDTH {
            out.extend_from_slice(if self.crlf { b"\r\n" } else { b"\n" });
            self.column = 0;
        } else {
            out.push(b' ');
            self.column += 1;
        }
    }
}
