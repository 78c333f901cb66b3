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
        if text.chars().nth(MAX_LEN).is_some() {
            return Err(TargetError {
                column: MAX_LEN + 1,
                message: format!("expected at most {MAX_LEN} characters, found more"),
            });
        }
        let mut cursor = Cursor { chars: text.chars().collect(), at: 0 };
        let target = cursor.expr(0)?;
        cursor.skip_spaces();
        if cursor.peek().is_some() {
            return Err(cursor.expected("\"and\", \"or\" or the end"));
        }
        Ok(target)
    }

    /// Whether the agent `id`, with `tags`, is one this expression names. An agent without the
    /// tag a [`Target::Tag`] asks for is not matched by it.
    pub fn matches(&self, id: &str, tags: &BTreeMap<String, String>) -> bool {
        match self {
            Target::Id(glob) => glob.matches(id),
            Target::Tag { key, value } => tags.get(key).is_some_and(|found| value.matches(found)),
            Target::List(targets) => targets.iter().any(|target| target.matches(id, tags)),
            Target::Not(inner) => !inner.matches(id, tags),
            Target::And(left, right) => left.matches(id, tags) && right.matches(id, tags),
            Target::Or(left, right) => left.matches(id, tags) || right.matches(id, tags),
        }
    }

    /// How tightly the expression binds, for writing it: parentheses go around an operand that
    /// binds less tightly than its place needs.
    fn binding(&self) -> u8 {
        match self {
            Target::Or(..) => 0,
            Target::And(..) => 1,
            Target::Not(_) => 2,
            Target::List(_) => 3,
            Target::Id(_) | Target::Tag { .. } => 4,
        }
    }
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(text: &str) -> Result<Target, TargetError> {
        Target::parse(text)
    }
}

/// The canonical text: it parses back to an equal target, for every target [`Target::parse`]
/// makes. (A list of fewer than two terms or of other than terms, and an id glob that is a keyword,
/// have no text: write `[n]ot` for the agent called `not`.)
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Id(glob) => write!(f, "{glob}"),
            Target::Tag { key, value } => write!(f, "tag:{key}={value}"),
            Target::List(targets) => {
                for (i, target) in targets.iter().enumerate() {
                    f.write_str(if i == 0 { "" } else { "," })?;
                    operand(f, target, 4)?;
                }
                Ok(())
            }
            Target::Not(inner) => {
                f.write_str("not ")?;
                operand(f, inner, 2)
            }
            // Both are read left to right, so only a right operand of the same kind needs
            // parentheses.
            Target::And(left, right) => {
                operand(f, left, 1)?;
                f.write_str(" and ")?;
                operand(f, right, 2)
            }
            Target::Or(left, right) => {
                operand(f, left, 0)?;
                f.write_str(" or ")?;
                operand(f, right, 1)
            }
        }
    }
}

