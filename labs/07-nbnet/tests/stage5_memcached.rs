//! Stage 5: a memcached text-protocol server on the library: every command and every error class
//! answered byte for byte as memcached 1.6 answers it, pipelining, `noreply`, expiry (on an
//! injectable clock), the 1 MB item limit, the memory limit with LRU eviction, and the `memkv`
//! binary.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;

use common::{
    RunningServer, START_TIME, connect, mc, mcs, memkv_config, read_exactly, read_to_close, start_memkv,
    start_memkv_manual, start_run, start_server,
};
use nbnet::memcache::protocol::parse;
use nbnet::memcache::{
    Command, ManualClock, MemcacheCodec, MemcacheService, Response, Store, StoreConfig, StoreMode,
    StoreStatus, SystemClock,
};
use nbnet::{Codec, ConnId, Connection, Options, Reads, Service, Shutdown};
use proptest::prelude::*;
use testkit::test;

/// The value of the line `STAT name value` in a `stats` answer. Fails the test when it has none.
#[track_caller]
fn stat(answer: &str, name: &str) -> String {
    let prefix = format!("STAT {name} ");
    let line = answer.lines().find_map(|line| line.strip_prefix(&prefix));
    line.unwrap_or_else(|| panic!("no {name} in {answer:?}")).to_owned()
}

/// [`stat`] as a number.
#[track_caller]
fn stat_number(answer: &str, name: &str) -> u64 {
    stat(answer, name).parse().unwrap_or_else(|_| panic!("{name} is not a number in {answer:?}"))
}

/// Runs `(request, answer)` pairs in order on one connection and checks each answer exactly.
fn script(pairs: &[(&str, &str)]) {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    for (request, answer) in pairs {
        assert_eq!(mcs(&mut client, request), *answer, "the answer to {request:?}");
    }
}

