//! A seeded generator of prose for word counting, with the true count of every word.
//!
//! A word is a maximal run of characters for which `char::is_alphanumeric` holds, lowercased with
//! `str::to_lowercase`; bytes that are not UTF-8 separate words. The text mixes case, punctuation,
//! digits, contractions, hyphens, CRLF paragraphs and words in other scripts (`café`, `Straße`,
//! `中文`, `ελληνικά`), and now and then a `0xFF` byte between two words.
//!
//! # Layout
//!
//! - `vocabulary`: the words and the forms each may be written in.
//! - `prose`: sentences and paragraphs, counted as they are written.

mod prose;
mod vocabulary;

use std::collections::HashMap;
use std::io::{self, Write};

use crate::dice::Dice;

/// The shape of a generated text. Equal specs give identical bytes.
#[derive(Clone, Debug)]
pub struct TextSpec {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of distinct vocabulary words, drawn Zipf-distributed (default 30,000). Numbers and
    /// contraction endings come on top.
    pub vocabulary: usize,
}

impl Default for TextSpec {
    fn default() -> Self {
        Self { seed: 0, vocabulary: 30_000 }
    }
}

/// Writes whole paragraphs of prose until at least `target_bytes` are written, and returns the true
/// count of every word in them, keyed by its lowercase form.
///
/// A smaller target gives a prefix of a larger one.
///
/// # Errors
///
/// Whatever `out` returns when written to.
///
/// # Panics
///
/// When `spec.vocabulary` is 0.
///
/// # Examples
///
/// ```
/// use datasets::text::{write_text, TextSpec};
///
/// let mut out = Vec::new();
/// let counts = write_text(&TextSpec { seed: 3, vocabulary: 500 }, 10_000, &mut out).unwrap();
/// assert!(out.len() >= 10_000);
/// assert!(counts["the"] > 0);
/// ```
pub fn write_text(
    spec: &TextSpec,
    target_bytes: u64,
    out: &mut impl Write,
) -> io::Result<HashMap<String, u64>> {
    assert!(spec.vocabulary > 0, "TextSpec::vocabulary must be at least 1");
    let words = vocabulary::vocabulary(spec.vocabulary, &mut Dice::new(spec.seed, 11));
    let mut prose = prose::Prose::new(&words, Dice::new(spec.seed, 12));
    crate::write_until(target_bytes, out, |buf| prose.paragraph(buf))?;
    Ok(prose.into_counts())
}
