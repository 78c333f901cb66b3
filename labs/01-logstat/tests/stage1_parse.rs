//! Stage 1: parse one line of the nginx `combined` format, with a regex and with a hand parser.
//!
//! Both parsers must accept exactly the valid lines, give the same record, and never panic.

mod common;

use common::shown;
use logstat::{Field, LogRecord, Timestamp, parse_line, parse_line_regex};
use proptest::prelude::*;
use testkit::test;

const TYPICAL: &[u8] = br#"203.0.113.9 - alice [10/Oct/2026:13:55:36 +0200] "GET /search?q=rust&page=2 HTTP/1.1" 200 5123 "https://example.com/start" "Mozilla/5.0 (X11; Linux x86_64)""#;

/// A line parser: the regex one or the hand-written one.
type Parser = fn(&[u8]) -> Result<LogRecord<'_>, logstat::ParseError>;

/// Both parsers, by name, so a failure says which one.
fn parsers() -> [(&'static str, Parser); 2] {
    [("parse_line", parse_line), ("parse_line_regex", parse_line_regex)]
}

/// A parse's record with every byte field [`shown`], or `None`: what two parses are compared by,
/// so that a failure shows bytes as they are in the line.
fn described(record: Option<LogRecord<'_>>) -> Option<common::Shown> {
    record.map(|r| {
        common::Shown(format!(
            "addr {} user {} time {} {:+} request {} status {} bytes {} referer {} user agent {}",
            shown(r.addr),
            shown(r.user),
            r.time.unix,
            r.time.offset_minutes,
            shown(r.request),
            r.status,
            r.bytes,
            shown(r.referer),
            shown(r.user_agent)
        ))
    })
}

#[test]
fn parses_every_field_of_a_typical_line() {
    for (name, parse) in parsers() {
        let record = parse(TYPICAL).unwrap_or_else(|err| panic!("{name} rejected a valid line: {err}"));
        assert_eq!(shown(record.addr), "203.0.113.9", "{name}: addr");
        assert_eq!(shown(record.user), "alice", "{name}: user");
        assert_eq!(record.time.unix, 1_791_633_336, "{name}: time (2026-10-10T11:55:36Z)");
        assert_eq!(record.time.offset_minutes, 120, "{name}: zone");
        assert_eq!(shown(record.request), "GET /search?q=rust&page=2 HTTP/1.1", "{name}: request");
        assert_eq!(record.status, 200, "{name}: status");
        assert_eq!(record.bytes, 5123, "{name}: bytes");
        assert_eq!(shown(record.referer), "https://example.com/start", "{name}: referer");
        assert_eq!(shown(record.user_agent), "Mozilla/5.0 (X11; Linux x86_64)", "{name}: user agent");
    }
}

#[test]
fn keeps_escapes_as_written_and_accepts_odd_but_valid_lines() {
    let lines: [&[u8]; 5] = [
        br#"::1 - - [01/Mar/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 0 "-" "say \"hi\" \\ \x22""#,
        b"2001:db8::7 - - [01/Mar/2026:00:00:00 -0930] \"-\" 400 0 \"-\" \"-\"\r",
        b"10.0.0.1 - - [29/Feb/2028:23:59:59 +0000] \"\\x16\\x03\\x01\" 400 157 \"-\" \"\xff\xfe bytes\"",
        br#"10.0.0.1 - - [01/Mar/2026:00:00:00 +0000] "" 400 0 "" """#,
        br#"10.0.0.1 - - [01/Mar/2026:00:00:00 +0000] "GET /a b HTTP/1.1" 200 99999999999999999999999 "-" "x""#,
    ];
    for line in lines {
        for (name, parse) in parsers() {
            let record = parse(line)
                .unwrap_or_else(|err| panic!("{name} rejected valid line \"{}\": {err}", shown(line)));
            if line.starts_with(b"::1") {
                assert_eq!(
                    shown(record.user_agent),
                    shown(br#"say \"hi\" \\ \x22"#),
                    "{name}: user agent, escapes kept as written"
                );
            }
            if line.ends_with(b"\r") {
                assert_eq!(shown(record.user_agent), "-", "{name}: user agent, without the trailing \\r");
            }
            if line.ends_with(br#""x""#) {
                assert_eq!(record.bytes, u64::MAX, "{name}: a byte count beyond u64 saturates");
            }
        }
    }
}

#[test]
fn rejects_malformed_lines() {
    let valid = String::from_utf8(TYPICAL.to_vec()).unwrap();
    let broken: Vec<(String, &str)> = vec![
        (String::new(), "an empty line"),
        ("garbage".into(), "no fields"),
        (valid.replacen("203.0.113.9", "300.0.113.9", 1), "an invalid IPv4 address"),
        (valid.replacen("203.0.113.9", "example.com", 1), "a host name instead of an address"),
        (valid.replacen("203.0.113.9", "", 1), "no address"),
        (valid.replacen(" - alice", " alice", 1), "no '-' separator"),
        (valid.replacen("alice ", "", 1), "no user"),
        (valid.replacen("10/Oct", "10/Okt", 1), "an unknown month"),
        (valid.replacen("10/Oct", "31/Sep", 1), "a day its month does not have"),
        (valid.replacen("2026:13", "2026:24", 1), "hour 24"),
        (valid.replacen(":36 ", ":60 ", 1), "second 60"),
        (valid.replacen("+0200", "+02:00", 1), "a zone with a colon"),
        (valid.replacen("+0200", "+2400", 1), "a zone beyond 23 hours"),
        (valid.replacen("+0200]", "+0200", 1), "no closing bracket"),
        (valid.replacen(" 200 ", " 2x0 ", 1), "a status that is not digits"),
        (valid.replacen(" 200 ", " 2000 ", 1), "a four-digit status"),
        (valid.replacen(" 5123 ", " -1 ", 1), "a negative byte count"),
        (valid.replacen(" 5123 ", "  5123 ", 1), "a double space"),
        (valid.replacen("HTTP/1.1\"", "HTTP/1.1", 1), "an unterminated request"),
        (valid.replacen("x86_64)\"", "x86_64)\\\"", 1), "a last quote that is escaped"),
        (format!("{}\\", &valid[..valid.find(" HTTP/1.1").unwrap()]), "a line that ends after a backslash"),
        (format!("{valid} \"-\""), "an extra field after the user agent"),
        (format!("{valid}\r\r"), "two carriage returns"),
        (valid[..valid.len() - 10].to_string(), "a truncated line"),
    ];
    for (line, what) in &broken {
        for (name, parse) in parsers() {
            assert!(parse(line.as_bytes()).is_err(), "{name} accepted {what}: {line:?}");
        }
    }
}

#[test]
fn parses_nginx_times_and_rejects_impossible_ones() {
    let cases: [(&[u8], i64, i32); 5] = [
        (b"01/Jan/1970:00:00:00 +0000", 0, 0),
        (b"01/Mar/2026:08:00:00 +0800", 1_772_323_200, 480),
        (b"29/Feb/2024:23:59:59 -0130", 1_709_256_599, -90),
        (b"31/Dec/1969:23:59:59 +0000", -1, 0),
        // Divisible by 400: a leap year, though divisible by 100.
        (b"29/Feb/2000:12:00:00 +0000", 951_825_600, 0),
    ];
    for (text, unix, offset) in cases {
        let time = Timestamp::parse_nginx(text).unwrap_or_else(|| panic!("rejected {}", shown(text)));
        assert_eq!(
            (time.unix, time.offset_minutes),
            (unix, offset),
            "(unix, offset_minutes) of {}",
            shown(text)
        );
        assert_eq!(
            shown(time.to_string().as_bytes()),
            shown(text),
            "the time printed back as it was written"
        );
    }
    let impossible: [&[u8]; 8] = [
        b"29/Feb/2025:00:00:00 +0000",
        b"29/Feb/2100:00:00:00 +0000",
        b"31/Apr/2026:00:00:00 +0000",
        b"00/Jan/2026:00:00:00 +0000",
        b"01/Jan/2026:00:60:00 +0000",
        b"01/jan/2026:00:00:00 +0000",
        b"01/Jan/2026:00:00:00 0000",
        b"1/Jan/2026:00:00:00 +0000",
    ];
    for text in impossible {
        assert!(Timestamp::parse_nginx(text).is_none(), "accepted {}", shown(text));
    }
}

#[test]
fn days_around_the_leap_rules_print_back_as_written() {
    // The calendar's awkward days: the ends of February in years divisible by 100 and by 400, and
    // the days after them, where a date computation that is off by one day shows.
    let days = [
        "28/Feb/1900",
        "01/Mar/1900",
        "29/Feb/2000",
        "01/Mar/2000",
        "28/Feb/2100",
        "01/Mar/2100",
        "28/Feb/2200",
        "01/Mar/2200",
        "28/Feb/2300",
        "01/Mar/2300",
        "29/Feb/2400",
        "01/Mar/2400",
        "31/Dec/9999",
        "01/Jan/0001",
    ];
    for day in days {
        for clock in ["00:00:00 +0000", "23:59:59 -2359", "12:30:00 +0545"] {
            let text = format!("{day}:{clock}");
            let time = Timestamp::parse_nginx(text.as_bytes()).unwrap_or_else(|| panic!("rejected {text:?}"));
            assert_eq!(time.to_string(), text, "{text:?} parsed, then printed back");
        }
    }
}

#[test]
fn splits_the_request_and_finds_each_field() {
    for (name, parse) in parsers() {
        let record = parse(TYPICAL).unwrap_or_else(|err| panic!("{name} rejected a valid line: {err}"));
        let parts = record.request_parts().expect("a well-formed request");
        assert_eq!(
            (shown(parts.method), shown(parts.target), shown(parts.protocol)),
            (shown(b"GET"), shown(b"/search?q=rust&page=2"), shown(b"HTTP/1.1")),
            "{name}: request_parts() (method, target, protocol)"
        );
        let key = |field| record.key(field).map(|key| shown(&key));
        let want = [
            (Field::Ip, "203.0.113.9"),
            (Field::Url, "/search?q=rust&page=2"),
            (Field::Path, "/search"),
            (Field::Status, "200"),
            (Field::Method, "GET"),
            (Field::Ua, "Mozilla/5.0 (X11; Linux x86_64)"),
            (Field::Referer, "https://example.com/start"),
        ];
        for (field, value) in want {
            assert_eq!(key(field).as_deref(), Some(value), "{name}: key({field})");
        }
    }
}

#[test]
fn requests_that_are_not_method_target_protocol_have_no_url() {
    let with_request =
        |request: &str| format!(r#"10.1.1.1 - - [01/Mar/2026:00:00:00 +0000] "{request}" 400 0 "-" "-""#);
    for (name, parse) in parsers() {
        for request in
            ["-", "", "GET", "GET /", " /a HTTP/1.1", "GET /a ", "GET  HTTP/1.1", r"\x16\x03\x01\x00"]
        {
            let line = with_request(request);
            let record =
                parse(line.as_bytes()).unwrap_or_else(|err| panic!("{name} rejected {line:?}: {err}"));
            assert!(
                record.request_parts().is_none(),
                "{name}: request {request:?} has no method, target and protocol, got {:?}",
                record.request_parts().map(|p| (shown(p.method), shown(p.target), shown(p.protocol)))
            );
            for field in [Field::Url, Field::Path, Field::Method] {
                let key = record.key(field);
                assert!(
                    key.is_none(),
                    "{name}: request {request:?} gives no {field}, got {:?}",
                    key.map(|k| shown(&k))
                );
            }
            assert!(record.key(Field::Status).is_some(), "{name}: the line still has a status");
        }
        let spaced = with_request("GET /a b c HTTP/1.1");
        let record = parse(spaced.as_bytes()).expect("valid");
        assert_eq!(
            record.request_parts().map(|p| shown(p.target)).as_deref(),
            Some("/a b c"),
            "{name}: target, between the first and the last space"
        );
        let short = with_request("GET /a?x=1?y HTTP/1.0");
        assert_eq!(
            parse(short.as_bytes()).expect("valid").path().map(shown).as_deref(),
            Some("/a"),
            "{name}: path, up to the first ?"
        );
    }
}

#[test]
fn both_parsers_agree_with_the_generator_on_every_line() {
    for (number, line) in common::generated(7, 20_000).iter().enumerate() {
        let text = shown(&line.text);
        for (name, parse) in parsers() {
            match (&line.entry, parse(&line.text)) {
                (None, Ok(_)) => panic!("{name} accepted malformed generated line {number}: \"{text}\""),
                (Some(_), Err(err)) => {
                    panic!("{name} rejected valid generated line {number} ({err}): \"{text}\"")
                }
                (None, Err(_)) => {}
                (Some(entry), Ok(record)) => {
                    let what = format!("{name}, generated line {number}: \"{text}\"");
                    let opt = |bytes: Option<&[u8]>| bytes.map(shown);
                    assert_eq!(shown(record.addr), shown(&entry.addr), "addr, {what}");
                    assert_eq!(shown(record.user), shown(&entry.user), "user, {what}");
                    assert_eq!(
                        (record.time.unix, record.time.offset_minutes),
                        (entry.time, entry.offset_minutes),
                        "(time, zone), {what}"
                    );
                    assert_eq!(shown(record.request), shown(&entry.request), "request, {what}");
                    let parts = record.request_parts();
                    assert_eq!(opt(parts.map(|p| p.method)), opt(entry.method.as_deref()), "method, {what}");
                    assert_eq!(opt(parts.map(|p| p.target)), opt(entry.url.as_deref()), "target, {what}");
                    assert_eq!(opt(record.path()), opt(entry.path.as_deref()), "path, {what}");
                    assert_eq!(
                        (record.status, record.bytes),
                        (entry.status, entry.bytes),
                        "(status, bytes), {what}"
                    );
                    assert_eq!(shown(record.referer), shown(&entry.referer), "referer, {what}");
                    assert_eq!(shown(record.user_agent), shown(&entry.user_agent), "user agent, {what}");
                }
            }
        }
    }
}

#[test]
fn both_parsers_agree_on_every_fixture_line() {
    let log = std::fs::read(common::access_log()).expect("the fixture is committed");
    let mut valid = 0;
    for line in log.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let (hand, regex) = (parse_line(line), parse_line_regex(line));
        let accepted = hand.is_ok();
        assert_eq!(
            described(hand.ok()),
            described(regex.ok()),
            "parse_line (left) and parse_line_regex (right) on \"{}\"",
            shown(line)
        );
        valid += usize::from(accepted);
    }
    assert!(valid > 100, "only {valid} fixture lines parsed");
}

/// The content of a quoted field: plain bytes, or a backslash and the byte it escapes.
fn quoted_content() -> impl Strategy<Value = Vec<u8>> {
    let plain =
        any::<u8>().prop_filter("plain byte", |b| !matches!(b, b'"' | b'\\' | b'\n')).prop_map(|b| vec![b]);
    let escaped = any::<u8>().prop_filter("escapable byte", |&b| b != b'\n').prop_map(|b| vec![b'\\', b]);
    prop::collection::vec(prop_oneof![4 => plain, 1 => escaped], 0..40).prop_map(|parts| parts.concat())
}

/// The fields of a valid line, and the line written from them.
#[derive(Clone)]
struct Written {
    addr: String,
    user: Vec<u8>,
    local: (i64, u32, u32, u32, u32, u32),
    offset_minutes: i32,
    request: Vec<u8>,
    status: u16,
    bytes: u64,
    referer: Vec<u8>,
    user_agent: Vec<u8>,
    crlf: bool,
}

/// Shows the byte fields escaped, as the assertions do, so a shrunk input reads like its line.
impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Written")
            .field("addr", &self.addr)
            .field("user", &shown(&self.user))
            .field("local", &self.local)
            .field("offset_minutes", &self.offset_minutes)
            .field("request", &shown(&self.request))
            .field("status", &self.status)
            .field("bytes", &self.bytes)
            .field("referer", &shown(&self.referer))
            .field("user_agent", &shown(&self.user_agent))
            .field("crlf", &self.crlf)
            .finish()
    }
}

