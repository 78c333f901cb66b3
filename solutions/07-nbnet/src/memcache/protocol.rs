//! memcached's text protocol: a command line (`set k 0 60 5\r\n`), for storage commands followed
//! by a data block (`hello\r\n`); responses are lines, and `VALUE` blocks ended by `END`.
//!
//! [`parse`] never fails on a bad line: a line memcached answers with `ERROR` or `CLIENT_ERROR …`
//! becomes [`Command::Error`] holding that very line, so the connection carries on. Only a line
//! with no end past the length memcached allows is fatal, as it is in memcached.

use std::io::Write;
use std::sync::Arc;

use crate::codec::{Codec, CodecError};
use crate::memcache::store::Item;

/// The longest key memcached accepts.
pub const KEY_MAX: usize = 250;
/// The longest command line without an end that is still waited for (except for `get`).
pub const LINE_MAX: usize = 2048;
/// The longest `get` line waited for (many keys).
pub const GET_LINE_MAX: usize = 1 << 20;
/// The largest item: key, value and memcached's per-item header.
pub const ITEM_SIZE_MAX: usize = 1 << 20;
/// The bytes memcached adds to each item (header, CAS, the key's NUL and the value's `\r\n`).
pub const ITEM_OVERHEAD: usize = 56;

/// Whether an item of a `key_len`-byte key and a `data_len`-byte value is over [`ITEM_SIZE_MAX`].
/// Saturating, as `data_len` may be a client's claim, not bytes held.
pub(crate) fn is_too_large(key_len: usize, data_len: usize) -> bool {
    key_len.saturating_add(data_len).saturating_add(ITEM_OVERHEAD) > ITEM_SIZE_MAX
}

/// `CLIENT_ERROR bad command line format`, memcached's answer to most malformed arguments.
pub const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format";

/// How a storage command treats an existing item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Store, whatever is there.
    Set,
    /// Store only if there is no item.
    Add,
    /// Store only if there is an item.
    Replace,
    /// Add the data after the item's.
    Append,
    /// Add the data before the item's.
    Prepend,
    /// Store only if the item's CAS value is still the one given.
    Cas,
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `get KEY…` (`cas: false`) or `gets KEY…`.
    Get {
        /// The keys, in order.
        keys: Vec<Vec<u8>>,
        /// Whether CAS values are asked for (`gets`).
        cas: bool,
    },
    /// `set`, `add`, `replace`, `append`, `prepend` or `cas`, with its data.
    Store {
        /// Which.
        mode: StoreMode,
        /// The key.
        key: Vec<u8>,
        /// The client's flags.
        flags: u32,
        /// The expiry time (0 never; up to 30 days relative; beyond, a Unix time; < 0 expired).
        exptime: i64,
        /// The value.
        data: Vec<u8>,
        /// For `cas`: the CAS value the item must still have.
        cas: u64,
        /// No answer wanted.
        noreply: bool,
    },
    /// `delete KEY [0] [noreply]`.
    Delete {
        /// The key.
        key: Vec<u8>,
        /// No answer wanted.
        noreply: bool,
    },
    /// `incr KEY DELTA` or `decr KEY DELTA`.
    Arith {
        /// The key.
        key: Vec<u8>,
        /// How much.
        delta: u64,
        /// `incr` (true) or `decr`.
        incr: bool,
        /// No answer wanted.
        noreply: bool,
    },
    /// `touch KEY EXPTIME`.
    Touch {
        /// The key.
        key: Vec<u8>,
        /// The new expiry time.
        exptime: i64,
        /// No answer wanted.
        noreply: bool,
    },
    /// `flush_all [DELAY]`.
    FlushAll {
        /// Seconds from now (0 or less: now).
        delay: i64,
        /// No answer wanted.
        noreply: bool,
    },
    /// `version`.
    Version,
    /// `stats`.
    Stats,
    /// `verbosity LEVEL`: accepted and ignored.
    Verbosity {
        /// No answer wanted.
        noreply: bool,
    },
    /// `quit`: close the connection.
    Quit,
    /// A storage command whose data block did not end with `\r\n`.
    BadDataChunk {
        /// No answer wanted.
        noreply: bool,
    },
    /// A storage command for an item over [`ITEM_SIZE_MAX`]; its data is swallowed.
    TooLarge {
        /// No answer wanted.
        noreply: bool,
    },
    /// Data of a too-large item, discarded.
    Swallowed,
    /// A bad line, and the exact line memcached answers it with.
    Error {
        /// The answer, without its `\r\n`.
        reply: &'static str,
        /// No answer wanted.
        noreply: bool,
    },
}