#[test]
fn storage_commands() {
    script(&[
        ("set a 5 0 3\r\nabc\r\n", "STORED\r\n"),
        ("get a\r\n", "VALUE a 5 3\r\nabc\r\nEND\r\n"),
        ("add a 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
        ("add b 0 0 1\r\nx\r\n", "STORED\r\n"),
        ("replace c 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
        ("replace b 7 0 2\r\nyy\r\n", "STORED\r\n"),
        ("append a 9 0 2\r\nde\r\n", "STORED\r\n"),
        ("prepend a 9 0 2\r\n12\r\n", "STORED\r\n"),
        ("append zz 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
        ("get a b c\r\n", "VALUE a 5 7\r\n12abcde\r\nVALUE b 7 2\r\nyy\r\nEND\r\n"),
        ("set empty 0 0 0\r\n\r\n", "STORED\r\n"),
        ("get empty\r\n", "VALUE empty 0 0\r\n\r\nEND\r\n"),
        ("set flags 4294967295 0 1\r\nf\r\n", "STORED\r\n"),
        ("get flags\r\n", "VALUE flags 4294967295 1\r\nf\r\nEND\r\n"),
    ]);
}

#[test]
fn gets_and_cas() {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    assert_eq!(mcs(&mut client, "set k 0 0 1\r\nx\r\n"), "STORED\r\n", "the answer to set k 0 0 1");
    let answer = mcs(&mut client, "gets k\r\n");
    let header = answer.lines().next().unwrap().to_string();
    let unique: u64 = header.rsplit(' ').next().unwrap().parse().expect("a CAS value");
    assert_ne!(unique, 0, "a CAS value is never 0, which means none");
    assert_eq!(answer, format!("VALUE k 0 1 {unique}\r\nx\r\nEND\r\n"), "the answer to gets k");
    assert_eq!(
        mcs(&mut client, &format!("cas k 0 0 1 {unique}\r\ny\r\n")),
        "STORED\r\n",
        "the answer to cas k 0 0 1 {unique}"
    );
    assert_eq!(
        mcs(&mut client, &format!("cas k 0 0 1 {unique}\r\nz\r\n")),
        "EXISTS\r\n",
        "the answer to cas k 0 0 1 {unique}"
    );
    assert_eq!(
        mcs(&mut client, "cas nope 0 0 1 1\r\nz\r\n"),
        "NOT_FOUND\r\n",
        "the answer to cas nope 0 0 1 1"
    );
    assert_eq!(mcs(&mut client, "get k\r\n"), "VALUE k 0 1\r\ny\r\nEND\r\n", "the answer to get k");
    let second = mcs(&mut client, "gets k\r\n");
    assert_ne!(second, format!("VALUE k 0 1 {unique}\r\ny\r\nEND\r\n"), "every change gets a new CAS value");
}

#[test]
fn delete_incr_decr_touch_flush_version_verbosity() {
    script(&[
        ("set n 0 0 3\r\n100\r\n", "STORED\r\n"),
        ("incr n 5\r\n", "105\r\n"),
        ("decr n 6\r\n", "99\r\n"),
        ("get n\r\n", "VALUE n 0 3\r\n99 \r\nEND\r\n"),
        ("decr n 1000\r\n", "0\r\n"),
        ("incr n 18446744073709551615\r\n", "18446744073709551615\r\n"),
        ("incr n 2\r\n", "1\r\n"),
        ("incr nope 1\r\n", "NOT_FOUND\r\n"),
        ("set s 0 0 2\r\nab\r\n", "STORED\r\n"),
        ("incr s 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
        ("set digits-first 0 0 4\r\n12ab\r\n", "STORED\r\n"),
        ("incr digits-first 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
        ("incr n x\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
        ("incr n -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
        ("touch n 100\r\n", "TOUCHED\r\n"),
        ("touch nope 100\r\n", "NOT_FOUND\r\n"),
        ("touch n x\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
        ("delete n\r\n", "DELETED\r\n"),
        ("delete n\r\n", "NOT_FOUND\r\n"),
        ("delete s 0\r\n", "DELETED\r\n"),
        ("delete s 5\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"),
        ("verbosity 1\r\n", "OK\r\n"),
        ("verbosity x\r\n", "CLIENT_ERROR bad command line format\r\n"),
        ("set a 0 0 1\r\na\r\n", "STORED\r\n"),
        ("flush_all\r\n", "OK\r\n"),
        ("get a\r\n", "END\r\n"),
        ("flush_all x\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
    ]);
}

#[test]
fn gat_and_gats_get_and_touch() {
    let (server, clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    let mut ask = |request: &str| mcs(&mut client, request);
    assert_eq!(ask("set a 1 10 2\r\nhi\r\n"), "STORED\r\n", "the answer to set a");
    assert_eq!(
        ask("gat 100 a nope\r\n"),
        "VALUE a 1 2\r\nhi\r\nEND\r\n",
        "the answer to gat of a hit and a miss"
    );
    clock.advance(50);
    assert_eq!(ask("get a\r\n"), "VALUE a 1 2\r\nhi\r\nEND\r\n", "gat moved the expiry past 10 s");
    let gats = ask("gats 100 a\r\n");
    let unique = gats.lines().next().and_then(|line| line.rsplit(' ').next()).unwrap_or_default().to_string();
    assert!(unique.parse::<u64>().is_ok(), "gats shows a CAS value: {gats:?}");
    assert_eq!(gats, format!("VALUE a 1 2 {unique}\r\nhi\r\nEND\r\n"), "the answer to gats");
    assert_eq!(ask("gat 10\r\n"), "END\r\n", "gat of no key, as memcached answers it");
    assert_eq!(ask("gat\r\n"), "ERROR\r\n", "gat without its expiry");
    assert_eq!(ask("gat x a\r\n"), "CLIENT_ERROR invalid exptime argument\r\n", "gat with a bad expiry");
    let long_key = "k".repeat(251);
    assert_eq!(
        ask(&format!("gat 1 {long_key}\r\n")),
        "CLIENT_ERROR bad command line format\r\n",
        "gat of a long key"
    );
    assert_eq!(
        ask("gat -1 a\r\n"),
        "VALUE a 1 2\r\nhi\r\nEND\r\n",
        "a negative expiry still answers the item"
    );
    assert_eq!(ask("get a\r\n"), "END\r\n", "and expires it");
}

#[test]
fn admin_commands_are_answered_as_memcached_answers_them() {
    script(&[
        ("verbosity noreply\r\n", ""),
        ("verbosity x noreply\r\n", ""),
        ("verbosity 1 2\r\n", "OK\r\n"),
        ("verbosity 1 2 3\r\n", "ERROR\r\n"),
        ("cache_memlimit 100\r\n", "OK\r\n"),
        ("cache_memlimit 100 noreply\r\n", ""),
        ("cache_memlimit 7\r\n", "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"),
        ("cache_memlimit 2000000000\r\n", "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n"),
        ("cache_memlimit x\r\n", "ERROR\r\n"),
        ("cache_memlimit\r\n", "ERROR\r\n"),
        ("shutdown\r\n", "ERROR: shutdown not enabled\r\n"),
        ("shutdown graceful\r\n", "ERROR: shutdown not enabled\r\n"),
        ("stats reset\r\n", "RESET\r\n"),
        ("stats detail on\r\n", "OK\r\n"),
        ("stats detail off\r\n", "OK\r\n"),
        ("stats detail dump\r\n", "END\r\n"),
        ("stats detail\r\n", "CLIENT_ERROR usage: stats detail on|off|dump\r\n"),
        ("stats sizes\r\n", "STAT sizes_status disabled\r\nEND\r\n"),
        ("stats cachedump 2 0\r\n", "END\r\n"),
        ("stats cachedump 64 0\r\n", "CLIENT_ERROR Illegal slab id\r\n"),
        ("stats cachedump 1\r\n", "CLIENT_ERROR bad command line\r\n"),
        ("stats cachedump x 0\r\n", "CLIENT_ERROR bad command line format\r\n"),
        ("stats bogus\r\n", "ERROR\r\n"),
    ]);
}

#[test]
fn stats_groups_report_the_store() {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    let mut ask = |request: &str| mcs(&mut client, request);
    assert_eq!(ask("set a 0 0 1\r\nx\r\nset bb 0 0 2\r\nxy\r\n"), "STORED\r\nSTORED\r\n", "two sets");
    assert_eq!(ask("get a nope\r\n"), "VALUE a 0 1\r\nx\r\nEND\r\n", "a hit and a miss");
    assert_eq!(ask("verbosity 5\r\n"), "OK\r\n", "the answer to verbosity 5");
    let settings = ask("stats settings\r\n");
    assert_eq!(stat(&settings, "verbosity"), "2", "verbosity, capped at 2 as memcached caps it");
    assert_eq!(stat(&settings, "maxbytes"), (64 << 20).to_string(), "maxbytes: the store's limit");
    assert_eq!(stat(&settings, "num_threads"), "2", "num_threads");
    assert_eq!(stat(&ask("stats items\r\n"), "items:1:number"), "2", "the items of class 1: all of them");
    let mut dump: Vec<String> = ask("stats cachedump 1 0\r\n").lines().map(str::to_string).collect();
    assert_eq!(dump.pop().as_deref(), Some("END"), "a cachedump ends with END");
    dump.sort();
    assert_eq!(dump, ["ITEM a [1 b; 0 s]", "ITEM bb [2 b; 0 s]"], "the cachedump of class 1");
    assert_eq!(ask("stats cachedump 1 1\r\n").lines().count(), 2, "a cachedump limited to one item, and END");
    assert_eq!(stat(&ask("stats\r\n"), "get_hits"), "1", "get_hits before a reset");
    assert_eq!(ask("stats reset\r\n"), "RESET\r\n", "the answer to stats reset");
    let general = ask("stats\r\n");
    assert_eq!(stat(&general, "get_hits"), "0", "get_hits after a reset");
    assert_eq!(stat(&general, "curr_items"), "2", "curr_items: a reset keeps the items");
    assert_eq!(ask("cache_memlimit 8\r\n"), "OK\r\n", "the answer to cache_memlimit 8");
    assert_eq!(stat(&ask("stats\r\n"), "limit_maxbytes"), (8 << 20).to_string(), "the new limit");
}

#[test]
fn numbers_are_read_as_memcached_reads_them() {
    script(&[
        // The expiry and the length are longs stored in 32-bit ints: 4294967297 is 1, 2147483648
        // negative; the flags are cut to their low 32 bits.
        ("set a 0 4294967297 1\r\nx\r\n", "STORED\r\n"),
        ("get a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n"),
        ("set b 0 2147483648 1\r\nx\r\n", "STORED\r\n"),
        ("get b\r\n", "END\r\n"),
        ("set c 0 0 4294967298\r\nxy\r\n", "STORED\r\n"),
        ("get c\r\n", "VALUE c 0 2\r\nxy\r\nEND\r\n"),
        ("set d 0 0 2147483646\r\n", "CLIENT_ERROR bad command line format\r\n"),
        ("set e 18446744073709551615 0 1\r\nx\r\n", "STORED\r\n"),
        ("get e\r\n", "VALUE e 4294967295 1\r\nx\r\nEND\r\n"),
        ("set f -0 0 1\r\nx\r\n", "STORED\r\n"),
        ("set g 0 +5 1\r\nx\r\n", "STORED\r\n"),
        ("touch g 2147483648\r\n", "TOUCHED\r\n"),
        ("get g\r\n", "END\r\n"),
    ]);
}

#[test]
fn every_error_class_is_answered_and_the_connection_goes_on() {
    let long_key = "k".repeat(251);
    script(&[
        ("bogus\r\n", "ERROR\r\n"),
        ("\r\n", "ERROR\r\n"),
        ("GET a\r\n", "ERROR\r\n"),
        ("get\r\n", "ERROR\r\n"),
        ("set a 0 0\r\n", "ERROR\r\n"),
        ("set a 0 0 1 noreply extra\r\n", "ERROR\r\n"),
        ("incr a\r\n", "ERROR\r\n"),
        ("touch a\r\n", "ERROR\r\n"),
        ("delete\r\n", "ERROR\r\n"),
        ("verbosity\r\n", "ERROR\r\n"),
        ("set a x 0 1\r\n", "CLIENT_ERROR bad command line format\r\n"),
        ("set a -1 0 1\r\n", "CLIENT_ERROR bad command line format\r\n"),
        ("set a 0 0 -1\r\n", "CLIENT_ERROR bad command line format\r\n"),
        ("cas a 0 0 1 x\r\n", "CLIENT_ERROR bad command line format\r\n"),
        (&format!("get {long_key}\r\n"), "CLIENT_ERROR bad command line format\r\n"),
        (&format!("set {long_key} 0 0 1\r\n"), "CLIENT_ERROR bad command line format\r\n"),
        ("set a 0 0 3\r\nabcde\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
        ("set a 0 0 1\r\nx\r\n", "STORED\r\n"),
        ("get a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n"),
    ]);
}

#[test]
fn the_protocols_edges_are_answered_as_memcached_answers_them() {
    // Every answer here is memcached 1.6's to the same line, in the same order.
    const BAD: &str = "CLIENT_ERROR bad command line format\r\n";
    let (longest, too_long) = ("k".repeat(250), "k".repeat(251));
    let lines = [
        // A key of 250 bytes is the longest.
        (format!("set {longest} 0 0 1\r\n7\r\n"), "STORED\r\n".to_owned()),
        (format!("touch {longest} 0\r\n"), "TOUCHED\r\n".to_owned()),
        (format!("incr {longest} 1\r\n"), "8\r\n".to_owned()),
        (format!("gat 0 {longest}\r\n"), format!("VALUE {longest} 0 1\r\n8\r\nEND\r\n")),
        (format!("get {longest}\r\n"), format!("VALUE {longest} 0 1\r\n8\r\nEND\r\n")),
        (format!("gets {too_long}\r\n"), BAD.to_owned()),
        (format!("touch {too_long} 0\r\n"), BAD.to_owned()),
        (format!("incr {too_long} 1\r\n"), BAD.to_owned()),
        (format!("delete {too_long}\r\n"), BAD.to_owned()),
        (format!("delete {longest}\r\n"), "DELETED\r\n".to_owned()),
        // A last noreply silences the answer, wherever it stands.
        ("set k 0 0 1\r\n1\r\n".to_owned(), "STORED\r\n".to_owned()),
        ("incr k noreply\r\ndecr k noreply\r\ntouch k noreply\r\n".to_owned(), String::new()),
        ("set k 0 0 noreply\r\ncas k 0 0 1 noreply\r\n".to_owned(), String::new()),
        // A delete with a hold time other than 0 deletes nothing, silenced or not.
        (
            "delete k 1 noreply\r\ndelete k x noreply\r\nget k\r\n".to_owned(),
            "VALUE k 0 1\r\n1\r\nEND\r\n".to_owned(),
        ),
        (
            "delete k 0 extra\r\n".to_owned(),
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n".to_owned(),
        ),
        ("delete k noreply\r\nget k\r\n".to_owned(), "END\r\n".to_owned()),
        ("set k 0 0 1\r\n1\r\n".to_owned(), "STORED\r\n".to_owned()),
        ("delete k 0 noreply\r\nget k\r\n".to_owned(), "END\r\n".to_owned()),
        ("set f 0 0 1\r\n1\r\n".to_owned(), "STORED\r\n".to_owned()),
        ("flush_all 0 noreply\r\nget f\r\n".to_owned(), "END\r\n".to_owned()),
        ("flush_all 0 noreply extra\r\n".to_owned(), "ERROR\r\n".to_owned()),
        ("stats items\r\n".to_owned(), "END\r\n".to_owned()),
        // A sign after a minus makes no number.
        ("touch k -+5\r\n".to_owned(), "CLIENT_ERROR invalid exptime argument\r\n".to_owned()),
        ("set k -+5 0 1\r\n".to_owned(), BAD.to_owned()),
        ("set k 0 -+5 1\r\n".to_owned(), BAD.to_owned()),
        ("set k -+0 0 1\r\n".to_owned(), BAD.to_owned()),
        // A length up to 2^31 - 3 is a number, then too large; one more is no length at all.
        ("set k 0 0 2147483646\r\n".to_owned(), BAD.to_owned()),
    ];
    let pairs: Vec<(&str, &str)> =
        lines.iter().map(|(line, answer)| (line.as_str(), answer.as_str())).collect();
    script(&pairs);
    let (command, _) = parse(b"set k 0 0 2147483645\r\n").unwrap().expect("a whole line");
    assert_eq!(command, Command::TooLarge { noreply: false }, "a set of 2^31 - 3 bytes");
    let (server, _clock) = start_memkv_manual();
    let slabs = mcs(&mut connect(server.addr), "stats slabs\r\n");
    assert!(
        slabs.starts_with("STAT ") && slabs.contains("STAT active_slabs ") && slabs.ends_with("END\r\n"),
        "the answer to stats slabs: {slabs:?}"
    );
}

#[test]
fn a_connection_over_the_limit_is_refused_as_memcached_refuses_it() {
    let store = Arc::new(Store::new(StoreConfig::default(), Arc::new(ManualClock::new(START_TIME))));
    let server = start_server(MemcacheService::new(store, 1), Options { max_conns: 1, ..Options::default() });
    let mut first = connect(server.addr);
    assert_eq!(mcs(&mut first, "set a 0 0 1\r\n1\r\n"), "STORED\r\n", "the answer on the first connection");
    let mut second = connect(server.addr);
    assert_eq!(
        read_to_close(&mut second).escape_ascii().to_string(),
        "ERROR Too many open connections\\r\\n",
        "what a connection over max_conns reads before the close"
    );
}

#[test]
fn signed_numbers_and_line_limits_are_memcacheds() {
    use nbnet::memcache::protocol::{GET_LINE_MAX, LINE_MAX, parse_i64};
    for (text, value) in [
        ("-0", Some(0)),
        ("+5", Some(5)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("-9223372036854775809", None),
        ("9223372036854775808", None),
        ("-+5", None),
        ("--5", None),
    ] {
        assert_eq!(parse_i64(text.as_bytes()), value, "parse_i64({text:?})");
    }
    // A line with no end yet may be as long as the limit; `get` and `gets` have a longer one.
    for (start, max) in [("set ", LINE_MAX), ("get ", GET_LINE_MAX), ("gets ", GET_LINE_MAX)] {
        let mut line = start.as_bytes().to_vec();
        line.resize(max, b'k');
        assert_eq!(parse(&line).ok(), Some(None), "{start:?}: an unfinished line of {max} bytes waits");
        line.push(b'k');
        assert!(parse(&line).is_err(), "{start:?}: an unfinished line of {} bytes is refused", max + 1);
    }
}

#[test]
fn an_item_over_one_megabyte_is_refused_and_its_data_swallowed() {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    let mut request = b"set big 0 0 2000000\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'x', 2_000_000));
    request.extend_from_slice(b"\r\nget big\r\n");
    assert_eq!(
        mc(&mut client, &request).escape_ascii().to_string(),
        "SERVER_ERROR object too large for cache\\r\\nEND\\r\\n",
        "the answer to the request"
    );
    let mut fits = b"set fits 0 0 1000000\r\n".to_vec();
    fits.extend(std::iter::repeat_n(b'y', 1_000_000));
    fits.extend_from_slice(b"\r\n");
    assert_eq!(
        mc(&mut client, &fits).escape_ascii().to_string(),
        "STORED\\r\\n",
        "the answer to the request"
    );
    assert_eq!(
        mc(&mut client, b"get fits\r\n").len(),
        "VALUE fits 0 1000000\r\n".len() + 1_000_002 + 5,
        "the length of the answer to get fits"
    );
    // The limit counts the key, the data and memcached's per-item overhead, and is inclusive.
    use nbnet::memcache::protocol::{ITEM_OVERHEAD, ITEM_SIZE_MAX};
    let largest = ITEM_SIZE_MAX - ITEM_OVERHEAD - "edge".len();
    for (len, answer) in
        [(largest, "STORED\\r\\n"), (largest + 1, "SERVER_ERROR object too large for cache\\r\\n")]
    {
        let mut set = format!("set edge 0 0 {len}\r\n").into_bytes();
        set.extend(std::iter::repeat_n(b'z', len));
        set.extend_from_slice(b"\r\n");
        assert_eq!(
            mc(&mut client, &set).escape_ascii().to_string(),
            answer,
            "the answer to a set of {len} bytes"
        );
    }
}

#[test]
fn a_too_large_items_data_is_discarded_as_it_comes() {
    // A connection may hold only 64 KiB of an unfinished request here: a server that waited for
    // the whole 2 MB item before refusing it would have to close the connection instead.
    let store = Arc::new(Store::new(StoreConfig::default(), Arc::new(ManualClock::new(START_TIME))));
    let options = Options { workers: 2, max_input: 64 << 10, ..Options::default() };
    let server = start_server(MemcacheService::new(store, 2), options);
    let mut client = connect(server.addr);
    let mut request = b"set big 0 0 2000000\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'x', 2_000_000));
    request.extend_from_slice(b"\r\nget big\r\n");
    assert_eq!(
        mc(&mut client, &request).escape_ascii().to_string(),
        "SERVER_ERROR object too large for cache\\r\\nEND\\r\\n",
        "the answers to a 2 MB set and a get of it, over a connection holding at most 64 KiB"
    );
}

#[test]
fn a_multi_get_larger_than_max_output_is_streamed() {
    let (_server, mut client, mut want) = sixteen_items_of_a_megabyte();
    want.push_str("END\r\n");
    // 16 MB of answer, far over the 2 MiB a connection may have waiting (`max_output`) and more
    // than the socket buffers hold: it must be encoded as the socket takes it, not built whole.
    let got = mc(&mut client, format!("get {SIXTEEN_KEYS}\r\n").as_bytes());
    assert_eq!(got.len(), want.len(), "the length of the 16-key answer");
    assert!(got == want.as_bytes(), "the 16-key answer, byte for byte");
}

#[test]
fn requests_pipelined_behind_a_streamed_answer_are_answered_in_order() {
    let (_server, mut client, mut want) = sixteen_items_of_a_megabyte();
    want.push_str("END\r\nSTORED\r\nVALUE x 0 1\r\ny\r\nEND\r\n");
    // A small receive buffer, so the 16 MB answer ends on a writable event long after the set and
    // the get behind it were read, with no more bytes coming to wake the connection for them.
    set_receive_buffer(&client, 64 << 10);
    let request = format!("get {SIXTEEN_KEYS}\r\nset x 0 0 1\r\ny\r\nget x\r\n");
    client.write_all(request.as_bytes()).expect("write the pipelined requests");
    let got = read_exactly(&mut client, want.len());
    assert!(got == want.as_bytes(), "the three answers, in order, byte for byte");
}

#[test]
fn a_streamed_answer_that_ends_inside_a_readable_event_still_answers_the_requests_behind_it() {
    // The connection driven by hand over a socket whose client reads between two of the server's
    // writes: the write of the second of two 1 MB items finds it full, the next finds it empty.
    // So the answer ends inside the readable event that brought the requests behind it, and no
    // event will come for those: the connection must answer them before it says it is done.
    let store = Arc::new(Store::new(StoreConfig::default(), Arc::new(ManualClock::new(START_TIME))));
    let service = MemcacheService::new(store, 1);
    let value = "v".repeat(1_000_000);
    let set = |key: &str| format!("set {key} 0 0 1000000\r\n{value}\r\n");
    let request = format!("{}{}get a b\r\nset x 0 0 1\r\ny\r\nget x\r\n", set("a"), set("b"));
    let socket =
        FullOnce { input: request.into_bytes(), read: 0, output: Vec::new(), full_at: Some(1_000_000) };
    let mut conn =
        Connection::new(socket, service.codec(), ConnId { token: 0, generation: 1 }, None, 4 << 20, 8 << 20);
    let mut scratch = vec![0; 64 << 10];
    conn.on_readable(&service, None, &mut scratch, Reads::UntilWouldBlock);
    // What an edge-triggered loop does next: a writable event while output is pending (this
    // socket always has room now), and a read after it if it was not registered for reading. A
    // connection that wants only to read waits for bytes that will never come.
    for _ in 0..1_000 {
        if conn.is_closed() || !conn.wants_write() {
            break;
        }
        let reading = conn.wants_read();
        conn.on_writable();
        if !reading {
            conn.on_readable(&service, None, &mut scratch, Reads::UntilWouldBlock);
        }
    }
    let values = format!("VALUE a 0 1000000\r\n{value}\r\nVALUE b 0 1000000\r\n{value}\r\nEND\r\n");
    let want = format!("STORED\r\nSTORED\r\n{values}STORED\r\nVALUE x 0 1\r\ny\r\nEND\r\n");
    let got = &conn.stream().output;
    assert_eq!(got.len(), want.len(), "the length of the five answers written");
    assert!(got == want.as_bytes(), "the five answers, in order, byte for byte");
}

/// A socket holding `input` whose writes are all taken but one: the first past `full_at` bytes
/// says `WouldBlock`, as a full socket whose client then reads everything.
struct FullOnce {
    input: Vec<u8>,
    read: usize,
    output: Vec<u8>,
    full_at: Option<usize>,
}

impl std::io::Read for FullOnce {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.input[self.read..];
        if rest.is_empty() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.read += n;
        Ok(n)
    }
}

impl Write for FullOnce {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.full_at.is_some_and(|at| self.output.len() >= at) {
            self.full_at = None;
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The keys [`sixteen_items_of_a_megabyte`] stores, as a `get` names them.
const SIXTEEN_KEYS: &str = "k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 k11 k12 k13 k14 k15";

/// A server that may keep 2 MiB of answer waiting per connection, a client of it, and 16 items of
/// 1 MB stored through that client; with the answer to `get SIXTEEN_KEYS` but its final `END`.
fn sixteen_items_of_a_megabyte() -> (RunningServer, std::net::TcpStream, String) {
    let store = StoreConfig { memory_limit: 256 << 20, shards: 4 };
    let store = Arc::new(Store::new(store, Arc::new(ManualClock::new(START_TIME))));
    let options = Options { workers: 2, max_output: 2 << 20, ..Options::default() };
    let server = start_server(MemcacheService::new(store, 2), options);
    let mut client = connect(server.addr);
    let value = "v".repeat(1_000_000);
    let mut want = String::new();
    for i in 0..16 {
        let set = format!("set k{i} 0 0 1000000\r\n{value}\r\n");
        assert_eq!(mcs(&mut client, &set), "STORED\r\n", "the answer to set k{i}");
        want.push_str(&format!("VALUE k{i} 0 1000000\r\n{value}\r\n"));
    }
    (server, client, want)
}

/// Sets `stream`'s SO_RCVBUF.
fn set_receive_buffer(stream: &std::net::TcpStream, bytes: libc::c_int) {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt reads `bytes`, a valid int of the size given, during the call.
    let done = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&bytes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(done, 0, "the result of setsockopt(SO_RCVBUF)");
}

#[test]
fn an_item_bigger_than_its_share_of_memory_is_refused() {
    // 1 MiB over 16 shards: 64 KiB each, so a 100 KB item fits no shard.
    let server = start_memkv(StoreConfig { memory_limit: 1 << 20, shards: 16 }, Arc::new(SystemClock));
    let mut client = connect(server.addr);
    let mut request = b"set big 0 0 100000\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'x', 100_000));
    request.extend_from_slice(b"\r\nget big\r\n");
    assert_eq!(
        mc(&mut client, &request).escape_ascii().to_string(),
        "SERVER_ERROR out of memory storing object\\r\\nEND\\r\\n",
        "the answer to the request"
    );
}

#[test]
fn a_client_sending_one_byte_at_a_time_is_answered() {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    for &byte in b"set a 3 0 5\r\nhello\r\nget a\r\n" {
        client.write_all(&[byte]).expect("write one byte");
    }
    assert_eq!(
        mcs(&mut client, ""),
        "STORED\r\nVALUE a 3 5\r\nhello\r\nEND\r\n",
        "the answers to the bytes sent"
    );
}

#[test]
fn noreply_suppresses_answers() {
    script(&[
        ("set a 0 0 1 noreply\r\nx\r\n", ""),
        ("add a 0 0 1 noreply\r\ny\r\n", ""),
        ("set n 0 0 1 noreply\r\n1\r\n", ""),
        ("incr n 1 noreply\r\n", ""),
        ("touch a 10 noreply\r\n", ""),
        ("delete nope noreply\r\n", ""),
        ("flush_all 100 noreply\r\n", ""),
        ("verbosity 1 noreply\r\n", ""),
        ("get a n\r\n", "VALUE a 0 1\r\nx\r\nVALUE n 0 1\r\n2\r\nEND\r\n"),
    ]);
}

#[test]
fn a_thousand_pipelined_requests_in_one_write() {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    let mut wire = String::new();
    let mut want = String::new();
    for i in 0..500 {
        wire.push_str(&format!("set key{i} {i} 0 {}\r\nvalue{i}\r\n", format!("value{i}").len()));
        wire.push_str(&format!("get key{i}\r\n"));
        want.push_str(&format!(
            "STORED\r\nVALUE key{i} {i} {}\r\nvalue{i}\r\nEND\r\n",
            format!("value{i}").len()
        ));
    }
    assert_eq!(
        String::from_utf8(mc(&mut client, wire.as_bytes())).unwrap(),
        want,
        "the answers to 500 sets and gets"
    );
}

#[test]
fn quit_closes_the_connection() {
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    client.write_all(b"set a 0 0 1\r\nx\r\nquit\r\nget a\r\n").expect("write");
    assert_eq!(
        read_to_close(&mut client).escape_ascii().to_string(),
        "STORED\\r\\n",
        "what the server sent before it closed the connection"
    );
}

#[test]
fn relative_expiry_follows_the_clock() {
    let (server, clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    assert_eq!(mcs(&mut client, "set a 0 10 1\r\nx\r\n"), "STORED\r\n", "the answer to set a 0 10 1");
    clock.advance(9);
    assert_eq!(mcs(&mut client, "get a\r\n"), "VALUE a 0 1\r\nx\r\nEND\r\n", "the answer to get a");
    clock.advance(1);
    assert_eq!(mcs(&mut client, "get a\r\n"), "END\r\n", "expired at exactly its time");
    assert_eq!(mcs(&mut client, "set b 0 -1 1\r\nx\r\n"), "STORED\r\n", "the answer to set b 0 -1 1");
    assert_eq!(mcs(&mut client, "get b\r\n"), "END\r\n", "a negative time expires at once");
    assert_eq!(mcs(&mut client, "set c 0 5 1\r\nx\r\n"), "STORED\r\n", "the answer to set c 0 5 1");
    assert_eq!(mcs(&mut client, "touch c 100\r\n"), "TOUCHED\r\n", "the answer to touch c 100");
    clock.advance(50);
    assert_eq!(mcs(&mut client, "get c\r\n"), "VALUE c 0 1\r\nx\r\nEND\r\n", "touch moved the expiry");
    assert_eq!(mcs(&mut client, "set d 0 0 1\r\nx\r\n"), "STORED\r\n", "the answer to set d 0 0 1");
    clock.advance(1_000_000_000);
    assert_eq!(mcs(&mut client, "get d\r\n"), "VALUE d 0 1\r\nx\r\nEND\r\n", "0 never expires");
}

#[test]
fn an_expiry_over_thirty_days_is_a_unix_time() {
    let (server, clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    let at = START_TIME + 100;
    assert_eq!(
        mcs(&mut client, &format!("set a 0 {at} 1\r\nx\r\n")),
        "STORED\r\n",
        "the answer to set a 0 {at} 1"
    );
    clock.advance(99);
    assert_eq!(mcs(&mut client, "get a\r\n"), "VALUE a 0 1\r\nx\r\nEND\r\n", "the answer to get a");
    clock.advance(1);
    assert_eq!(mcs(&mut client, "get a\r\n"), "END\r\n", "the answer to get a");
    let past = START_TIME - 5;
    assert_eq!(
        mcs(&mut client, &format!("set b 0 {past} 1\r\nx\r\n")),
        "STORED\r\n",
        "the answer to set b 0 {past} 1"
    );
    assert_eq!(mcs(&mut client, "get b\r\n"), "END\r\n", "a Unix time in the past has expired");
    let thirty_days = 60 * 60 * 24 * 30;
    assert_eq!(
        mcs(&mut client, &format!("set c 0 {thirty_days} 1\r\nx\r\n")),
        "STORED\r\n",
        "the answer to set c 0 {thirty_days} 1"
    );
    clock.advance(thirty_days - 1);
    assert_eq!(
        mcs(&mut client, "get c\r\n"),
        "VALUE c 0 1\r\nx\r\nEND\r\n",
        "30 days exactly is still relative"
    );
}

#[test]
fn flush_all_with_a_delay_waits_for_its_time() {
    let (server, clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    assert_eq!(mcs(&mut client, "set a 0 0 1\r\nx\r\n"), "STORED\r\n", "the answer to set a 0 0 1");
    assert_eq!(mcs(&mut client, "flush_all 10\r\n"), "OK\r\n", "the answer to flush_all 10");
    clock.advance(9);
    assert_eq!(mcs(&mut client, "get a\r\n"), "VALUE a 0 1\r\nx\r\nEND\r\n", "the answer to get a");
    clock.advance(1);
    assert_eq!(mcs(&mut client, "get a\r\n"), "END\r\n", "the answer to get a");
}

#[test]
fn the_least_recently_used_items_are_evicted_under_the_memory_limit() {
    let limit = 1 << 20;
    let clock = Arc::new(ManualClock::new(START_TIME));
    let store = Store::new(StoreConfig { memory_limit: limit, shards: 16 }, clock);
    let value = vec![b'v'; 1000];
    let hot: Vec<String> = (0..10).map(|i| format!("hot{i}")).collect();
    for key in &hot {
        assert_eq!(
            store.store(StoreMode::Set, key.as_bytes(), 0, 0, value.clone(), 0),
            StoreStatus::Stored,
            "the status of set {key}"
        );
    }
    for i in 0..5000 {
        let key = format!("cold{i}");
        assert_eq!(
            store.store(StoreMode::Set, key.as_bytes(), 0, 0, value.clone(), 0),
            StoreStatus::Stored,
            "the status of set {key}"
        );
        for key in &hot {
            assert!(store.get(key.as_bytes()).is_some(), "{key}, used all along, is kept");
        }
    }
    let stats = store.stats();
    assert!(stats.bytes <= limit as u64, "{stats:?}");
    assert!(stats.evictions > 3000, "the cold items made room for each other: {stats:?}");
    assert!(store.get(b"cold0").is_none(), "the oldest cold item was evicted");
    assert!(store.get(b"cold4999").is_some(), "the newest is kept");
    assert_eq!(stats.limit, limit as u64, "the limit the store reports");
}

#[test]
fn the_server_reports_evictions_in_stats() {
    let server = start_memkv(StoreConfig { memory_limit: 1 << 20, shards: 4 }, Arc::new(SystemClock));
    let mut client = connect(server.addr);
    let value = "v".repeat(10_000);
    for i in 0..300 {
        assert_eq!(
            mcs(&mut client, &format!("set k{i} 0 0 10000\r\n{value}\r\n")),
            "STORED\r\n",
            "the answer to set k{i} 0 0 10000"
        );
    }
    let stats = mcs(&mut client, "stats\r\n");
    assert!(stat_number(&stats, "evictions") > 0, "{stats}");
    assert!((1..=1 << 20).contains(&stat_number(&stats, "bytes")), "bytes held, at most the limit: {stats}");
    assert_eq!(stat_number(&stats, "limit_maxbytes"), 1 << 20, "limit_maxbytes");
    assert!(stats.ends_with("END\r\n"));
    // cache_memlimit moves the limit every shard evicts at: 8 MiB (its least) of 64 here.
    let server = start_memkv(StoreConfig { memory_limit: 64 << 20, shards: 4 }, Arc::new(SystemClock));
    let mut small = connect(server.addr);
    assert_eq!(mcs(&mut small, "cache_memlimit 8\r\n"), "OK\r\n", "the answer to cache_memlimit 8");
    for i in 0..1_000 {
        let answer = mcs(&mut small, &format!("set k{i} 0 0 10000\r\n{value}\r\n"));
        assert_eq!(answer, "STORED\r\n", "the answer to set k{i} 0 0 10000 under an 8 MiB limit");
    }
    let limited = mcs(&mut small, "stats\r\n");
    assert!(stat_number(&limited, "evictions") > 0, "evictions under cache_memlimit 8: {limited}");
    let bytes = stat_number(&limited, "bytes");
    assert!((1..=8 << 20).contains(&bytes), "bytes under cache_memlimit 8: {limited}");

    // flush_all drops the items, not the counters.
    assert_eq!(mcs(&mut client, "flush_all\r\n"), "OK\r\n", "the answer to flush_all");
    let after = mcs(&mut client, "stats\r\n");
    for name in ["evictions", "cmd_set"] {
        assert_eq!(stat(&after, name), stat(&stats, name), "{name} after flush_all");
    }
}

#[test]
fn gat_counts_as_a_touch_and_flush_all_keeps_the_counters() {
    // memcached 1.6 answers `stats` after these lines with these counters.
    let (server, _clock) = start_memkv_manual();
    let mut client = connect(server.addr);
    for line in [
        "set a 0 0 1\r\n1\r\n",
        "gat 0 a\r\n",
        "gat 0 nope\r\n",
        "get a\r\n",
        "get nope\r\n",
        "flush_all\r\n",
    ] {
        mcs(&mut client, line);
    }
    let stats = mcs(&mut client, "stats\r\n");
    let counters = [
        ("cmd_get", 2),
        ("get_hits", 1),
        ("get_misses", 1),
        ("cmd_touch", 2),
        ("cmd_set", 1),
        ("total_items", 1),
    ];
    for (name, value) in counters {
        assert_eq!(stat_number(&stats, name), value, "{name} in {stats:?}");
    }
    let store = Store::new(StoreConfig::default(), Arc::new(ManualClock::new(START_TIME)));
    assert_eq!(store.started(), START_TIME, "a store started when its clock said");
}

#[test]
fn workers_share_one_store() {
    let (server, _clock) = start_memkv_manual();
    let mut setup = connect(server.addr);
    assert_eq!(
        mcs(&mut setup, "set counter 0 0 1\r\n0\r\n"),
        "STORED\r\n",
        "the answer to set counter 0 0 1"
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut client = connect(addr);
                for _ in 0..250 {
                    let answer = mcs(&mut client, "incr counter 1\r\n");
                    assert!(answer.ends_with("\r\n") && answer.trim().parse::<u64>().is_ok(), "{answer}");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a client thread");
    }
    assert_eq!(
        mcs(&mut setup, "get counter\r\n"),
        "VALUE counter 0 4\r\n1000\r\nEND\r\n",
        "the answer to get counter"
    );
}

#[test]
fn the_parser_reads_commands_and_waits_for_data() {
    assert_eq!(
        parse(b"gets a b\r\n").unwrap(),
        Some((Command::Get { keys: vec![b"a".to_vec(), b"b".to_vec()], cas: true }, 10)),
        "the parse of gets a b"
    );
    assert_eq!(parse(b"set k 1 2 3\r\nab").unwrap(), None, "the data block is not all there");
    let (command, used) = parse(b"set k 1 2 3 noreply\r\nabc\r\nget").unwrap().unwrap();
    assert_eq!(used, 26, "bytes used by the set line and its data");
    assert_eq!(
        command,
        Command::Store {
            mode: StoreMode::Set,
            key: b"k".to_vec(),
            flags: 1,
            exptime: 2,
            data: b"abc".to_vec(),
            cas: 0,
            noreply: true
        },
        "the parse of a set with noreply"
    );
    assert_eq!(parse(b"get a").unwrap(), None, "a line without its end");
    assert!(
        parse(&vec![b'x'; 3000]).is_err(),
        "a line with no end past 2048 bytes is fatal, as in memcached"
    );
    assert_eq!(
        parse(b"incr k 5\n").unwrap(),
        Some((Command::Arith { key: b"k".to_vec(), delta: 5, incr: true, noreply: false }, 9)),
        "the parse of incr k 5, ended by \\n alone"
    );
}

#[test]
fn every_answer_encodes_whole_as_memcached_writes_it() {
    // `encode` is what a late write uses while a streamed answer is cut short: whole answers.
    let mut codec = MemcacheCodec::default();
    let mut out = Vec::new();
    for response in [Response::Line("STORED"), Response::Text("VERSION 1.6.21".into()), Response::Number(42)]
    {
        codec.encode(response, &mut out);
    }
    assert_eq!(
        out.escape_ascii().to_string(),
        "STORED\\r\\nVERSION 1.6.21\\r\\n42\\r\\n",
        "three answers encoded"
    );
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn the_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut codec = MemcacheCodec::default();
        let mut rest = &bytes[..];
        while let Ok(Some((_, used))) = codec.decode(rest) {
            prop_assert!(used > 0 && used <= rest.len());
            rest = &rest[used..];
        }
    }

    #[test]
    fn the_parser_never_panics_on_command_like_lines(
        words in proptest::collection::vec(prop_oneof![
            Just("set".to_string()), Just("get".to_string()), Just("cas".to_string()), Just("incr".to_string()),
            Just("delete".to_string()), Just("noreply".to_string()), Just("touch".to_string()), Just("flush_all".to_string()),
            Just("gat".to_string()), Just("gats".to_string()), Just("verbosity".to_string()), Just("stats".to_string()),
            Just("cachedump".to_string()), Just("detail".to_string()), Just("cache_memlimit".to_string()),
            "-?[0-9]{1,21}", "[a-z]{1,4}", Just(String::new()),
        ], 0..8),
        data in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut wire = words.join(" ").into_bytes();
        wire.extend_from_slice(b"\r\n");
        wire.extend_from_slice(&data);
        let mut codec = MemcacheCodec::default();
        let mut rest = &wire[..];
        while let Ok(Some((_, used))) = codec.decode(rest) {
            prop_assert!(used > 0 && used <= rest.len());
            rest = &rest[used..];
        }
    }

    #[test]
    fn any_split_of_a_command_stream_gives_the_same_commands(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for (i, value) in values.iter().enumerate() {
            wire.extend_from_slice(format!("set k{i} {i} 0 {}\r\n", value.len()).as_bytes());
            wire.extend_from_slice(value);
            wire.extend_from_slice(b"\r\nget k0 k1\r\nbogus\r\n");
        }
        let whole = decode_all(&wire, &[]);
        prop_assert_eq!(whole.len(), values.len() * 3, "commands decoded from the whole stream");
        prop_assert_eq!(decode_all(&wire, &cuts), whole, "the commands decoded from pieces");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn gat_lines_parse_to_their_expiry_and_keys(
        exptime in any::<i64>(),
        keys in proptest::collection::vec("[a-z0-9]{1,12}", 0..6),
        cas in any::<bool>(),
    ) {
        let name = if cas { "gats" } else { "gat" };
        let line = format!("{name} {exptime} {}\r\n", keys.join(" "));
        let keys: Vec<Vec<u8>> = keys.iter().map(|key| key.as_bytes().to_vec()).collect();
        // memcached keeps the expiry in a 32-bit int.
        let want = Command::GetAndTouch { exptime: i64::from(exptime as i32), keys, cas };
        prop_assert_eq!(parse(line.as_bytes()).unwrap(), Some((want, line.len())), "the parse of {:?}", line);
    }

    #[test]
    fn storage_numbers_are_cut_to_32_bits(flags in any::<u64>(), exptime in any::<i64>()) {
        let line = format!("set k {flags} {exptime} 1\r\nx\r\n");
        let want = Command::Store {
            mode: StoreMode::Set,
            key: b"k".to_vec(),
            flags: flags as u32,
            exptime: i64::from(exptime as i32),
            data: b"x".to_vec(),
            cas: 0,
            noreply: false,
        };
        prop_assert_eq!(parse(line.as_bytes()).unwrap(), Some((want, line.len())), "the parse of {:?}", line);
    }

    #[test]
    fn verbosity_takes_a_last_noreply_wherever_it_is(level in any::<u32>(), noreply in any::<bool>()) {
        let line = if noreply { format!("verbosity {level} noreply\r\n") } else { format!("verbosity {level}\r\n") };
        let want = Command::Verbosity { level: level.min(2), noreply };
        prop_assert_eq!(parse(line.as_bytes()).unwrap(), Some((want, line.len())), "the parse of {:?}", line);
    }
}

/// Decodes `wire` delivered in pieces cut at `cuts`.
fn decode_all(wire: &[u8], cuts: &[usize]) -> Vec<Command> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (wire.len() + 1)).collect();
    cuts.push(wire.len());
    cuts.sort_unstable();
    let (mut codec, mut buffer, mut commands, mut from) =
        (MemcacheCodec::default(), Vec::new(), Vec::new(), 0);
    for cut in cuts {
        buffer.extend_from_slice(&wire[from..cut]);
        from = cut;
        while let Some((command, used)) = codec.decode(&buffer).expect("valid commands") {
            commands.push(command);
            buffer.drain(..used);
        }
    }
    commands
}

#[test]
fn run_serves_until_shut_down_and_says_how_it_was_stopped() {
    type Request = fn(&Shutdown);
    for (request, how, code) in
        [(Shutdown::stop as Request, "stop", 0), (Shutdown::interrupt as Request, "interrupt", 130)]
    {
        let memkv = start_run(memkv_config(), Shutdown::new());
        let mut client = connect(memkv.addr());
        assert_eq!(mcs(&mut client, "set a 0 0 2\r\nhi\r\n"), "STORED\r\n", "the answer to set a 0 0 2");
        assert_eq!(mcs(&mut client, "get a\r\n"), "VALUE a 0 2\r\nhi\r\nEND\r\n", "the answer to get a");
        request(&memkv.shutdown);
        let outcome = memkv.wait_done().unwrap_or_else(|err| panic!("run after Shutdown::{how}: {err}"));
        assert_eq!(outcome.exit_code(), code, "the exit code after Shutdown::{how}");
        assert_eq!(
            read_to_close(&mut client).escape_ascii().to_string(),
            "",
            "connections are closed on shutdown"
        );
    }
}

#[test]
fn a_shutdown_requested_before_run_starts_is_not_lost() {
    let shutdown = Shutdown::new();
    shutdown.stop();
    let memkv = start_run(memkv_config(), shutdown);
    memkv.addr();
    let outcome = memkv.wait_done().unwrap_or_else(|err| panic!("run after an early Shutdown::stop: {err}"));
    assert_eq!(outcome.exit_code(), 0, "the exit code after an early Shutdown::stop");
}

#[test]
fn run_on_an_address_in_use_fails_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = memkv_config();
    config.listen = taken.local_addr().unwrap();
    let memkv = start_run(config, Shutdown::new());
    let err = match memkv.wait_done() {
        Ok(outcome) => panic!("run on an address in use returned {outcome:?}, not an error"),
        Err(err) => err,
    };
    assert!(matches!(err, nbnet::Error::Bind { .. }), "run on an address in use: {err}");
    assert!(
        err.to_string().contains(&taken.local_addr().unwrap().to_string()),
        "the message names the address: {err}"
    );
    assert_eq!(err.exit_code(), 1, "the exit code of a server that cannot start");
    assert!(memkv.printed.try_recv().is_err(), "nothing is printed before the server is bound");
}

/// A `memkv` process, killed when dropped so a failing test leaves none behind.
struct Memkv(std::process::Child);

impl Drop for Memkv {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a free port; returns it and the address it printed.
fn spawn_memkv() -> (Memkv, std::net::SocketAddr) {
    let mut child = Memkv(
        Process::new(testkit::lab_binary!("memkv"))
            .args(["--listen", "127.0.0.1:0", "--threads", "2", "--memory", "16"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("memkv starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).expect("memkv prints its address");
    let addr =
        line.trim().rsplit(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("an address in {line:?}"));
    (child, addr)
}

/// Waits for `child` to exit (within the default deadline) and returns its code.
fn exit_code(child: &mut std::process::Child) -> Option<i32> {
    let mut status = None;
    testkit::eventually("memkv exits", || {
        status = child.try_wait().expect("wait for memkv");
        status.is_some()
    });
    status.unwrap().code()
}

#[test]
fn the_binary_serves_and_exits_0_on_sigterm_and_130_on_sigint() {
    for (signal, code) in [(libc::SIGTERM, 0), (libc::SIGINT, 130)] {
        let (mut child, addr) = spawn_memkv();
        let mut client = connect(addr);
        assert_eq!(mcs(&mut client, "set a 0 0 2\r\nhi\r\n"), "STORED\r\n", "the answer to set a 0 0 2");
        assert_eq!(mcs(&mut client, "get a\r\n"), "VALUE a 0 2\r\nhi\r\nEND\r\n", "the answer to get a");
        // SAFETY: kill has no memory-safety preconditions; the pid is our live child's.
        unsafe { libc::kill(child.0.id() as i32, signal) };
        assert_eq!(exit_code(&mut child.0), Some(code), "signal {signal}");
        assert_eq!(
            read_to_close(&mut client).escape_ascii().to_string(),
            "",
            "connections are closed on shutdown"
        );
    }
}

#[test]
fn the_binary_has_help_and_refuses_bad_usage() {
    let help = Process::new(testkit::lab_binary!("memkv")).arg("--help").output().expect("memkv runs");
    assert_eq!(help.status.code(), Some(0), "the exit code of --help");
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--listen", "--threads", "--memory", "--max-conns"] {
        assert!(text.contains(flag), "--help documents {flag}:\n{text}");
    }
    let bad = Process::new(testkit::lab_binary!("memkv")).arg("--threads=many").output().expect("memkv runs");
    assert_eq!(bad.status.code(), Some(2), "a usage error exits 2");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let busy =
        Process::new(testkit::lab_binary!("memkv")).args(["--listen", &addr]).output().expect("memkv runs");
    assert_eq!(busy.status.code(), Some(1), "an address in use exits 1");
}