impl Written {
    fn line(&self) -> Vec<u8> {
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let (year, month, day, hour, minute, second) = self.local;
        let zone = self.offset_minutes.unsigned_abs();
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let time = format!(
            "{day:02}/{}/{year:04}:{hour:02}:{minute:02}:{second:02} {sign}{:02}{:02}",
            MONTHS[month as usize - 1],
            zone / 60,
            zone % 60
        );
        let mut line = format!("{} - ", self.addr).into_bytes();
        line.extend_from_slice(&self.user);
        line.extend_from_slice(format!(" [{time}] \"").as_bytes());
        line.extend_from_slice(&self.request);
        line.extend_from_slice(format!("\" {:03} {} \"", self.status, self.bytes).as_bytes());
        line.extend_from_slice(&self.referer);
        line.extend_from_slice(b"\" \"");
        line.extend_from_slice(&self.user_agent);
        line.push(b'"');
        if self.crlf {
            line.push(b'\r');
        }
        line
    }

    /// Seconds since the epoch, computed independently of the crate (days from civil, Hinnant).
    fn unix(&self) -> i64 {
        let (year, month, day, hour, minute, second) = self.local;
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((i64::from(month) + 9) % 12) + 2) / 5 + i64::from(day) - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - i64::from(self.offset_minutes) * 60
    }
}

