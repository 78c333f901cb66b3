//! The vocabulary of generated prose: common English first, then words with accents and other
//! scripts, then invented words to fill the requested size.
//!
//! Every word is a lowercase run of alphanumeric characters (`char::is_alphanumeric`), and each keeps
//! the capitalised and upper-case forms only when lowercasing them gives the word back (`Straße` may
//! start a sentence; `STRASSE` would lowercase to another word, so it is never written).

use std::collections::HashSet;

use crate::dice::Dice;

const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
    "as", "i", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "word",
    "but", "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your",
    "how", "said", "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many",
    "then", "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him",
    "two", "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
    "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been",
    "now", "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after",
    "back", "little", "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our",
    "under", "name", "very", "through", "just", "form", "sentence", "great", "think", "say", "help", "low",
    "line", "differ", "turn", "cause", "much", "mean", "before", "move", "right", "boy", "old", "too",
    "same", "tell", "does", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put",
    "home", "read", "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high",
    "such", "follow", "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house",
    "picture", "try", "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth",
    "father", "head", "stand", "own", "page", "should", "country", "found", "answer", "school", "grow",
    "study", "still", "learn", "plant", "cover", "food", "sun", "four", "between", "state", "keep", "eye",
    "never", "last", "let", "thought", "city", "tree", "cross", "farm", "hard", "start", "might", "story",
    "saw", "far", "sea", "draw", "left", "late", "run", "while", "press", "close", "night", "real", "life",
    "few", "north", "log", "server", "request", "rust", "thread", "memory",
];
/// Words a naive ASCII tokenizer or lowercaser gets wrong.
const WORLDLY: &[&str] = &[
    "caf\u{e9}",
    "na\u{ef}ve",
    "stra\u{df}e",
    "fa\u{e7}ade",
    "jalape\u{f1}o",
    "cr\u{e8}me",
    "br\u{fb}l\u{e9}e",
    "r\u{e9}sum\u{e9}",
    "\u{fc}ber",
    "sm\u{f6}rg\u{e5}sbord",
    "\u{142}\u{f3}d\u{17a}",
    "se\u{f1}or",
    "a\u{e7}a\u{ed}",
    "m\u{fc}nchen",
    "\u{e5}ngstr\u{f6}m",
    "co\u{f6}perate",
    "\u{3b5}\u{3bb}\u{3bb}\u{3b7}\u{3bd}\u{3b9}\u{3ba}\u{3ac}",
    "\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}",
    "\u{3b1}\u{3b8}\u{3ae}\u{3bd}\u{3b1}",
    "\u{43c}\u{43e}\u{441}\u{43a}\u{432}\u{430}",
    "\u{43f}\u{440}\u{438}\u{432}\u{435}\u{442}",
    "\u{4e2d}\u{6587}",
    "\u{65e5}\u{672c}\u{8a9e}",
    "\u{6771}\u{4eac}",
    "\u{d55c}\u{ad6d}\u{c5b4}",
    "\u{5e2}\u{5d1}\u{5e8}\u{5d9}\u{5ea}",
    "mp3",
    "h2o",
    "x86",
    "utf8",
    "ipv6",
    "covid19",
    "b2b",
    "4k",
];
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "cl",
    "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr", "ch", "qu", "",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou", "y", "io"];
const CODAS: &[&str] = &["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "x"];

/// One word with the written forms it may take.
#[derive(Clone, Debug)]
pub(crate) struct Word {
    /// The lowercase form, which is also its key in the counts.
    pub lower: String,
    /// `Word` with a capital, when that lowercases back to `lower`.
    pub title: Option<String>,
    /// `WORD`, when that lowercases back to `lower`.
    pub upper: Option<String>,
}

/// `n` distinct words, most frequent first.
pub(crate) fn vocabulary(n: usize, dice: &mut Dice) -> Vec<Word> {
    let mut seen = HashSet::with_capacity(n);
    let mut words = Vec::with_capacity(n);
    let mut worldly = WORLDLY.iter();
    while words.len() < n {
        let rank = words.len();
        let candidate = if rank < COMMON.len() {
            COMMON[rank].to_owned()
        } else {
            let special = if rank % 97 == 0 { worldly.next() } else { None };
            special.map_or_else(|| invent(dice), |w| (*w).to_owned())
        };
        if seen.insert(candidate.clone()) {
            words.push(word(candidate));
        }
    }
    words
}

fn invent(dice: &mut Dice) -> String {
    let syllables = dice.weighted(&[(3, 1), (6, 2), (4, 3), (1, 4)]);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(dice.pick(ONSETS));
        w.push_str(dice.pick(VOWELS));
        w.push_str(dice.pick(CODAS));
    }
    w
}

fn word(lower: String) -> Word {
    debug_assert!(lower.chars().all(char::is_alphanumeric) && lower.to_lowercase() == lower);
    let mut chars = lower.chars();
    let title = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect::<String>())
        .filter(|t| t.to_lowercase() == lower && t.chars().all(char::is_alphanumeric));
    let upper = Some(lower.to_uppercase())
        .filter(|u| u.to_lowercase() == lower && u.chars().all(char::is_alphanumeric));
    Word { lower, title, upper }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_lowercase_alphanumeric() {
        let words = vocabulary(30_000, &mut Dice::new(1, 1));
        let distinct: HashSet<_> = words.iter().map(|w| &w.lower).collect();
        assert_eq!(distinct.len(), 30_000);
        for w in &words {
            assert!(!w.lower.is_empty());
            assert!(w.lower.chars().all(char::is_alphanumeric));
            assert_eq!(w.lower.to_lowercase(), w.lower);
        }
        assert!(words.iter().any(|w| w.lower == "stra\u{df}e"));
    }

    #[test]
    fn forms_lowercase_back() {
        let s = word("stra\u{df}e".to_owned());
        assert_eq!(s.title.as_deref(), Some("Stra\u{df}e"));
        assert_eq!(s.upper, None);
        let g = word("\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}".to_owned());
        assert!(g.title.is_some());
        let h = word("\u{4e2d}\u{6587}".to_owned());
        assert_eq!(h.title.as_deref(), Some("\u{4e2d}\u{6587}"));
    }
}
