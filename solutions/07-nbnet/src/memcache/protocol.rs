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
    /// `gat EXPTIME KEY…` (`cas: false`) or `gats EXPTIME KEY…`: get, and set each item's expiry.
    GetAndTouch {
        /// The new expiry time of every item found.
        exptime: i64,
        /// The keys, in order (none is allowed, as in memcached: the answer is `END`).
        keys: Vec<Vec<u8>>,
        /// Whether CAS values are asked for (`gats`).
        cas: bool,
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
    /// `stats` (and `stats ` with a trailing space, as libmemcached sends it): answered with
    /// `STAT name value` lines and `END`. Clients and the tests read at least `pid`, `uptime`,
    /// `time`, `version`, `threads`, `cmd_get`, `cmd_set`, `get_hits`, `get_misses`,
    /// `limit_maxbytes`, `bytes`, `curr_items`, `total_items` and `evictions`.
    Stats,
    /// `stats GROUP …`: one of the groups memcached answers besides the general one.
    StatsGroup(StatsGroup),
    /// `verbosity LEVEL [noreply]`: remembered for `stats settings`; memkv logs through `tracing`.
    Verbosity {
        /// The level asked for, capped at 2 as memcached caps it.
        level: u32,
        /// No answer wanted.
        noreply: bool,
    },
    /// `cache_memlimit MEGABYTES [noreply]`: a new memory limit.
    CacheMemlimit {
        /// The limit in MiB (8 at least).
        megabytes: u32,
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

/// The `stats` groups served, each as memcached 1.6 answers it (`stats conns` is not served: it
/// is memcached's view of its own connection table, and no client library sends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// `stats settings`: the server's settings.
    Settings,
    /// `stats items`: memkv has one item class, number 1.
    Items,
    /// `stats slabs`: memkv's memory, as one slab class.
    Slabs,
    /// `stats sizes`: memcached's size histogram, which is disabled by default.
    Sizes,
    /// `stats reset`: zero the counters; answered `RESET`.
    Reset,
    /// `stats detail on` (true) or `stats detail off`: answered `OK`.
    Detail(bool),
    /// `stats detail dump`: the per-prefix counters, none kept; answered `END`.
    DetailDump,
    /// `stats cachedump CLASS LIMIT`: the keys of item class `CLASS` (memkv's are all in class 1),
    /// at most `LIMIT` of them (0: all), as `ITEM` lines; libmemcached's `memcdump` sends it.
    CacheDump {
        /// The item class, below 64.
        class: u32,
        /// How many keys at most; 0 for all.
        limit: u32,
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
    /// `ITEM key [BYTES b; EXPIRES s]` lines and `END`: `stats cachedump`.
    Dump(Vec<(Vec<u8>, Arc<Item>)>),
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
    let vlen = tokens(line).nth(4).and_then(parse_i32).unwrap_or(0);
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
        Response::Dump(items) => {
            for (key, item) in items {
                out.extend_from_slice(b"ITEM ");
                out.extend_from_slice(key);
                let _ = write!(out, " [{} b; {} s]\r\n", item.data.len(), item.expires());
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

/// A number as memcached's `safe_strtol` stores it in an `int32_t`: read as a `long`, then cut to
/// its low 32 bits, so `4294967297` is 1 and `2147483648` is negative.
fn parse_i32(token: &[u8]) -> Option<i32> {
    parse_i64(token).map(|n| n as i32)
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
/// # The contract, as memcached 1.6 reads a line
///
/// - **Tokens.** The line (its `\r\n` or bare `\n` dropped) is split at runs of spaces; names are
///   lower case (`GET` is unknown). A command with the wrong number of tokens, counting its name,
///   is answered `ERROR`: `get`/`gets` 2 or more; `gat`/`gats` 2 or more (the expiry, then keys:
///   none is allowed and answered `END`); `set`/`add`/`replace`/`append`/`prepend` 5, or 6 with
///   `noreply`; `cas` 6 or 7; `delete` 2 to 4 (`delete K [0] [noreply]`, anything else there is
///   `CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]`); `incr`/`decr` and
///   `touch` 3 or 4; `flush_all` 1 to 3; `verbosity` and `cache_memlimit` 2 or 3; `stats` 1 or
///   more (see [`StatsGroup`]); `version`, `quit` and `shutdown` any. An unknown name is `ERROR`.
/// - **Arguments.** A key over [`KEY_MAX`] bytes is [`BAD_FORMAT`]. Numbers are read as memcached
///   stores them: flags as an unsigned long cut to 32 bits (`-0` is 0, `-1` is refused), the
///   expiry and the data length as longs cut to 32 bits (`4294967297` is 1, `2147483648`
///   negative), a length below 0 or over 2^31 − 3 is [`BAD_FORMAT`], a delta is a `u64` with an
///   optional `+` ([`parse_u64`]). A bad delta is `CLIENT_ERROR invalid numeric delta argument`, a
///   bad expiry `CLIENT_ERROR invalid exptime argument`.
/// - **What `used` counts.** The line, and for a storage command its data block and the `\r\n`
///   after it; `Ok(None)` until all of that is there. A data block not ended by `\r\n` is
///   [`Command::BadDataChunk`], using the line and `length + 2` bytes. A storage command for an
///   item over [`ITEM_SIZE_MAX`] (key, data and [`ITEM_OVERHEAD`]) is [`Command::TooLarge`] at
///   once, using the line alone: its data is not waited for, and [`MemcacheCodec`] discards it as
///   it arrives ([`Command::Swallowed`]), so a connection never holds it.
/// - **`noreply`.** A last token `noreply` silences the answer of storage commands, `delete`,
///   `incr`/`decr`, `touch`, `flush_all`, `verbosity` and `cache_memlimit`, their `CLIENT_ERROR`
///   answers included ([`Command::Error`] carries it); `ERROR` for a wrong token count is always
///   answered. As in memcached, which looks at the last token alone, a last `noreply` counts
///   wherever it stands, even in place of an argument: `incr k noreply` (a bad delta) and
///   `set k 0 0 noreply` (a bad length) are silent.
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
    let Some(&name) = words.first() else { return Ok(Some((error("ERROR"), used))) };
    let command = match name {
        b"get" => parse_get(&words, false),
        b"gets" => parse_get(&words, true),
        b"gat" => parse_gat(&words, false),
        b"gats" => parse_gat(&words, true),
        b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas" => {
            return Ok(parse_storage(name, &words, buf, used));
        }
        b"delete" => parse_delete(&words),
        b"incr" => parse_arith(&words, true),
        b"decr" => parse_arith(&words, false),
        b"touch" => parse_touch(&words),
        b"flush_all" => parse_flush_all(&words),
        b"version" => Command::Version,
        b"quit" => Command::Quit,
        b"stats" if words.len() == 1 => Command::Stats,
        b"stats" => parse_stats(&words),
        b"verbosity" => parse_verbosity(&words),
        b"cache_memlimit" => parse_cache_memlimit(&words),
        // memcached answers this unless started with -A; memkv never shuts down on a client's word.
        b"shutdown" => error("ERROR: shutdown not enabled"),
        _ => error("ERROR"),
    };
    Ok(Some((command, used)))
}

/// The answer `reply` to a bad line, answered even after `noreply`.
fn error(reply: &'static str) -> Command {
    Command::Error { reply, noreply: false }
}

/// Whether the line's last word is `noreply`.
fn last_is_noreply(words: &[&[u8]]) -> bool {
    words.last() == Some(&&b"noreply"[..])
}

/// `get KEY…` (`cas: false`) or `gets KEY…`.
fn parse_get(words: &[&[u8]], cas: bool) -> Command {
    if words.len() < 2 {
        return error("ERROR");
    }
    let keys = &words[1..];
    if keys.iter().any(|key| key.len() > KEY_MAX) {
        return error(BAD_FORMAT);
    }
    Command::Get { keys: keys.iter().map(|key| key.to_vec()).collect(), cas }
}

/// `gat EXPTIME KEY…` (`cas: false`) or `gats EXPTIME KEY…`: the expiry is checked before the keys.
fn parse_gat(words: &[&[u8]], cas: bool) -> Command {
    if words.len() < 2 {
        return error("ERROR");
    }
    let Some(exptime) = parse_i32(words[1]) else {
        return error("CLIENT_ERROR invalid exptime argument");
    };
    let keys = &words[2..];
    if keys.iter().any(|key| key.len() > KEY_MAX) {
        return error(BAD_FORMAT);
    }
    Command::GetAndTouch { exptime: exptime.into(), keys: keys.iter().map(|key| key.to_vec()).collect(), cas }
}

/// `delete KEY [0] [noreply]`: memcached once took a hold time there, and still takes a 0.
fn parse_delete(words: &[&[u8]]) -> Command {
    let n = words.len();
    if !(2..=4).contains(&n) {
        return error("ERROR");
    }
    if words[1].len() > KEY_MAX {
        return error(BAD_FORMAT);
    }
    let noreply = last_is_noreply(words);
    let hold_is_zero = n > 2 && words[2] == b"0";
    let valid = n == 2 || (n == 3 && (hold_is_zero || noreply)) || (n == 4 && hold_is_zero && noreply);
    if !valid {
        let reply = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
        return Command::Error { reply, noreply };
    }
    Command::Delete { key: words[1].to_vec(), noreply }
}

/// `incr KEY DELTA [noreply]` (`incr: true`) or `decr KEY DELTA [noreply]`.
fn parse_arith(words: &[&[u8]], incr: bool) -> Command {
    let n = words.len();
    if !(3..=4).contains(&n) {
        return error("ERROR");
    }
    let noreply = last_is_noreply(words);
    if words[1].len() > KEY_MAX {
        return Command::Error { reply: BAD_FORMAT, noreply };
    }
    let Some(delta) = parse_u64(words[2]) else {
        return Command::Error { reply: "CLIENT_ERROR invalid numeric delta argument", noreply };
    };
    Command::Arith { key: words[1].to_vec(), delta, incr, noreply }
}

/// `touch KEY EXPTIME [noreply]`.
fn parse_touch(words: &[&[u8]]) -> Command {
    let n = words.len();
    if !(3..=4).contains(&n) {
        return error("ERROR");
    }
    let noreply = last_is_noreply(words);
    if words[1].len() > KEY_MAX {
        return Command::Error { reply: BAD_FORMAT, noreply };
    }
    let Some(exptime) = parse_i32(words[2]) else {
        return Command::Error { reply: "CLIENT_ERROR invalid exptime argument", noreply };
    };
    Command::Touch { key: words[1].to_vec(), exptime: exptime.into(), noreply }
}

/// `flush_all [DELAY] [noreply]`.
fn parse_flush_all(words: &[&[u8]]) -> Command {
    let n = words.len();
    if n > 3 {
        return error("ERROR");
    }
    let noreply = n > 1 && last_is_noreply(words);
    let delay = if n - usize::from(noreply) == 2 {
        match parse_i32(words[1]) {
            Some(delay) => delay.into(),
            None => return Command::Error { reply: "CLIENT_ERROR invalid exptime argument", noreply },
        }
    } else {
        0
    };
    Command::FlushAll { delay, noreply }
}

/// `verbosity LEVEL [noreply]`.
fn parse_verbosity(words: &[&[u8]]) -> Command {
    if !(2..=3).contains(&words.len()) {
        return error("ERROR");
    }
    // memcached takes a last `noreply` as such wherever it is, even as the level.
    let noreply = last_is_noreply(words);
    let Some(level) = parse_u32(words[1]) else {
        return Command::Error { reply: BAD_FORMAT, noreply };
    };
    Command::Verbosity { level: level.min(2), noreply }
}

/// `cache_memlimit MEGABYTES [noreply]`: from 8 MiB to a billion (beyond, memcached takes it for
/// bytes given by mistake).
fn parse_cache_memlimit(words: &[&[u8]]) -> Command {
    if !(2..=3).contains(&words.len()) {
        return error("ERROR");
    }
    // As for `verbosity`, a last `noreply` counts wherever it is.
    let noreply = last_is_noreply(words);
    let reply = match parse_u32(words[1]) {
        None => "ERROR",
        Some(..8) => "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m",
        Some(1_000_000_001..) => "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes",
        Some(megabytes) => return Command::CacheMemlimit { megabytes, noreply },
    };
    Command::Error { reply, noreply }
}

/// `stats GROUP …` (two words or more), as memcached 1.6's `process_stat` reads it: words after
/// the group are ignored, except for `detail` and `cachedump`, which take arguments.
fn parse_stats(words: &[&[u8]]) -> Command {
    let group = match words[1] {
        b"settings" => StatsGroup::Settings,
        b"items" => StatsGroup::Items,
        b"slabs" => StatsGroup::Slabs,
        b"sizes" => StatsGroup::Sizes,
        b"reset" => StatsGroup::Reset,
        b"detail" => match words.get(2).copied() {
            Some(b"on") => StatsGroup::Detail(true),
            Some(b"off") => StatsGroup::Detail(false),
            Some(b"dump") => StatsGroup::DetailDump,
            _ => return error("CLIENT_ERROR usage: stats detail on|off|dump"),
        },
        b"cachedump" => {
            if words.len() < 4 {
                return error("CLIENT_ERROR bad command line");
            }
            let (Some(class), Some(limit)) = (parse_u32(words[2]), parse_u32(words[3])) else {
                return error(BAD_FORMAT);
            };
            if class >= 64 {
                return error("CLIENT_ERROR Illegal slab id");
            }
            StatsGroup::CacheDump { class, limit }
        }
        _ => return error("ERROR"),
    };
    Command::StatsGroup(group)
}

/// A number as memcached's `safe_strtoul` stores it in a `uint32_t`: `strtoul` negates a `-`
/// number, which is then refused if it reads as negative (so `-0` is 0), and the low 32 bits kept.
fn parse_u32(token: &[u8]) -> Option<u32> {
    let n = match token.strip_prefix(b"-") {
        Some(rest) if !rest.starts_with(b"+") => parse_u64(rest)?.wrapping_neg(),
        Some(_) => return None,
        None => parse_u64(token)?,
    };
    if token.starts_with(b"-") && (n as i64) < 0 {
        return None;
    }
    Some(n as u32)
}

/// A storage command whose line ends at `used`: its arguments, then its data block.
fn parse_storage(name: &[u8], words: &[&[u8]], buf: &[u8], used: usize) -> Option<(Command, usize)> {
    let is_cas = name == b"cas";
    let n = words.len();
    let base = if is_cas { 6 } else { 5 };
    if n != base && n != base + 1 {
        return Some((Command::Error { reply: "ERROR", noreply: false }, used));
    }
    let noreply = last_is_noreply(words);
    let bad = Some((Command::Error { reply: BAD_FORMAT, noreply }, used));
    if words[1].len() > KEY_MAX {
        return bad;
    }
    // memcached reads the flags as an unsigned long and keeps the low 32 bits; the expiry and the
    // length as longs kept in 32-bit ints.
    let (Some(flags), Some(exptime), Some(vlen)) =
        (parse_u32(words[2]), parse_i32(words[3]), parse_i32(words[4]))
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
    // memcached adds 2 for the `\r\n` to an int, so it refuses what would overflow it.
    let Some(vlen) = usize::try_from(vlen).ok().filter(|&n| n <= i32::MAX as usize - 2) else { return bad };
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
        flags,
        exptime: exptime.into(),
        data: buf[used..used + vlen].to_vec(),
        cas,
        noreply,
    };
    Some((command, end))
}
