//! Reading a rule's expression, `metric{selectors} function(#N) op threshold`, with errors that
//! name the column where the text stops making sense.
//!
//! ```text
//! expr      = metric [ "{" [ selector { "," selector } ] "}" ] function "(#" N ")" op number
//! metric    = (letter | "_") { letter | digit | "_" | "." | ":" | "-" | "/" }
//! selector  = name ( "=" | "!=" ) ( bare-value | "\"" quoted "\"" )
//! function  = "all" | "avg" | "max" | "min" | "diff" | "pdiff"
//! op        = ">" | ">=" | "<" | "<=" | "==" | "!="
//! ```
//!
//! Spaces may stand between any two parts; N is 1 to [`MAX_COUNT`]; the threshold is a finite
//! decimal number (`90`, `-0.5`, `1e9`).

use std::fmt;

use super::rule::{Expr, Function, Op, Selector};

/// The largest N a function takes: a judge keeps that many values of a series in memory.
pub const MAX_COUNT: usize = 100;

/// Why an expression does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The column (1 for the first character) where the problem is.
    pub column: usize,
    /// What was expected there, and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Whether `c` may stand in a value written without quotes.
pub fn is_bare_value_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ',' | '}' | '{' | '"' | '\\' | '=' | '!')
}

/// Reads `text` as an expression.
pub(crate) fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    let mut cursor = Cursor { chars: text.chars().collect(), at: 0 };
    cursor.skip_spaces();
    let metric = cursor.name("a metric name", |c| c.is_ascii_alphanumeric() || "_.:-/".contains(c))?;
    cursor.skip_spaces();
    let mut selectors = Vec::new();
    if cursor.eat('{') {
        cursor.skip_spaces();
        if !cursor.eat('}') {
            loop {
                selectors.push(cursor.selector()?);
                cursor.skip_spaces();
                if cursor.eat('}') {
                    break;
                }
                if !cursor.eat(',') {
                    return Err(cursor.expected("',' or '}'"));
                }
                cursor.skip_spaces();
            }
        }
        cursor.skip_spaces();
    }
    let function = cursor.function()?;
    cursor.skip_spaces();
    let op = cursor.op()?;
    cursor.skip_spaces();
    let threshold = cursor.number()?;
    cursor.skip_spaces();
    if cursor.peek().is_some() {
        return Err(cursor.expected("the end of the expression"));
    }
    Ok(Expr { metric, selectors, function, op, threshold })
}

/// Reads `text` as selectors alone, `name=value, name!=value` (none for blank text): a silence's
/// matchers.
///
/// # Errors
///
/// A [`ParseError`] naming the column where the text stops making sense.
pub fn parse_selectors(text: &str) -> Result<Vec<Selector>, ParseError> {
    let mut cursor = Cursor { chars: text.chars().collect(), at: 0 };
    let mut selectors = Vec::new();
    cursor.skip_spaces();
    while cursor.peek().is_some() {
        selectors.push(cursor.selector()?);
        cursor.skip_spaces();
        if cursor.peek().is_some() && !cursor.eat(',') {
            return Err(cursor.expected("',' or the end"));
        }
        cursor.skip_spaces();
    }
    Ok(selectors)
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

    /// An error at the cursor: `what` was expected, and what is there instead.
    fn expected(&self, what: &str) -> ParseError {
        self.error_at(self.at, what)
    }

    fn error_at(&self, at: usize, what: &str) -> ParseError {
        let found = match self.chars.get(at) {
            None => "the end".to_owned(),
            Some(_) => {
                let rest: String = self.chars[at..].iter().take(12).collect();
                format!("{rest:?}")
            }
        };
        ParseError { column: at + 1, message: format!("expected {what}, found {found}") }
    }

    /// A name starting with a letter or `_`, going on with the characters `more` allows.
    fn name(&mut self, what: &str, more: impl Fn(char) -> bool) -> Result<String, ParseError> {
        let start = self.at;
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
            return Err(self.expected(what));
        }
        while self.peek().is_some_and(&more) {
            self.at += 1;
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    fn selector(&mut self) -> Result<Selector, ParseError> {
        let name = self.name("a tag name", |c| c.is_ascii_alphanumeric() || "_.-".contains(c))?;
        self.skip_spaces();
        let equal = if self.eat('=') {
            true
        } else if self.peek() == Some('!') && self.chars.get(self.at + 1) == Some(&'=') {
            self.at += 2;
            false
        } else {
            return Err(self.expected("'=' or '!='"));
        };
        self.skip_spaces();
        let value = if self.eat('"') { self.quoted()? } else { self.bare_value()? };
        Ok(Selector { name, equal, value })
    }

    fn bare_value(&mut self) -> Result<String, ParseError> {
        let start = self.at;
        while self.peek().is_some_and(is_bare_value_char) {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.expected("a tag value"));
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    /// The rest of a quoted value, its opening quote read; `\"` and `\\` stand for `"` and `\`.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let opening = self.at - 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ParseError {
                        column: opening + 1,
                        message: "a quote that is never closed".to_owned(),
                    });
                }
                Some('"') => {
                    self.at += 1;
                    return Ok(value);
                }
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => value.push(c),
                        _ => return Err(self.expected("'\"' or '\\' after '\\'")),
                    }
                    self.at += 1;
                }
                Some(c) => {
                    value.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn function(&mut self) -> Result<Function, ParseError> {
        const WHAT: &str = "a function (all, avg, max, min, diff, pdiff)";
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        let make: fn(usize) -> Function = match word.as_str() {
            "all" => Function::All,
            "avg" => Function::Avg,
            "max" => Function::Max,
            "min" => Function::Min,
            "diff" => Function::Diff,
            "pdiff" => Function::Pdiff,
            _ => return Err(self.error_at(start, WHAT)),
        };
        if !(self.peek() == Some('(') && self.chars.get(self.at + 1) == Some(&'#')) {
            return Err(self.expected("'(#' after the function's name"));
        }
        self.at += 2;
        let digits = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let text: String = self.chars[digits..self.at].iter().collect();
        let count = match text.parse::<usize>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
            _ => return Err(self.error_at(digits, &format!("a count from 1 to {MAX_COUNT}"))),
        };
        if !self.eat(')') {
            return Err(self.expected("')'"));
        }
        Ok(make(count))
    }

    fn op(&mut self) -> Result<Op, ParseError> {
        let next = self.chars.get(self.at + 1) == Some(&'=');
        let (op, len) = match (self.peek(), next) {
            (Some('>'), true) => (Op::GreaterOrEqual, 2),
            (Some('>'), false) => (Op::Greater, 1),
            (Some('<'), true) => (Op::LessOrEqual, 2),
            (Some('<'), false) => (Op::Less, 1),
            (Some('='), true) => (Op::Equal, 2),
            (Some('!'), true) => (Op::NotEqual, 2),
            _ => return Err(self.expected("an operator (>, >=, <, <=, ==, !=)")),
        };
        self.at += len;
        Ok(op)
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        // Rust's float syntax, less the words: "inf" and "NaN" are no thresholds.
        let numeric = text.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c));
        match text.parse::<f64>() {
            Ok(value) if numeric && value.is_finite() => Ok(value),
            _ => Err(self.error_at(start, "a finite number as the threshold")),
        }
    }
}
