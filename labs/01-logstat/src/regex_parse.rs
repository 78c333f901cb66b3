//! The regex parser: the `combined` format as one regular expression over bytes.
//!
//! It is the readable definition of a valid line, and the baseline `benches/parse.rs` measures the
//! hand parser against. Both parsers accept the same lines and build the same records.

use crate::LogRecord;
use crate::parse::ParseError;

// TODO(stage 1): compile the pattern once, in a `static COMBINED: LazyLock<regex::bytes::Regex>`;
// `(?-u)` makes its classes match bytes, so lines that are not UTF-8 still match.

/// Parses one line of the nginx `combined` format with a regular expression.
///
/// Accepts exactly the lines [`crate::parse_line`] accepts, with the same result.
///
/// # Errors
///
/// [`ParseError`] when the line is not valid; mostly [`ParseError::Shape`], since a regex that does not
/// match cannot say where it failed.
pub fn parse_line_regex(line: &[u8]) -> Result<LogRecord<'_>, ParseError> {
    todo!("stage 1: match the line against one regex::bytes::Regex built once")
}
