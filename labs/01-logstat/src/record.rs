//! One parsed log line ([`LogRecord`]) and the fields it can be grouped by ([`Field`]).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::Timestamp;

/// One valid line of the nginx `combined` format, borrowing its text from the line.
///
/// `ADDR - USER [TIME] "REQUEST" STATUS BYTES "REFERER" "UA"`. Quoted fields are kept as written,
/// backslash escapes included (`\"` stays two bytes), so a key reads exactly as it does in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRecord<'a> {
    /// `$remote_addr`: a valid IPv4 or IPv6 address, as written.
    pub addr: &'a [u8],
    /// `$remote_user`: one or more bytes that are not a space; nginx writes `-` for none.
    pub user: &'a [u8],
    /// `$time_local`.
    pub time: Timestamp,
    /// `$request`, between its quotes: normally `METHOD TARGET PROTOCOL`, but anything goes.
    pub request: &'a [u8],
    /// `$status`: three digits.
    pub status: u16,
    /// `$body_bytes_sent`; values beyond `u64` saturate.
    pub bytes: u64,
    /// `$http_referer`, between its quotes.
    pub referer: &'a [u8],
    /// `$http_user_agent`, between its quotes.
    pub user_agent: &'a [u8],
}

/// The three parts of a well-formed request: `GET /index.html?x=1 HTTP/1.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestParts<'a> {
    /// The bytes before the first space.
    pub method: &'a [u8],
    /// The bytes between the first and the last space: the target as logged.
    pub target: &'a [u8],
    /// The bytes after the last space.
    pub protocol: &'a [u8],
}

impl<'a> LogRecord<'a> {
    /// Splits the request into method, target and protocol.
    ///
    /// Returns `None` when the request is `-`, empty, or not of the form `METHOD TARGET PROTOCOL`:
    /// it needs at least two spaces, and the method (before the first space), the target (between
    /// the first and the last) and the protocol (after the last) must all be non-empty.
    pub fn request_parts(&self) -> Option<RequestParts<'a>> {
        todo!("stage 1: split the request at its first and last space")
    }

    /// The request target up to, not including, the first `?`.
    pub fn path(&self) -> Option<&'a [u8]> {
        todo!("stage 1: the target up to the first '?'")
    }

    /// The value this line is counted under when grouping by `field`, or `None` if it has none (a
    /// line whose request is not `METHOD TARGET PROTOCOL` has no method, url or path).
    pub fn key(&self, field: Field) -> Option<Cow<'a, [u8]>> {
        todo!("stage 1: the bytes this line is counted under for `field`")
    }
}

/// A field that `logstat top --by FIELD` groups lines by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The client address, as written.
    Ip,
    /// The request target as logged, query string included.
    Url,
    /// The request target up to the first `?`.
    Path,
    /// The three-digit status code.
    Status,
    /// The request method.
    Method,
    /// The user agent.
    Ua,
    /// The referer.
    Referer,
}

impl Field {
    /// Every field, in the order `--help` lists them.
    pub const ALL: [Field; 7] =
        [Field::Ip, Field::Url, Field::Path, Field::Status, Field::Method, Field::Ua, Field::Referer];

    /// The field's name on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Field::Ip => "ip",
            Field::Url => "url",
            Field::Path => "path",
            Field::Status => "status",
            Field::Method => "method",
            Field::Ua => "ua",
            Field::Referer => "referer",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = String;

    fn from_str(name: &str) -> Result<Field, String> {
        Field::ALL.into_iter().find(|field| field.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            format!("unknown field {name:?}: expected one of {}", names.join(", "))
        })
    }
}
