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

// TODO(stage 5): decode swallows what is left of a too-large item before parsing; encode_part
// streams a get's VALUE blocks.
impl Codec for MemcacheCodec {
    type Request = Command;
    type Response = Response;

    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Command, usize)>, CodecError> {
        todo!("stage 5: swallow a too-large item's data, else parse")
    }

    fn encode(&mut self, response: Response, out: &mut Vec<u8>) {
        todo!("stage 5: lines end in \\r\\n; VALUE key flags bytes [cas], the data, END")
    }

    /// `VALUE` blocks one item at a time, so a many-key `get` streams: `out` ends at most one item
    /// ([`ITEM_SIZE_MAX`]) past `limit`. Other answers are small and go whole.
    fn encode_part(&mut self, response: Response, out: &mut Vec<u8>, limit: usize) -> Option<Response> {
        // TODO(stage 5): stream a get's answer so it never sits whole in the connection's output.
        todo!("stage 5: VALUE blocks until out reaches limit, then the items left; END after the last")
    }
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

/// An unsigned decimal as memcached's `safe_strtoull` takes it: an optional `+`, digits, no overflow.
pub fn parse_u64(token: &[u8]) -> Option<u64> {
    todo!("stage 5: an optional +, then digits, no overflow")
}

/// A signed decimal as memcached's `safe_strtol` takes it.
pub fn parse_i64(token: &[u8]) -> Option<i64> {
    todo!("stage 5: an optional sign, then digits, no overflow")
}

// TODO(stage 5): the contract above, line by line; the tests hold memcached's exact answers.
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
    todo!(
        "stage 5: find the line; dispatch on the command name; every bad line becomes Command::Error with memcached's exact answer"
    )
}