/// Writes `target` where an expression binding at least `binding` may stand, in parentheses if it
/// binds less tightly.
fn operand(f: &mut fmt::Formatter<'_>, target: &Target, binding: u8) -> fmt::Result {
    match target.binding() < binding {
        true => write!(f, "({target})"),
        false => write!(f, "{target}"),
    }
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
        match self {
            Piece::Char(want) => *want == c,
            Piece::One => true,
            Piece::Star => false,
            Piece::Class { negated, ranges } => {
                *negated != ranges.iter().any(|&(low, high)| (low..=high).contains(&c))
            }
        }
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
        let mut cursor = Cursor { chars: pattern.chars().collect(), at: 0 };
        let glob = cursor.glob("a glob")?;
        if cursor.peek().is_some() {
            return Err(cursor.expected("a glob character or the end"));
        }
        Ok(glob)
    }

    /// Whether `text`, all of it, matches the pattern.
    pub fn matches(&self, text: &str) -> bool {
        // Two cursors, and the place of the last star to go back to: on a mismatch that star
        // takes one more character. Going back to an earlier star could not help (the last one
        // can take whatever it could), so the time is the product of the lengths, never
        // exponential.
        let (mut piece, mut at) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        loop {
            let next = text[at..].chars().next();
            match (self.pieces.get(piece), next) {
                (Some(Piece::Star), _) => {
                    piece += 1;
                    star = Some((piece, at));
                }
                (Some(wanted), Some(c)) if wanted.accepts(c) => {
                    piece += 1;
                    at += c.len_utf8();
                }
                (None, None) => return true,
                _ => {
                    let Some((after_star, taken)) = star else { return false };
                    let Some(c) = text[taken..].chars().next() else { return false };
                    star = Some((after_star, taken + c.len_utf8()));
                    (piece, at) = (after_star, taken + c.len_utf8());
                }
            }
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// The pattern as written.
impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
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
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for TargetError {}

/// Whether `c` may stand in an id, a tag's key, or a glob as itself.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Whether `c` ends a word: a keyword is a whole word, and a glob must end where a word does.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | ',')
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
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        self.at += usize::from(found);
        found
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// The index just past the word at the cursor.
    fn word_end(&self) -> usize {
        self.chars[self.at..].iter().position(|&c| ends_word(c)).map_or(self.chars.len(), |n| self.at + n)
    }

    /// Whether the word at the cursor is `word`, and reads it if so.
    fn keyword(&mut self, word: &str) -> bool {
        let end = self.word_end();
        let found = self.chars[self.at..end].iter().copied().eq(word.chars());
        if found {
            self.at = end;
        }
        found
    }

    /// An error at the cursor: `what` was expected, and what is there instead.
    fn expected(&self, what: &str) -> TargetError {
        self.error_at(self.at, what)
    }

    /// An error at index `at`, quoting the word found there (or the one character that ends
    /// words).
    fn error_at(&self, at: usize, what: &str) -> TargetError {
        let found = match self.chars.get(at) {
            None => "the end".to_owned(),
            Some(&c) if ends_word(c) => format!("{:?}", c.to_string()),
            Some(_) => {
                let word: String = self.chars[at..].iter().take_while(|&&c| !ends_word(c)).take(12).collect();
                format!("{word:?}")
            }
        };
        TargetError { column: at + 1, message: format!("expected {what}, found {found}") }
    }

    /// The depth inside one more `not` or `(` (the one at index `at`), unless that is too deep.
    fn deeper(&self, depth: usize, at: usize) -> Result<usize, TargetError> {
        match depth < MAX_DEPTH {
            true => Ok(depth + 1),
            false => Err(TargetError {
                column: at + 1,
                message: format!("expected at most {MAX_DEPTH} nested \"not\" and \"(\", found more"),
            }),
        }
    }

    /// `expr = and { "or" and }`, inside `depth` levels of `not` and `(`.
    fn expr(&mut self, depth: usize) -> Result<Target, TargetError> {
        let mut left = self.and(depth)?;
        loop {
            self.skip_spaces();
            if !self.keyword("or") {
                return Ok(left);
            }
            left = Target::Or(Box::new(left), Box::new(self.and(depth)?));
        }
    }

    /// `and = unary { "and" unary }`.
    fn and(&mut self, depth: usize) -> Result<Target, TargetError> {
        let mut left = self.unary(depth)?;
        loop {
            self.skip_spaces();
            if !self.keyword("and") {
                return Ok(left);
            }
            left = Target::And(Box::new(left), Box::new(self.unary(depth)?));
        }
    }

    /// `unary = "not" unary | "(" expr ")" | list`, and `list = term { "," term }`.
    fn unary(&mut self, depth: usize) -> Result<Target, TargetError> {
        self.skip_spaces();
        let start = self.at;
        if self.keyword("not") {
            let depth = self.deeper(depth, start)?;
            return Ok(Target::Not(Box::new(self.unary(depth)?)));
        }
        if self.eat('(') {
            let depth = self.deeper(depth, start)?;
            let inner = self.expr(depth)?;
            self.skip_spaces();
            if !self.eat(')') {
                let what = format!("\"and\", \"or\" or \")\" to close the \"(\" at column {}", start + 1);
                return Err(self.expected(&what));
            }
            return Ok(inner);
        }
        let first = self.term("a glob or \"(\"")?;
        let mut terms = Vec::new();
        loop {
            self.skip_spaces();
            if !self.eat(',') {
                break;
            }
            self.skip_spaces();
            terms.push(self.term("a glob after \",\"")?);
        }
        match terms.is_empty() {
            true => Ok(first),
            false => {
                terms.insert(0, first);
                Ok(Target::List(terms))
            }
        }
    }

    /// A tag's test or an id's glob; `what` is what the error says was expected when there is
    /// neither.
    fn term(&mut self, what: &str) -> Result<Target, TargetError> {
        let end = self.word_end();
        let word = &self.chars[self.at..end];
        if ["and", "or", "not"].iter().any(|keyword| word.iter().copied().eq(keyword.chars())) {
            return Err(self.expected(what));
        }
        if !word.starts_with(&['t', 'a', 'g', ':']) {
            return Ok(Target::Id(self.glob(what)?));
        }
        self.at += 4;
        let start = self.at;
        while self.peek().is_some_and(is_name_char) {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.expected("a tag's key after \"tag:\""));
        }
        let key = self.chars[start..self.at].iter().collect();
        if !self.eat('=') {
            return Err(self.expected("\"=\" after the tag's key"));
        }
        let value = self.glob("a glob for the tag's value")?;
        Ok(Target::Tag { key, value })
    }

    /// A glob, read up to the end of its word; `what` is what the error says was expected when
    /// there is none.
    fn glob(&mut self, what: &str) -> Result<Glob, TargetError> {
        let start = self.at;
        let mut pieces = Vec::new();
        while let Some(c) = self.peek() {
            let piece = match c {
                '*' => Piece::Star,
                '?' => Piece::One,
                '[' => self.class()?,
                c if is_name_char(c) => Piece::Char(c),
                _ if ends_word(c) => break,
                _ if start == self.at => return Err(self.expected(what)),
                _ => return Err(self.expected("a letter, a digit, '.', '_', '-', '*', '?' or '['")),
            };
            if !matches!(piece, Piece::Class { .. }) {
                self.at += 1;
            }
            // Runs of stars are one star: fewer places for the matcher to go back to.
            if !(piece == Piece::Star && pieces.last() == Some(&Piece::Star)) {
                pieces.push(piece);
            }
        }
        if pieces.is_empty() {
            return Err(self.expected(what));
        }
        Ok(Glob { pattern: self.chars[start..self.at].iter().collect(), pieces })
    }

    /// A class, `[a-z0-9]` or `[!a-z]`, from its `[` to past its `]`.
    fn class(&mut self) -> Result<Piece, TargetError> {
        let open = self.at;
        self.at += 1;
        let negated = self.eat('!');
        let mut ranges = Vec::new();
        loop {
            match self.peek() {
                Some(']') if !ranges.is_empty() => {
                    self.at += 1;
                    return Ok(Piece::Class { negated, ranges });
                }
                Some(low) if is_name_char(low) => {
                    self.at += 1;
                    let mut high = low;
                    // A '-' between two characters makes a range; first or last, it is itself.
                    if self.peek() == Some('-')
                        && self.chars.get(self.at + 1).is_some_and(|&c| is_name_char(c))
                    {
                        high = self.chars[self.at + 1];
                        if high < low {
                            let what = format!("the end of a range from {low:?} on");
                            return Err(self.error_at(self.at + 1, &what));
                        }
                        self.at += 2;
                    }
                    ranges.push((low, high));
                }
                _ if ranges.is_empty() => {
                    return Err(self.expected("a letter, a digit, '.', '_' or '-' in the class"));
                }
                _ => {
                    let what = format!("\"]\" to close the \"[\" at column {}", open + 1);
                    return Err(self.expected(&what));
                }
            }
        }
    }
}
