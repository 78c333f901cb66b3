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
pub fn text_words(text: &[u8], mut word: impl FnMut(&str)) {
    let text = String::from_utf8_lossy(text);
    let mut lower = String::new();
    for run in text.split(|c: char| !c.is_alphanumeric()).filter(|run| !run.is_empty()) {
        if run.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            word(run);
        } else {
            lower.clear();
            lower.push_str(&run.to_lowercase());
            word(&lower);
        }
    }
}
