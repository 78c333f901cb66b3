//! [`run`]: one `logstat` command from a [`Config`] to its output.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::follow::{Follower, StartAt};
use crate::range::{copy_range, find_range};
use crate::scan::{Cut, ScanEnd, scan};
use crate::tally::{PathWordTally, SummaryTally, TextWordTally, TopTally};
use crate::{Command, Config, Error, Input, Timestamp};

/// How a run ended, when it could write its results.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs that could not be read: reported, skipped, and reflected in the exit code.
    pub errors: Vec<Error>,
    /// Malformed lines skipped.
    pub malformed: u64,
    /// Whether the run was stopped (Ctrl-C) before it finished.
    pub interrupted: bool,
}

impl Outcome {
    /// The process exit code: 130 when interrupted, 1 when an input could not be read, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if !self.errors.is_empty() {
            1
        } else {
            0
        }
    }
}

/// Runs one command: reads the inputs of `config` (or `stdin`), writes the results to `out`.
///
/// `stop` is checked between blocks and between polls: raising it (on Ctrl-C, or from a test) makes
/// `run` return soon with [`Outcome::interrupted`] set. `follow` runs until then.
///
/// # Errors
///
/// [`Error::Write`] when the results cannot be written, and [`Error::NeedsFile`] when `range` or
/// `follow` is not given exactly one file. Inputs that cannot be read are not errors of the run:
/// they are listed in [`Outcome::errors`].
///
/// # Examples
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use logstat::{Command, Config, Field};
/// let log = b"203.0.113.9 - - [01/Mar/2026:08:00:00 +0800] \"GET /a HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n";
/// let config = Config::new(Command::Top { field: Field::Status, n: 10 }, vec![]);
/// let mut out = Vec::new();
/// let outcome = logstat::run(&config, &mut &log[..], &mut out, &AtomicBool::new(false)).unwrap();
/// assert_eq!(outcome.exit_code(), 0);
/// assert_eq!(String::from_utf8(out).unwrap(), "count  status\n    1  200\n");
/// ```
pub fn run(
    config: &Config,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    stop: &AtomicBool,
) -> Result<Outcome, Error> {
    // ANCHOR: run
    match config.command {
        Command::Top { field, n } => {
            let (tally, end) = scan(config, stdin, stop, Cut::Lines, || TopTally::new(field));
            let report = tally.report(n);
            finish(end, report.malformed, || write_top(config, &report, out))
        }
        Command::Words { n, text: false } => {
            let (tally, end) = scan(config, stdin, stop, Cut::Lines, PathWordTally::default);
            let report = tally.report(n);
            finish(end, report.malformed, || write_top(config, &report, out))
        }
        Command::Words { n, text: true } => {
            let (tally, end) = scan(config, stdin, stop, Cut::Words, TextWordTally::default);
            finish(end, 0, || write_top(config, &tally.report(n), out))
        }
        Command::Summary => {
            let (tally, end) = scan(config, stdin, stop, Cut::Lines, SummaryTally::default);
            let report = tally.report();
            let write = || if config.json { report.write_json(out) } else { report.write_table(out) };
            finish(end, report.malformed, write)
        }
        Command::Range { from, to } => range(only_file(config, "range", "searched")?, from, to, out),
        Command::Follow { from_start, interval } => {
            follow(only_file(config, "follow", "followed across rotation")?, from_start, interval, out, stop)
        }
    }
    // ANCHOR_END: run
}

fn write_top(config: &Config, report: &crate::TopReport, out: &mut dyn Write) -> io::Result<()> {
    if config.json { report.write_json(out) } else { report.write_table(out) }
}

/// Turns a finished scan into an outcome, writing the results unless the scan was interrupted.
fn finish(end: ScanEnd, malformed: u64, write: impl FnOnce() -> io::Result<()>) -> Result<Outcome, Error> {
    if !end.interrupted {
        write().map_err(Error::Write)?;
    }
    Ok(Outcome { errors: end.errors, malformed, interrupted: end.interrupted })
}

/// The single file a command needs.
fn only_file<'a>(config: &'a Config, command: &'static str, why: &'static str) -> Result<&'a Path, Error> {
    match config.inputs.as_slice() {
        [Input::Path(path)] => Ok(path),
        _ => Err(Error::NeedsFile { command, why }),
    }
}

fn range(path: &Path, from: Timestamp, to: Timestamp, out: &mut dyn Write) -> Result<Outcome, Error> {
    let read_error = Error::file(path);
    let mut log = match File::open(path) {
        Ok(log) => log,
        Err(source) => return Ok(Outcome { errors: vec![read_error(source)], ..Outcome::default() }),
    };
    let mut sink = Sink { inner: out, failed: None };
    let copied =
        find_range(&mut log, from, to).and_then(|span| copy_range(&mut log, span, from, to, &mut sink));
    match (copied, sink.failed) {
        (Ok(_), _) => Ok(Outcome::default()),
        (Err(_), Some(write_error)) => Err(Error::Write(write_error)),
        (Err(source), None) => Ok(Outcome { errors: vec![read_error(source)], ..Outcome::default() }),
    }
}

fn follow(
    path: &Path,
    from_start: bool,
    interval: Duration,
    out: &mut dyn Write,
    stop: &AtomicBool,
) -> Result<Outcome, Error> {
    let read_error = Error::file(path);
    let start = if from_start { StartAt::Beginning } else { StartAt::End };
    let mut follower = match Follower::open(path, start) {
        Ok(follower) => follower,
        Err(source) => return Ok(Outcome { errors: vec![read_error(source)], ..Outcome::default() }),
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Outcome { interrupted: true, ..Outcome::default() });
        }
        let lines = match follower.poll() {
            Ok(lines) => lines,
            Err(source) => return Ok(Outcome { errors: vec![read_error(source)], ..Outcome::default() }),
        };
        for line in &lines {
            out.write_all(line).and_then(|()| out.write_all(b"\n")).map_err(Error::Write)?;
        }
        out.flush().map_err(Error::Write)?;
        if lines.is_empty() {
            pause(interval, stop);
        }
    }
}

/// Sleeps for `interval`, waking early if `stop` is raised.
fn pause(interval: Duration, stop: &AtomicBool) {
    let until = Instant::now() + interval;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// A writer that remembers whether writing failed, to tell write errors from read errors when one
/// function does both.
struct Sink<'a> {
    inner: &'a mut dyn Write,
    failed: Option<io::Error>,
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .write(buf)
            .inspect_err(|err| self.failed = Some(io::Error::new(err.kind(), err.to_string())))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|err| self.failed = Some(io::Error::new(err.kind(), err.to_string())))
    }
}