/// One answer.
#[derive(Debug, Clone)]
pub enum Response {
    /// A fixed line: `STORED`, `END`, `ERROR`…
    Line(&'static str),
    /// A line of text: `VERSION …`.
    Text(String),
    /// The result of `incr`/`decr`.
    Number(u64),
    /// `VALUE` blocks and `END`, with CAS values for `gets`.
    Values {
        /// The keys found, with their items.
        items: Vec<(Vec<u8>, Arc<Item>)>,
        /// Whether to show CAS values.
        cas: bool,
    },
    /// `STAT name value` lines and `END`.
    Stats(Vec<(&'static str, String)>),
}

/// The codec of a memcached connection: [`parse`], plus the bytes still to swallow after a
/// too-large item.
#[derive(Debug, Clone, Default)]
pub struct MemcacheCodec {
    swallow: usize,
}

impl Codec for MemcacheCodec {
    type Request = Command;
    type Response = Response;

    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Command, usize)>, CodecError> {
        if self.swallow > 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            let n = self.swallow.min(buf.len());
            self.swallow -= n;
            return Ok(Some((Command::Swallowed, n)));
        }
        let parsed = parse(buf)?;
        if let Some((Command::TooLarge { .. }, _)) = &parsed {
            self.swallow = too_large_data(buf);
        }
        Ok(parsed)
    }

    fn encode(&mut self, response: Response, out: &mut Vec<u8>) {
        encode(&response, out);
    }

    /// `VALUE` blocks one item at a time, so a many-key `get` streams: `out` ends at most one item
    /// ([`ITEM_SIZE_MAX`]) past `limit`. Other answers are small and go whole.
    fn encode_part(&mut self, response: Response, out: &mut Vec<u8>, limit: usize) -> Option<Response> {
        let Response::Values { items, cas } = response else {
            encode(&response, out);
            return None;
        };
        let mut items = items.into_iter();
        while out.len() < limit {
            let Some((key, item)) = items.next() else {
                out.extend_from_slice(b"END\r\n");
                return None;
            };
            encode_value(&key, &item, cas, out);
        }
        Some(Response::Values { items: items.collect(), cas })
    }
}

/// The data bytes (value and `\r\n`) following a too-large storage command at the start of `buf`.
fn too_large_data(buf: &[u8]) -> usize {
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let vlen = tokens(line).nth(4).and_then(parse_i64).unwrap_or(0);
    usize::try_from(vlen).map_or(0, |n| n.saturating_add(2))
}

/// Writes `response` as memcached would.
pub fn encode(response: &Response, out: &mut Vec<u8>) {
    match response {
        Response::Line(line) => {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Response::Text(text) => {
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Response::Number(n) => {
            // Writing to a Vec cannot fail.
            let _ = write!(out, "{n}\r\n");
        }
        Response::Values { items, cas } => {
            for (key, item) in items {
                encode_value(key, item, *cas, out);
            }
            out.extend_from_slice(b"END\r\n");
        }
        Response::Stats(stats) => {
            for (name, value) in stats {
                let _ = write!(out, "STAT {name} {value}\r\n");
            }
            out.extend_from_slice(b"END\r\n");
        }
    }
}

/// One `VALUE key flags bytes [cas]` block and its data.
fn encode_value(key: &[u8], item: &Item, cas: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(key);
    // Writing to a Vec cannot fail.
    let _ = write!(out, " {} {}", item.flags, item.data.len());
    if cas {
        let _ = write!(out, " {}", item.cas);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&item.data);
    out.extend_from_slice(b"\r\n");
}

/// The space-separated tokens of a line (runs of spaces count as one).
fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b' ').filter(|token| !token.is_empty())
}

/// An unsigned decimal as memcached's `safe_strtoull` takes it: an optional `+`, digits, no overflow.
pub fn parse_u64(token: &[u8]) -> Option<u64> {
    let digits = token.strip_prefix(b"+").unwrap_or(token);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// A signed decimal as memcached's `safe_strtol` takes it.
pub fn parse_i64(token: &[u8]) -> Option<i64> {
    match token.strip_prefix(b"-") {
        Some(rest) if !rest.starts_with(b"+") => {
            let n = parse_u64(rest)?;
            if n == 1 << 63 { Some(i64::MIN) } else { i64::try_from(n).ok().map(|n| -n) }
        }
        Some(_) => None,
        None => i64::try_from(parse_u64(token)?).ok(),
    }
}

/// The first command at the start of `buf` and the bytes it took, or `Ok(None)` when it is not all
/// there yet.
///
/// # Errors
///
/// [`CodecError::TooLong`] for a line with no end past [`LINE_MAX`] ([`GET_LINE_MAX`] for `get`):
/// memcached closes such a connection.
///
/// # Examples
///
/// ```
/// use nbnet::memcache::protocol::{parse, Command, BAD_FORMAT};
/// let (command, used) = parse(b"get a b\r\n").unwrap().unwrap();
/// assert_eq!(command, Command::Get { keys: vec![b"a".to_vec(), b"b".to_vec()], cas: false });
/// assert_eq!(used, 9);
/// assert_eq!(parse(b"set k 0 0 5\r\nhel").unwrap(), None);
/// let (command, _) = parse(b"incr k x\r\n").unwrap().unwrap();
/// assert!(matches!(command, Command::Error { reply: "CLIENT_ERROR invalid numeric delta argument", .. }));
/// let (command, _) = parse(b"set k x 0 1\r\n").unwrap().unwrap();
/// assert!(matches!(command, Command::Error { reply: BAD_FORMAT, .. }));
/// ```
pub fn parse(buf: &[u8]) -> Result<Option<(Command, usize)>, CodecError> {
    let Some(newline) = buf.iter().position(|&b| b == b'\n') else {
        let is_get = buf.starts_with(b"get ") || buf.starts_with(b"gets ");
        let max = if is_get { GET_LINE_MAX } else { LINE_MAX };
        if buf.len() > max {
            return Err(CodecError::TooLong { len: buf.len(), max });
        }
        return Ok(None);
    };
    let line = &buf[..newline];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let used = newline + 1;
    let words: Vec<&[u8]> = tokens(line).collect();
    let error = |reply: &'static str| Ok(Some((Command::Error { reply, noreply: false }, used)));
    let Some(&name) = words.first() else { return error("ERROR") };
    let n = words.len();
    let last_is_noreply = words.last() == Some(&&b"noreply"[..]);
    let long_key = |i: usize| words.get(i).is_some_and(|key| key.len() > KEY_MAX);
    let command = match name {
        b"get" | b"gets" => {
            if n < 2 {
                return error("ERROR");
            }
            if (1..n).any(long_key) {
                return error(BAD_FORMAT);
            }
            Command::Get { keys: words[1..].iter().map(|key| key.to_vec()).collect(), cas: name == b"gets" }
        }
        b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas" => {
            return Ok(parse_storage(name, &words, buf, used));
        }
        b"delete" => {
            if !(2..=4).contains(&n) {
                return error("ERROR");
            }
            if long_key(1) {
                return error(BAD_FORMAT);
            }
            let hold_is_zero = n > 2 && words[2] == b"0";
            let valid = n == 2
                || (n == 3 && (hold_is_zero || last_is_noreply))
                || (n == 4 && hold_is_zero && last_is_noreply);
            if !valid {
                let reply = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
                return Ok(Some((Command::Error { reply, noreply: last_is_noreply }, used)));
            }
            Command::Delete { key: words[1].to_vec(), noreply: last_is_noreply }
        }
        b"incr" | b"decr" => {
            if !(3..=4).contains(&n) {
                return error("ERROR");
            }
            let noreply = n == 4 && last_is_noreply;
            if long_key(1) {
                return Ok(Some((Command::Error { reply: BAD_FORMAT, noreply }, used)));
            }
            let Some(delta) = parse_u64(words[2]) else {
                let reply = "CLIENT_ERROR invalid numeric delta argument";
                return Ok(Some((Command::Error { reply, noreply }, used)));
            };
            Command::Arith { key: words[1].to_vec(), delta, incr: name == b"incr", noreply }
        }
        b"touch" => {
            if !(3..=4).contains(&n) {
                return error("ERROR");
            }
            let noreply = n == 4 && last_is_noreply;
            if long_key(1) {
                return Ok(Some((Command::Error { reply: BAD_FORMAT, noreply }, used)));
            }
            let Some(exptime) = parse_i64(words[2]) else {
                let reply = "CLIENT_ERROR invalid exptime argument";
                return Ok(Some((Command::Error { reply, noreply }, used)));
            };
            Command::Touch { key: words[1].to_vec(), exptime, noreply }
        }
        b"flush_all" => {
            if n > 3 {
                return error("ERROR");
            }
            let noreply = n > 1 && last_is_noreply;
            let delay = if n - usize::from(noreply) == 2 {
                match parse_i64(words[1]) {
                    Some(delay) => delay,
                    None => {
                        let reply = "CLIENT_ERROR invalid exptime argument";
                        return Ok(Some((Command::Error { reply, noreply }, used)));
                    }
                }
            } else {
                0
            };
            Command::FlushAll { delay, noreply }
        }
        b"version" => Command::Version,
        b"quit" => Command::Quit,
        b"stats" if n == 1 => Command::Stats,
        b"verbosity" => {
            if !(2..=3).contains(&n) {
                return error("ERROR");
            }
            let noreply = n == 3 && last_is_noreply;
            if parse_u64(words[1]).is_none() {
                return Ok(Some((Command::Error { reply: BAD_FORMAT, noreply }, used)));
            }
            Command::Verbosity { noreply }
        }
        _ => return error("ERROR"),
    };
    Ok(Some((command, used)))
}

/// A storage command whose line ends at `used`: its arguments, then its data block.
fn parse_storage(name: &[u8], words: &[&[u8]], buf: &[u8], used: usize) -> Option<(Command, usize)> {
    let is_cas = name == b"cas";
    let n = words.len();
    let base = if is_cas { 6 } else { 5 };
    if n != base && n != base + 1 {
        return Some((Command::Error { reply: "ERROR", noreply: false }, used));
    }
    let noreply = n == base + 1 && words[base] == b"noreply";
    let bad = Some((Command::Error { reply: BAD_FORMAT, noreply }, used));
    if words[1].len() > KEY_MAX {
        return bad;
    }
    // memcached reads the flags as an unsigned long and keeps the low 32 bits.
    let (Some(flags), Some(exptime), Some(vlen)) =
        (parse_u64(words[2]), parse_i64(words[3]), parse_i64(words[4]))
    else {
        return bad;
    };
    let cas = if is_cas {
        match parse_u64(words[5]) {
            Some(cas) => cas,
            None => return bad,
        }
    } else {
        0
    };
    let Ok(vlen) = usize::try_from(vlen) else { return bad };
    if is_too_large(words[1].len(), vlen) {
        return Some((Command::TooLarge { noreply }, used));
    }
    let end = used + vlen + 2;
    if buf.len() < end {
        return None;
    }
    if &buf[used + vlen..end] != b"\r\n" {
        return Some((Command::BadDataChunk { noreply }, end));
    }
    let mode = match name {
        b"set" => StoreMode::Set,
        b"add" => StoreMode::Add,
        b"replace" => StoreMode::Replace,
        b"append" => StoreMode::Append,
        b"prepend" => StoreMode::Prepend,
        _ => StoreMode::Cas,
    };
    let command = Command::Store {
        mode,
        key: words[1].to_vec(),
        flags: flags as u32,
        exptime,
        data: buf[used..used + vlen].to_vec(),
        cas,
        noreply,
    };
    Some((command, end))
}
