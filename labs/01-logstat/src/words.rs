//! Splitting text into words: the course's first homework, a word-frequency count.

/// Calls `word` with each word of a request path, lowercased: a maximal run of ASCII letters and
/// digits. Everything else (`/`, `.`, `-`, `%`, bytes above 127) separates words.
///
/// # Examples
///
/// ```
/// let mut words = Vec::new();
/// logstat::path_words(b"/Static/js/app.min.JS", |w| words.push(String::from_utf8(w.to_vec()).unwrap()));
/// assert_eq!(words, ["static", "js", "app", "min", "js"]);
/// ```
pub fn path_words(path: &[u8], word: impl FnMut(&[u8])) {
    todo!("stage 3: lowercase maximal runs of ASCII letters and digits")
}

/// Calls `word` with each word of a text, lowercased: a maximal run of Unicode letters and digits
/// (`char::is_alphanumeric`), lowercased with `str::to_lowercase`.
///
/// # Examples
///
/// ```
/// let mut words = Vec::new();
/// logstat::text_words("Straße, STRASSE and straße!", |w| words.push(w.to_owned()));
/// assert_eq!(words, ["straße", "strasse", "and", "straße"]);
/// ```
pub fn text_words(text: &str, word: impl FnMut(&str)) {
    todo!("stage 3: maximal runs of alphanumeric chars, lowercased with str::to_lowercase")
}
