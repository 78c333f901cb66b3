//! Splitting text into words, as lab 01's `words --text` does.

/// Calls `word` with each word of `text`, lowercased: a maximal run of Unicode letters and digits
/// (`char::is_alphanumeric`), lowercased with `str::to_lowercase`. Bytes that are not UTF-8
/// separate words.
///
/// # Examples
///
/// ```
/// let mut words = Vec::new();
/// mapreduce::text_words(b"Stra\xc3\x9fe, STRASSE\xffand!", |w| words.push(w.to_owned()));
/// assert_eq!(words, ["straße", "strasse", "and"]);
/// ```
pub fn text_words(text: &[u8], word: impl FnMut(&str)) {
    todo!("stage 1: maximal runs of alphanumeric chars, lowercased with str::to_lowercase")
}
