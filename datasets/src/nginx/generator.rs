//! [`LogGenerator`]: the endless, time-ordered stream of lines, and [`write_log`] to put it in a file.

use std::io::{self, Write};

use super::agents::{self, ClientKind};
use super::clients::{self, Client};
use super::clock::{self, STAMP_LEN};
use super::defects::Defect;
use super::entry::LogLine;
use super::line::{self, Parts, Request, Spans};
use super::spec::LogSpec;
use super::traffic;
use super::urls::{self, Url, UrlKind};
use crate::dice::Dice;
use crate::zipf::Zipf;

/// Amplitude of the day/night curve: the rate swings between 0.4× and 1.6× the mean.
const DAY_SWING: f64 = 0.6;
/// Local hour of the busiest moment of the day.
const PEAK_HOUR: f64 = 15.0;

/// Share of lines whose request is `-`: a client that connected and sent nothing.
const DASH_SHARE: f64 = 0.0008;
/// Share of lines whose request is a TLS handshake sent to the plain-HTTP port.
const TLS_SHARE: f64 = 0.0004;
/// Share of lines whose request is empty.
const EMPTY_SHARE: f64 = 0.0002;
/// Share of lines whose request is one of [`ODD_REQUESTS`].
const ODD_REQUEST_SHARE: f64 = 0.0004;
/// Share of lines whose agent is an odd one (escapes, raw bytes), whoever the client.
const ODD_AGENT_SHARE: f64 = 0.0005;
/// Share of lines ended by CRLF.
const CRLF_SHARE: f64 = 0.001;

/// Requests that are not `METHOD TARGET PROTOCOL` with a plain target, as clients really send them.
const ODD_REQUESTS: &[&[u8]] = &[
    b"GET /",
    b"GET /index.html?q=a b HTTP/1.1",
    b"PRI * HTTP/2.0",
    b"CONNECT www.example.com:443 HTTP/1.1",
    b"GET http://example.com/ HTTP/1.1",
    b"OPTIONS * HTTP/1.1",
    b"GET /a  HTTP/1.1",
    b"HELLO",
    b"GET / HTTP/1.1 extra",
    b"  ",
    b"\\x05\\x01\\x00",
];

/// An endless, seeded stream of access-log lines in time order, each with its ground truth.
///
/// # Examples
///
/// ```
/// use datasets::nginx::{LogGenerator, LogSpec};
///
/// let spec = LogSpec { seed: 1, urls: 100, clients: 50, ..LogSpec::default() };
/// let lines: Vec<_> = LogGenerator::new(spec).take(1_000).collect();
/// let valid = lines.iter().filter(|l| l.entry.is_some()).count();
/// assert!(valid > 950);
/// assert!(lines.windows(2).all(|w| match (&w[0].entry, &w[1].entry) {
///     (Some(a), Some(b)) => a.time <= b.time,
///     _ => true,
/// }));
/// ```
pub struct LogGenerator {
    spec: LogSpec,
    dice: Dice,
    urls: Vec<Url>,
    url_ranks: Zipf,
    probes: Vec<usize>,
    health: Option<usize>,
    clients: Vec<Client>,
    client_ranks: Zipf,
    /// Seconds from `spec.start` to the next line.
    elapsed: f64,
    stamp_time: i64,
    stamp: [u8; STAMP_LEN],
    referer: Vec<u8>,
    junk: Vec<u8>,
    broken: Vec<u8>,
}

/// What [`LogGenerator::draw`] appended.
struct Drawn {
    /// Where the fields are, for a valid line; `None` for a malformed one.
    spans: Option<Spans>,
    time: i64,
    status: u16,
    bytes: u64,
}

impl LogGenerator {
    /// A generator for `spec`. Builds the URL and client populations up front (about 20 ms for the
    /// defaults), so iterating allocates little.
    ///
    /// # Panics
    ///
    /// When `spec` cannot describe a log: a rate that is not positive, a malformed ratio outside
    /// `0.0..=1.0`, an offset beyond ±23:59, an empty population, or a start outside four-digit years.
    pub fn new(spec: LogSpec) -> Self {
        spec.validate();
        let urls = urls::population(spec.urls, &mut Dice::new(spec.seed, 1));
        let clients = clients::population(spec.clients, &mut Dice::new(spec.seed, 2));
        let probes = (0..urls.len()).filter(|&i| urls[i].kind == UrlKind::Probe).collect();
        let health = urls.iter().position(|u| u.kind == UrlKind::Health);
        let mut stamp = [0; STAMP_LEN];
        clock::format_stamp(spec.start, spec.utc_offset_minutes, &mut stamp);
        Self {
            dice: Dice::new(spec.seed, 3),
            url_ranks: Zipf::new(urls.len(), 1.0),
            client_ranks: Zipf::new(clients.len(), 1.1),
            urls,
            probes,
            health,
            clients,
            elapsed: 0.0,
            stamp_time: spec.start,
            stamp,
            referer: Vec::new(),
            junk: Vec::new(),
            broken: Vec::new(),
            spec,
        }
    }

