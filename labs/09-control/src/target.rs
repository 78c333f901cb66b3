//! Target expressions: which agents a command is for, as an operator writes it, Salt-style:
//! `web* and tag:dc=bj and not web3`.
//!
//! ```text
//! expr  = and { "or" and }
//! and   = unary { "and" unary }
//! unary = "not" unary | "(" expr ")" | list
//! list  = term { "," term }
//! term  = "tag:" key "=" glob | glob
//! key   = name-char { name-char }
//! glob  = ( name-char | "*" | "?" | class ) { name-char | "*" | "?" | class }
//! class = "[" [ "!" ] item { item } "]"
//! item  = name-char [ "-" name-char ]
//! ```
//!
//! A name-char is an ASCII letter, a digit, `.`, `_` or `-`: the characters of an agent's id. `not`
//! binds tighter than `and`, and `and` than `or`; a list binds tighter than all three, and matches
//! an agent any of its terms match. A glob matches a whole id (or tag value): `*` any run of
//! characters, `?` one, `[a-c]` one of a class and `[!a-c]` one outside it (a `-` first or last in
//! a class is itself); `*` alone matches every agent. `and`, `or` and `not` are keywords, and
//! keywords only, as whole words between spaces, parentheses, commas or the ends: `android*` is a
//! glob, and the agent called `not` is written `[n]ot`. Spaces may stand around keywords,
//! parentheses and commas, never inside a term.
//!
//! An error's column is where the text stops making sense: the word that cannot stand where it
//! is, or inside a term, the first character that cannot.
//!
//! The operator signs the text, not a parsed tree: the master parses it to choose the agents, and
//! every agent parses it again to check that it is one of them. So the grammar is small and exact,
//! and parsing never panics, whatever the text.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How deeply `not` and parentheses may nest: the parser recurses on them, and an agent must not
/// overflow its stack on an expression.
pub const MAX_DEPTH: usize = 32;

/// The longest expression, in characters: no operator needs more, and it bounds the work a parse
/// and a match can take.
pub const MAX_LEN: usize = 4096;

/// A parsed target expression.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use control::target::Target;
///
/// let target = Target::parse("web* and tag:dc=bj and not web3").unwrap();
/// let bj: BTreeMap<String, String> = [("dc".to_owned(), "bj".to_owned())].into();
/// assert!(target.matches("web1", &bj));
/// assert!(!target.matches("web3", &bj));
/// assert!(!target.matches("web1", &BTreeMap::new()));
/// assert_eq!(target.to_string(), "web* and tag:dc=bj and not web3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Agents whose id matches the glob.
    Id(Glob),
    /// Agents with tag `key` whose value matches the glob.
    Tag {
        /// The tag's name.
        key: String,
        /// What its value must match.
        value: Glob,
    },
    /// Agents any of these match (`a,b,c`): at least two.
    List(Vec<Target>),
    /// Agents the inner expression does not match.
    Not(Box<Target>),
    /// Agents both match.
    And(Box<Target>, Box<Target>),
    /// Agents either matches.
    Or(Box<Target>, Box<Target>),
}

impl Target {
    /// Reads `text` as a target expression.
    ///
    /// # Errors
    ///
    /// A [`TargetError`] naming the column where the text stops making sense, what was expected
    /// there and what was found; also for text longer than [`MAX_LEN`] or nested deeper than
    /// [`MAX_DEPTH`].
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        todo!(
            "stage 3: over MAX_LEN characters is an error at column MAX_LEN + 1; then a Cursor: expr at depth 0, then nothing but spaces"
        )
    }

    /// Whether the agent `id`, with `tags`, is one this expression names. An agent without the
    /// tag a [`Target::Tag`] asks for is not matched by it.
    pub fn matches(&self, id: &str, tags: &BTreeMap<String, String>) -> bool {
        todo!("stage 3: by variant: the id's glob, a tag present and matching, any of a list, not, and, or")
    }

    /// How tightly the expression binds, for writing it: parentheses go around an operand that
    /// binds less tightly than its place needs.
    fn binding(&self) -> u8 {
        todo!("stage 3: or 0, and 1, not 2, a list 3, an id or a tag 4")
    }
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(text: &str) -> Result<Target, TargetError> {
        todo!("stage 3: Target::parse")
    }
}

/// The canonical text: it parses back to an equal target, for every target [`Target::parse`]
/// makes. (A list of fewer than two terms or of other than terms, and an id glob that is a keyword,
/// have no text: write `[n]ot` for the agent called `not`.)
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!(
            "stage 3: terms as written, tag:key=value, a list with commas; not, and, or with their operands in parentheses only where the parser would read them otherwise"
        )
    }
}

/// Writes `target` where an expression binding at least `binding` may stand, in parentheses if it
/// binds less tightly.
fn operand(f: &mut fmt::Formatter<'_>, target: &Target, binding: u8) -> fmt::Result {
    todo!("stage 3: the target, in parentheses when its binding is below the one asked for")
}

/// A shell-style pattern over ids and tag values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The pattern as written: what it displays as.
    pattern: String,
    /// The pattern compiled: a piece for each character it matches, a run of `*` made one.
    pieces: Vec<Piece>,
}

