//! Support shared by the integration tests: a second, independent reading of the format rules.
//!
//! [`parse`] is written from the rules in `datasets/README.md` alone, cursor by cursor, and shares no
//! code with the generator, so a test comparing the two checks the generator's ground truth. The
//! `top` and `words` helpers count fields the way `oracle.py` reports them.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::IpAddr;

use datasets::nginx::Entry;
use serde_json::{Value, json};

/// Reads one line (without its `\n`) by the format rules; `None` when it is malformed.
pub fn parse(line: &[u8]) -> Option<Entry> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut c = Cursor { s: line, i: 0 };
    let addr = c.word()?;
    std::str::from_utf8(addr).ok()?.parse::<IpAddr>().ok()?;
    c.expect(b"- ")?;
    let user = c.word()?;
    c.expect(b"[")?;
    let day = c.number(2)?;
    c.expect(b"/")?;
    let month = c.month()?;
    c.expect(b"/")?;
    let year = c.number(4)?;
    c.expect(b":")?;
    let hour = c.number(2)?;
    c.expect(b":")?;
    let minute = c.number(2)?;
    c.expect(b":")?;
    let second = c.number(2)?;
    c.expect(b" ")?;
    let sign: i64 = match c.byte()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let zone_hours = c.number(2)?;
    let zone_minutes = c.number(2)?;
    c.expect(b"] ")?;
    let request = c.quoted()?;
    c.expect(b" ")?;
    let status = c.number(3)?;
    c.expect(b" ")?;
    let bytes = c.digits()?;
    c.expect(b" ")?;
    let referer = c.quoted()?;
    c.expect(b" ")?;
    let user_agent = c.quoted()?;
    if c.i != line.len() {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if zone_hours > 23 || zone_minutes > 59 {
        return None;
    }
    let offset = sign * (zone_hours * 60 + zone_minutes);
    let local = days_since_epoch(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    let (method, url, path) = match request_form(request) {
        Some((m, t, _)) => (
            Some(m.to_vec()),
            Some(t.to_vec()),
            Some(t.split(|&b| b == b'?').next().unwrap_or_default().to_vec()),
        ),
        None => (None, None, None),
    };
    Some(Entry {
        addr: addr.to_vec(),
        user: user.to_vec(),
        time: local - offset * 60,
        offset_minutes: offset as i32,
        request: request.to_vec(),
        method,
        url,
        path,
        status: status as u16,
        bytes: std::str::from_utf8(bytes).ok()?.parse().ok()?,
        referer: referer.to_vec(),
        user_agent: user_agent.to_vec(),
    })
}

fn request_form(request: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let spaces: Vec<usize> = (0..request.len()).filter(|&i| request[i] == b' ').collect();
    if spaces.len() < 2 {
        return None;
    }
    let (first, last) = (spaces[0], spaces[spaces.len() - 1]);
    let (method, target, protocol) = (&request[..first], &request[first + 1..last], &request[last + 1..]);
    if method.is_empty() || target.is_empty() || protocol.is_empty() {
        return None;
    }
    Some((method, target, protocol))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01, the slow and obvious way.
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let mut days = 0;
    if year >= 1970 {
        days += (1970..year).map(|y| if is_leap(y) { 366 } else { 365 }).sum::<i64>();
    } else {
        days -= (year..1970).map(|y| if is_leap(y) { 366 } else { 365 }).sum::<i64>();
    }
    days += (1..month).map(|m| days_in_month(year, m)).sum::<i64>();
    days + day - 1
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.s.get(self.i)?;
        self.i += 1;
        Some(b)
    }

    fn expect(&mut self, lit: &[u8]) -> Option<()> {
        let end = self.i + lit.len();
        (self.s.get(self.i..end)? == lit).then(|| self.i = end)
    }

    /// One or more bytes up to a space, and the space.
    fn word(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let len = self.s[start..].iter().position(|&b| b == b' ')?;
        self.i += len + 1;
        (len > 0).then(|| &self.s[start..start + len])
    }

    /// Exactly `n` ASCII digits, as a number.
    fn number(&mut self, n: usize) -> Option<i64> {
        let digits = self.s.get(self.i..self.i + n)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(digits.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
    }

    /// One or more ASCII digits.
    fn digits(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    fn month(&mut self) -> Option<i64> {
        const NAMES: [&[u8]; 12] =
            [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
        let name = self.s.get(self.i..self.i + 3)?;
        let m = NAMES.iter().position(|n| *n == name)?;
        self.i += 3;
        Some(m as i64 + 1)
    }

    /// `"`, then bytes other than `"` and `\` or a backslash and any byte, then `"`: the content.
    fn quoted(&mut self) -> Option<&'a [u8]> {
        self.expect(b"\"")?;
        let start = self.i;
        loop {
            match self.byte()? {
                b'"' => return Some(&self.s[start..self.i - 1]),
                b'\\' => {
                    self.byte()?;
                }
                _ => {}
            }
        }
    }
}

/// The lines of a log file: split on `\n`, without the empty piece after a final newline.
pub fn lines(log: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = log.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The fields `oracle.py` reports, in its order.
pub const FIELDS: [&str; 7] = ["ip", "url", "path", "status", "method", "ua", "referer"];

/// The key of `field` in `entry`, if the entry has one.
pub fn key(entry: &Entry, field: &str) -> Option<Vec<u8>> {
    match field {
        "ip" => Some(entry.addr.clone()),
        "url" => entry.url.clone(),
        "path" => entry.path.clone(),
        "status" => Some(format!("{:03}", entry.status).into_bytes()),
        "method" => entry.method.clone(),
        "ua" => Some(entry.user_agent.clone()),
        "referer" => Some(entry.referer.clone()),
        _ => panic!("unknown field {field}"),
    }
}

/// Words of a path: lowercase maximal runs of ASCII letters and digits.
pub fn path_words(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|b| !b.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_ascii_lowercase())
}

/// The report `oracle.py` writes for `counts`: all keys, count descending then key bytes ascending.
pub fn report(field: &str, total: u64, malformed: u64, counts: HashMap<Vec<u8>, u64>) -> Value {
    let mut top: Vec<_> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let top: Vec<Value> =
        top.into_iter().map(|(k, c)| json!({"key": String::from_utf8_lossy(&k), "count": c})).collect();
    json!({"field": field, "total": total, "malformed": malformed, "top": top})
}

/// Every report `oracle.py` writes for a log, by file name, computed from the entries of its lines.
pub fn log_reports(entries: &[Option<Entry>]) -> Vec<(String, Value)> {
    let valid: Vec<&Entry> = entries.iter().flatten().collect();
    let total = valid.len() as u64;
    let malformed = (entries.len() - valid.len()) as u64;
    let mut reports = Vec::new();
    for field in FIELDS {
        let mut counts = HashMap::new();
        for e in &valid {
            if let Some(k) = key(e, field) {
                *counts.entry(k).or_insert(0) += 1;
            }
        }
        reports.push((format!("top-{field}.json"), report(field, total, malformed, counts)));
    }
    let mut words = HashMap::new();
    for e in &valid {
        for w in e.path.iter().flat_map(|p| path_words(p)) {
            *words.entry(w).or_insert(0) += 1;
        }
    }
    reports.push(("words.json".to_owned(), report("word", total, malformed, words)));
    reports
}

/// Words of a text: lowercase maximal runs of alphanumeric characters, invalid bytes separating.
pub fn text_words(text: &[u8]) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for w in String::from_utf8_lossy(text).split(|c: char| !c.is_alphanumeric()) {
        if !w.is_empty() {
            *counts.entry(w.to_lowercase()).or_insert(0) += 1;
        }
    }
    counts
}

/// `python3`, if this machine has it.
pub fn python() -> Option<&'static str> {
    let ok =
        std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}
