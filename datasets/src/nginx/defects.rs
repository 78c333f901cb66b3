//! Malformed lines: each [`Defect`] breaks a freshly rendered valid line in one realistic way.
//!
//! Every defect makes the line malformed under the format's rules, whatever the line held before; the
//! comment on each variant says why. The crate's tests re-parse every generated line to prove it.

use super::line::Spans;
use crate::dice::Dice;

/// One way a line can be broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Defect {
    /// Cut before the agent's closing quote, as a crash or a full disk leaves it: a field goes unclosed
    /// or missing.
    Truncated,
    /// An address `IpAddr` rejects: `300.1.1.1`, `[::1]`, a host name…
    BadAddress,
    /// A month name that is not one of the twelve.
    BadMonth,
    /// A day the calendar lacks: 31/Feb, 29/Feb of a common year, 31/Apr, 00 or 32.
    BadDate,
    /// Hour 24, minute or second 60, a one-digit field.
    BadClock,
    /// A zone without a sign, with hour 24 or minute 60, or with letters.
    BadZone,
    /// One of the six quotes removed.
    MissingQuote,
    /// A status that is not exactly three ASCII digits: `2x0`, `2000`, `20`, `-`.
    BadStatus,
    /// A size that is not one or more ASCII digits: `-`, `12a`, `-1`, empty.
    BadBytes,
    /// Two spaces where the format has one.
    DoubleSpace,
    /// A tab where the format has a space.
    TabSeparator,
    /// Something after the agent's closing quote.
    ExtraField,
    /// The remote user field and its space gone (`ADDR - [TIME] …`).
    MissingUser,
    /// A raw, unescaped quote inside the agent.
    RawQuote,
    /// The agent ends in a lone backslash, which escapes the closing quote.
    TrailingBackslash,
    /// Nothing at all.
    Empty,
    /// Binary junk with no quote in it.
    Garbage,
}

const ALL: [Defect; 17] = [
    Defect::Truncated,
    Defect::BadAddress,
    Defect::BadMonth,
    Defect::BadDate,
    Defect::BadClock,
    Defect::BadZone,
    Defect::MissingQuote,
    Defect::BadStatus,
    Defect::BadBytes,
    Defect::DoubleSpace,
    Defect::TabSeparator,
    Defect::ExtraField,
    Defect::MissingUser,
    Defect::RawQuote,
    Defect::TrailingBackslash,
    Defect::Empty,
    Defect::Garbage,
];

const BAD_ADDRESSES: &[&[u8]] = &[
    b"300.1.1.1",
    b"256.0.0.1",
    b"1.2.3",
    b"1.2.3.4.5",
    b"10.0.0.1:8080",
    b"[::1]",
    b"2001:db8:::1",
    b"gggg::1",
    b"::ffff:1.2.3.256",
    b"localhost",
    b"-",
];
const BAD_MONTHS: &[&[u8]] = &[b"Foo", b"Mrz", b"Xyz", b"M4r", b"Sek"];
const BAD_DATES: &[&[u8]] = &[
    b"31/Feb/2026",
    b"30/Feb/2026",
    b"29/Feb/2026",
    b"29/Feb/2100",
    b"31/Apr/2026",
    b"31/Jun/2026",
    b"31/Sep/2026",
    b"31/Nov/2026",
    b"00/Mar/2026",
    b"32/Jan/2026",
];
const BAD_CLOCKS: &[&[u8]] = &[b"24:00:00", b"23:60:00", b"12:34:60", b"99:99:99", b"7:00:00", b"12:3:45"];
const BAD_ZONES: &[&[u8]] = &[b"+2400", b"+0860", b"0800", b"+800", b"UTC", b"+08:00", b"-2500", b"Z"];
const BAD_STATUSES: &[&[u8]] = &[b"2x0", b"2000", b"20", b"-", b"OK", b"20O"];
const BAD_BYTES: &[&[u8]] = &[b"-", b"12a", b"-1", b"1.5k", b""];
const EXTRA_FIELDS: &[&[u8]] =
    &[b" \"extra\"", b" -", b" 0.042", b" \"-\" \"-\"", b" rt=0.123 uct=\"0.000\""];
