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
        todo!("stage 6: the column, then the message: column 7: expected …")
    }
}

impl std::error::Error for ParseError {}

/// Whether `c` may stand in a value written without quotes.
pub fn is_bare_value_char(c: char) -> bool {
    todo!("stage 6: not whitespace, a comma, a brace, a quote, a backslash, = or !")
}

/// Reads `text` as an expression.
pub(crate) fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    todo!(
        "stage 6: with a Cursor: the metric, the selectors in optional braces, the function, the op, the threshold, then nothing but spaces"
    )
}

/// Reads `text` as selectors alone, `name=value, name!=value` (none for blank text): a silence's
/// matchers.
///
/// # Errors
///
/// A [`ParseError`] naming the column where the text stops making sense.
pub fn parse_selectors(text: &str) -> Result<Vec<Selector>, ParseError> {
    todo!("stage 8: with a Cursor: selectors apart by commas, spaces allowed around them, up to the end")
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
        todo!("stage 6: the character at the cursor, if any")
    }

    fn eat(&mut self, c: char) -> bool {
        todo!("stage 6: step over c when it is next; whether it was")
    }

    fn skip_spaces(&mut self) {
        todo!("stage 6: step over whitespace")
    }

    /// An error at the cursor: `what` was expected, and what is there instead.
    fn expected(&self, what: &str) -> ParseError {
        todo!("stage 6: error_at the cursor")
    }

    fn error_at(&self, at: usize, what: &str) -> ParseError {
        todo!(
            "stage 6: column at + 1, \"expected <what>, found …\": the end, or the next 12 characters quoted"
        )
    }

    /// A name starting with a letter or `_`, going on with the characters `more` allows.
    fn name(&mut self, what: &str, more: impl Fn(char) -> bool) -> Result<String, ParseError> {
        todo!("stage 6: a letter or _ first (else expected(what)), then every character more allows")
    }

    fn selector(&mut self) -> Result<Selector, ParseError> {
        todo!("stage 6: a tag name, = or !=, then a quoted or a bare value; spaces allowed between")
    }

    fn bare_value(&mut self) -> Result<String, ParseError> {
        todo!("stage 6: at least one is_bare_value_char")
    }

    /// The rest of a quoted value, its opening quote read; `\"` and `\\` stand for `"` and `\`.
    fn quoted(&mut self) -> Result<String, ParseError> {
        todo!(
            "stage 6: up to the closing quote, unescaping \\\" and \\\\; a quote never closed is an error at the opening one"
        )
    }

    fn function(&mut self) -> Result<Function, ParseError> {
        todo!(
            "stage 6: a known name (the error at its start), then (#, a count from 1 to MAX_COUNT (the error at its digits), then )"
        )
    }

    fn op(&mut self) -> Result<Op, ParseError> {
        todo!("stage 6: the two-character operators before the one-character ones")
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        todo!(
            "stage 6: the run of digits, letters, +, - and .; digits, sign, point and exponent only, finite (no inf, no NaN)"
        )
    }
}