fn written() -> impl Strategy<Value = Written> {
    let date = (1970i64..2200, 1u32..=12, 1u32..=31).prop_filter("a real date", |&(y, m, d)| {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        d <= days[m as usize - 1]
    });
    let clock = (0u32..24, 0u32..60, 0u32..60);
    let user = prop::collection::vec(
        any::<u8>().prop_filter("not a space or newline", |&b| b != b' ' && b != b'\n'),
        1..12,
    );
    (
        any::<std::net::IpAddr>().prop_map(|ip| ip.to_string()),
        user,
        (date, clock).prop_map(|((y, mo, d), (h, mi, s))| (y, mo, d, h, mi, s)),
        -1439i32..=1439,
        quoted_content(),
        0u16..1000,
        any::<u64>(),
        (quoted_content(), quoted_content(), any::<bool>()),
    )
        .prop_map(
            |(addr, user, local, offset_minutes, request, status, bytes, (referer, user_agent, crlf))| {
                Written {
                    addr,
                    user,
                    local,
                    offset_minutes,
                    request,
                    status,
                    bytes,
                    referer,
                    user_agent,
                    crlf,
                }
            },
        )
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn any_record_written_as_a_line_parses_back_to_itself(w in written()) {
        let line = w.line();
        for (name, parse) in parsers() {
            let record = parse(&line);
            prop_assert!(record.is_ok(), "{} rejected \"{}\": {:?}", name, shown(&line), record.err());
            let record = record.unwrap();
            prop_assert_eq!(shown(record.addr), shown(w.addr.as_bytes()), "{}: addr", name);
            prop_assert_eq!(shown(record.user), shown(&w.user), "{}: user", name);
            prop_assert_eq!(
                (record.time.unix, record.time.offset_minutes),
                (w.unix(), w.offset_minutes),
                "{}: (time, zone)", name
            );
            prop_assert_eq!(shown(record.request), shown(&w.request), "{}: request", name);
            prop_assert_eq!((record.status, record.bytes), (w.status, w.bytes), "{}: (status, bytes)", name);
            prop_assert_eq!(shown(record.referer), shown(&w.referer), "{}: referer", name);
            prop_assert_eq!(shown(record.user_agent), shown(&w.user_agent), "{}: user agent", name);
        }
    }

    #[test]
    fn every_time_prints_as_nginx_writes_it_and_parses_back(
        // Instants whose local date, in any zone, has a four-digit year: 0001-01-02 to 9999-12-30.
        unix in -62_135_510_400i64..=253_402_214_399,
        offset_minutes in -1_439i32..=1_439,
    ) {
        let time = Timestamp { unix, offset_minutes };
        let text = time.to_string();
        let parsed = Timestamp::parse_nginx(text.as_bytes());
        prop_assert_eq!(
            parsed.map(|t| (t.unix, t.offset_minutes)),
            Some((unix, offset_minutes)),
            "{:?} printed as {:?} and parsed back", time, text
        );
    }

    #[test]
    fn no_bytes_panic_a_parser_and_both_parsers_agree(line in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(
            described(parse_line(&line).ok()),
            described(parse_line_regex(&line).ok()),
            "parse_line (left) and parse_line_regex (right) on \"{}\"", shown(&line)
        );
    }

    #[test]
    fn near_valid_lines_get_the_same_answer_from_both_parsers(
        w in written(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        // Damage a valid line a little (replace, insert or delete a byte): the interesting inputs are
        // the ones that are almost right.
        let mut line = w.line();
        for (at, byte, kind) in edits {
            let i = at.index(line.len() + 1);
            match kind {
                0 if i < line.len() => line[i] = byte,
                1 => line.insert(i, byte),
                _ if i < line.len() => { line.remove(i); }
                _ => {}
            }
        }
        line.retain(|&b| b != b'\n');
        prop_assert_eq!(
            described(parse_line(&line).ok()),
            described(parse_line_regex(&line).ok()),
            "parse_line (left) and parse_line_regex (right) on \"{}\"", shown(&line)
        );
    }
}