/// One part of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// This character.
    Char(char),
    /// Any one character (`?`).
    One,
    /// Any run of characters, also none (`*`).
    Star,
    /// One character in (or, negated, outside) the inclusive ranges.
    Class {
        /// Whether the class is `[!…]`.
        negated: bool,
        /// Its characters, a single one as a range of one.
        ranges: Vec<(char, char)>,
    },
}

impl Piece {
    /// Whether this piece, other than a star, matches the character `c`.
    fn accepts(&self, c: char) -> bool {
        todo!(
            "stage 3: the same character; any for ?; never for *; in a class's ranges, or outside them when negated"
        )
    }
}

impl Glob {
    /// Compiles `pattern`.
    ///
    /// # Errors
    ///
    /// A [`TargetError`] naming the column (in `pattern`) when it is empty, has a character no id
    /// has, or a class that is empty, backwards or never closed.
    pub fn new(pattern: &str) -> Result<Glob, TargetError> {
        todo!("stage 3: a Cursor over the pattern: a glob, then the end")
    }

    /// Whether `text`, all of it, matches the pattern.
    pub fn matches(&self, text: &str) -> bool {
        todo!(
            "stage 3: two cursors; on a mismatch go back to the last star and let it take one more character: never recursion, never exponential"
        )
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        todo!("stage 3: the pattern")
    }
}

/// The pattern as written.
impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 3: the pattern as written")
    }
}

/// Why an expression does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// The column (1 for the first character, counted in characters) where the problem is.
    pub column: usize,
    /// What was expected there, and what was found.
    pub message: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("stage 3: column N: message")
    }
}

impl std::error::Error for TargetError {}

/// Whether `c` may stand in an id, a tag's key, or a glob as itself.
fn is_name_char(c: char) -> bool {
    todo!("stage 3: an ASCII letter or digit, '.', '_' or '-'")
}

/// Whether `c` ends a word: a keyword is a whole word, and a glob must end where a word does.
fn ends_word(c: char) -> bool {
    todo!("stage 3: whitespace, a parenthesis or a comma")
}

/// A position in the text being read.
struct Cursor {
    /// The text, a character a slot, so that a column is an index.
    chars: Vec<char>,
    /// The next character's index.
    at: usize,
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        todo!("stage 3: the character at the cursor, if any")
    }

    fn eat(&mut self, c: char) -> bool {
        todo!("stage 3: step over c when it is next; whether it was")
    }

    fn skip_spaces(&mut self) {
        todo!("stage 3: step over whitespace")
    }

    /// The index just past the word at the cursor.
    fn word_end(&self) -> usize {
        todo!("stage 3: the index of the next character that ends_word, or the end")
    }

    /// Whether the word at the cursor is `word`, and reads it if so.
    fn keyword(&mut self, word: &str) -> bool {
        todo!("stage 3: the characters up to word_end are word: step past them")
    }

    /// An error at the cursor: `what` was expected, and what is there instead.
    fn expected(&self, what: &str) -> TargetError {
        todo!("stage 3: error_at the cursor")
    }

    /// An error at index `at`, quoting the word found there (or the one character that ends
    /// words).
    fn error_at(&self, at: usize, what: &str) -> TargetError {
        todo!(
            "stage 3: column at + 1, \"expected <what>, found …\": the end, the one character that ends words, or the word quoted"
        )
    }

    /// The depth inside one more `not` or `(` (the one at index `at`), unless that is too deep.
    fn deeper(&self, depth: usize, at: usize) -> Result<usize, TargetError> {
        todo!("stage 3: depth + 1, or an error at column at + 1 when depth is MAX_DEPTH already")
    }

    /// `expr = and { "or" and }`, inside `depth` levels of `not` and `(`.
    fn expr(&mut self, depth: usize) -> Result<Target, TargetError> {
        todo!("stage 3: an and, then while the next word is or, another, made Or with what came before")
    }

    /// `and = unary { "and" unary }`.
    fn and(&mut self, depth: usize) -> Result<Target, TargetError> {
        todo!("stage 3: a unary, then while the next word is and, another, made And with what came before")
    }

    /// `unary = "not" unary | "(" expr ")" | list`, and `list = term { "," term }`.
    fn unary(&mut self, depth: usize) -> Result<Target, TargetError> {
        todo!(
            "stage 3: not and a unary, one level deeper; or an expr in parentheses, one level deeper; or terms apart by commas, a List when more than one"
        )
    }

    /// A tag's test or an id's glob; `what` is what the error says was expected when there is
    /// neither.
    fn term(&mut self, what: &str) -> Result<Target, TargetError> {
        todo!("stage 3: no keyword; a word starting tag: is a key, = and a glob; any other an id's glob")
    }

    /// A glob, read up to the end of its word; `what` is what the error says was expected when
    /// there is none.
    fn glob(&mut self, what: &str) -> Result<Glob, TargetError> {
        todo!(
            "stage 3: pieces up to the end of the word: name characters, *, ?, classes; none is an error, and so is a character no glob has"
        )
    }

    /// A class, `[a-z0-9]` or `[!a-z]`, from its `[` to past its `]`.
    fn class(&mut self) -> Result<Piece, TargetError> {
        todo!("stage 3: after the [ an optional !, then characters and ranges a-z, at least one, up to the ]")
    }
}