    /// Appends the next line to `out`, without its newline, and returns whether it is valid.
    ///
    /// Draws exactly what [`Iterator::next`] draws, so mixing the two keeps the stream intact; this
    /// one skips building the [`Entry`](super::Entry) and is what [`write_log`] uses.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> bool {
        self.draw(out).spans.is_some()
    }

    /// Moves the clock on and returns the instant of the line being drawn.
    fn tick(&mut self) -> i64 {
        let now = self.spec.start + self.elapsed.floor() as i64;
        let local = (self.spec.start as f64 + self.elapsed + f64::from(self.spec.utc_offset_minutes) * 60.0)
            .rem_euclid(86_400.0);
        let phase = (local / 3_600.0 - PEAK_HOUR) / 24.0 * std::f64::consts::TAU;
        let rate = self.spec.mean_rate * (1.0 + DAY_SWING * phase.cos());
        self.elapsed += self.dice.exponential() / rate;
        if now != self.stamp_time {
            self.stamp_time = now;
            clock::format_stamp(now, self.spec.utc_offset_minutes, &mut self.stamp);
        }
        now
    }

    fn draw(&mut self, out: &mut Vec<u8>) -> Drawn {
        let time = self.tick();
        let client: &Client = &self.clients[self.client_ranks.sample(&mut self.dice)];
        let dice = &mut self.dice;
        let special = dice.unit();
        let mut agent: &[u8] = &client.agent;
        let (request, status, bytes) = if special < DASH_SHARE {
            agent = b"-";
            self.referer.clear();
            self.referer.push(b'-');
            (Request::Raw(b"-"), 400, dice.pick(&[0, 150, 157]))
        } else if special < DASH_SHARE + TLS_SHARE {
            self.junk.clear();
            self.junk.extend_from_slice(b"\\x16\\x03\\x01");
            for _ in 0..dice.between(5, 40) {
                let byte = dice.below(256);
                self.junk.extend_from_slice(format!("\\x{byte:02X}").as_bytes());
            }
            agent = b"-";
            self.referer.clear();
            self.referer.push(b'-');
            (Request::Raw(&self.junk), 400, dice.pick(&[0, 157, 166]))
        } else if special < DASH_SHARE + TLS_SHARE + EMPTY_SHARE {
            self.referer.clear();
            self.referer.push(b'-');
            (Request::Raw(b""), 400, 0)
        } else if special < DASH_SHARE + TLS_SHARE + EMPTY_SHARE + ODD_REQUEST_SHARE {
            self.referer.clear();
            self.referer.push(b'-');
            (Request::Raw(dice.pick(ODD_REQUESTS)), 400, dice.between(150, 157))
        } else {
            let rank = match (client.kind, self.url_ranks.sample(dice)) {
                (ClientKind::Scanner, _) if !self.probes.is_empty() && dice.chance(0.7) => {
                    dice.pick(&self.probes)
                }
                (ClientKind::Monitor, _) => match self.health {
                    Some(health) if dice.chance(0.95) => health,
                    _ => 0,
                },
                // Only monitors ask for the health check; anyone else drawing it gets the home page.
                (_, rank) if Some(rank) == self.health => 0,
                (_, rank) => rank,
            };
            let url = &self.urls[rank];
            let method = traffic::method(url.kind, dice);
            let protocol = traffic::protocol(client.kind, dice);
            let (status, bytes) = traffic::respond(url, method, dice);
            let page = &self.urls[self.url_ranks.sample(dice)];
            traffic::referer(client.kind, page, dice, &mut self.referer);
            let request = Request::Parts { method, target: &url.target, protocol };
            (request, status, bytes)
        };
        if dice.chance(ODD_AGENT_SHARE) {
            agent = dice.pick(agents::ODD);
        }
        let crlf = dice.chance(CRLF_SHARE);
        let malformed = dice.chance(self.spec.malformed_ratio);
        let parts = Parts {
            addr: &client.addr,
            user: &client.user,
            stamp: &self.stamp,
            request,
            status,
            bytes,
            referer: &self.referer,
            agent,
            crlf,
        };
        if !malformed {
            let spans = line::render(&parts, out);
            return Drawn { spans: Some(spans), time, status, bytes };
        }
        self.broken.clear();
        let spans = line::render(&parts, &mut self.broken);
        Defect::draw(dice).apply(&mut self.broken, &spans, dice);
        out.extend_from_slice(&self.broken);
        Drawn { spans: None, time, status, bytes }
    }
}

impl Iterator for LogGenerator {
    type Item = LogLine;

    fn next(&mut self) -> Option<LogLine> {
        let mut text = Vec::with_capacity(256);
        let drawn = self.draw(&mut text);
        let offset = self.spec.utc_offset_minutes;
        let entry = drawn
            .spans
            .map(|spans| line::entry(&text, &spans, drawn.time, offset, drawn.status, drawn.bytes));
        Some(LogLine { text, entry })
    }
}

/// Writes whole lines of the log described by `spec`, each ending in `\n`, until at least
/// `target_bytes` are written, and returns how many lines that took.
///
/// The output is the text of [`LogGenerator`]'s stream, so a smaller target gives a prefix of a larger
/// one. `out` is written in large chunks; it need not be buffered.
///
/// # Errors
///
/// Whatever `out` returns when written to.
///
/// # Panics
///
/// As [`LogGenerator::new`], for a spec that describes no log.
pub fn write_log(spec: &LogSpec, target_bytes: u64, out: &mut impl Write) -> io::Result<u64> {
    let mut generator = LogGenerator::new(spec.clone());
    let mut lines = 0u64;
    crate::write_until(target_bytes, out, |buf| {
        generator.next_into(buf);
        buf.push(b'\n');
        lines += 1;
    })?;
    Ok(lines)
}
