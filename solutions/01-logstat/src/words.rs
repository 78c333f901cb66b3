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
pub fn path_words(path: &[u8], mut word: impl FnMut(&[u8])) {
    // ANCHOR: path_words
    let mut lowered = Vec::new();
    for run in path.split(|byte| !byte.is_ascii_alphanumeric()).filter(|run| !run.is_empty()) {
        if run.iter().any(u8::is_ascii_uppercase) {
            lowered.clear();
            lowered.extend(run.iter().map(u8::to_ascii_lowercase));
            word(&lowered);
        } else {
            word(run);
        }
    }
    // ANCHOR_END: path_words
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
pub fn text_words(text: &str, mut word: impl FnMut(&str)) {
    // ANCHOR: text_words
    for run in text.split(|c: char| !c.is_alphanumeric()).filter(|run| !run.is_empty()) {
        if run.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            // str::to_lowercase, not char by char: a final capital sigma becomes ς, not σ.
            word(&run.to_lowercase());
        } else {
            word(run);
        }
    }
    // ANCHOR_END: text_words
}