/// Stray text that ends up in access logs; none holds a quote, and a valid line needs six.
const JUNK_LINES: &[&[u8]] = &[
    b"2026/03/01 08:00:00 [error] 1234#1234: *5 upstream timed out (110: Connection timed out)",
    b"-- MARK --",
    b"\x00\x00\x00\x00\x00\x00",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"GET / HTTP/1.1",
    b"<html><body>502 Bad Gateway</body></html>",
];
const RAW_QUOTE_AGENTS: &[&[u8]] = &[b"Mozilla/5.0 \"compatible\" Bot", b"\"", b"say \"hi\""];

impl Defect {
    /// One defect, uniformly.
    pub(crate) fn draw(dice: &mut Dice) -> Self {
        dice.pick(&ALL)
    }

    /// Breaks `line`, a valid line whose fields are at `spans`.
    pub(crate) fn apply(self, line: &mut Vec<u8>, spans: &Spans, dice: &mut Dice) {
        let time = spans.time.start;
        match self {
            Defect::Truncated => line.truncate(1 + dice.below(spans.agent.end - 1)),
            Defect::BadAddress => {
                line.splice(spans.addr.start..spans.addr.end, dice.pick(BAD_ADDRESSES).iter().copied());
            }
            Defect::BadMonth => line[time + 3..time + 6].copy_from_slice(dice.pick(BAD_MONTHS)),
            Defect::BadDate => line[time..time + 11].copy_from_slice(dice.pick(BAD_DATES)),
            Defect::BadClock => {
                line.splice(time + 12..time + 20, dice.pick(BAD_CLOCKS).iter().copied());
            }
            Defect::BadZone => {
                line.splice(time + 21..time + 26, dice.pick(BAD_ZONES).iter().copied());
            }
            Defect::MissingQuote => {
                let quotes = [
                    spans.request.start - 1,
                    spans.request.end,
                    spans.referer.start - 1,
                    spans.referer.end,
                    spans.agent.start - 1,
                    spans.agent.end,
                ];
                line.remove(dice.pick(&quotes));
            }
            Defect::BadStatus => {
                line.splice(spans.status.start..spans.status.end, dice.pick(BAD_STATUSES).iter().copied());
            }
            Defect::BadBytes => {
                line.splice(spans.bytes.start..spans.bytes.end, dice.pick(BAD_BYTES).iter().copied());
            }
            Defect::DoubleSpace => line.insert(dice.pick(&spans.separators), b' '),
            Defect::TabSeparator => line[dice.pick(&spans.separators)] = b'\t',
            Defect::ExtraField => {
                let after = spans.agent.end + 1;
                line.splice(after..after, dice.pick(EXTRA_FIELDS).iter().copied());
            }
            Defect::MissingUser => {
                line.drain(spans.user.start..spans.user.end + 1);
            }
            Defect::RawQuote => {
                line.splice(spans.agent.start..spans.agent.end, dice.pick(RAW_QUOTE_AGENTS).iter().copied());
            }
            Defect::TrailingBackslash => line.insert(spans.agent.end, b'\\'),
            Defect::Empty => line.clear(),
            Defect::Garbage => {
                line.clear();
                if dice.chance(0.5) {
                    line.extend_from_slice(dice.pick(JUNK_LINES));
                    return;
                }
                let len = dice.between(1, 160) as usize;
                for _ in 0..len {
                    // Any byte but a newline or a quote: a valid line needs six quotes.
                    let b = loop {
                        let b = dice.below(256) as u8;
                        if b != b'\n' && b != b'"' {
                            break b;
                        }
                    };
                    line.push(b);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_fit_the_fields_they_overwrite() {
        assert!(BAD_MONTHS.iter().all(|m| m.len() == 3));
        assert!(BAD_DATES.iter().all(|d| d.len() == 11));
        assert!(JUNK_LINES.iter().all(|j| !j.contains(&b'"') && !j.contains(&b'\n')));
    }
}
