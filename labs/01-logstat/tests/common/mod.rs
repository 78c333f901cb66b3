//! Support shared by the stage tests: running `logstat` in-process, the fixtures, generated logs.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use datasets::nginx::{LogGenerator, LogLine, LogSpec};
use logstat::{Command, Config, Input, Outcome};
use serde_json::Value;

/// A committed fixture, by its path under `datasets/`.
pub fn fixture(relative: &str) -> PathBuf {
    testkit::datasets_dir().join(relative)
}

/// The nginx fixture: a few hundred real-looking lines with every odd case.
pub fn access_log() -> PathBuf {
    fixture("nginx/access.log")
}

/// An expected answer computed by `datasets/nginx/oracle.py`, an independent implementation.
pub fn expected(relative: &str) -> Value {
    let path = fixture(relative);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// What one in-process run printed and how it ended.
pub struct Ran {
    pub outcome: Outcome,
    pub stdout: String,
}

/// Runs `config` with `stdin` as standard input, as `logstat` would.
pub fn run_with_stdin(config: &Config, stdin: &[u8]) -> Ran {
    let mut out = Vec::new();
    let outcome = logstat::run(config, &mut &stdin[..], &mut out, &AtomicBool::new(false))
        .unwrap_or_else(|err| panic!("run({:?}) failed: {err}", config.command));
    // `range` and `follow` print lines as they are in the log, which need not be UTF-8.
    Ran { outcome, stdout: String::from_utf8_lossy(&out).into_owned() }
}

/// The [`Config`] a command line becomes, as `logstat`'s `main` builds it: `args` after the program
/// name.
pub fn config_of(args: &[&str]) -> Config {
    use clap::Parser;
    let cli = logstat::cli::Cli::try_parse_from(std::iter::once("logstat").chain(args.iter().copied()))
        .unwrap_or_else(|err| panic!("logstat {args:?} does not parse: {err}"));
    Config::try_from(cli).unwrap_or_else(|err| panic!("logstat {args:?} is refused: {err}"))
}

/// Runs `config` with empty standard input.
pub fn run(config: &Config) -> Ran {
    run_with_stdin(config, b"")
}

/// Runs `command` with `--json` on `inputs` and parses what it printed.
pub fn run_json(command: Command, inputs: Vec<Input>) -> Value {
    let mut config = Config::new(command, inputs);
    config.json = true;
    json_of(&run(&config))
}

/// The single JSON document a run printed.
pub fn json_of(ran: &Ran) -> Value {
    serde_json::from_str(ran.stdout.trim_end())
        .unwrap_or_else(|err| panic!("output is not one JSON document ({err}):\n{}", ran.stdout))
}

/// `path` as an input.
pub fn file(path: impl Into<PathBuf>) -> Input {
    Input::Path(path.into())
}

/// The first `count` lines of the generated log for `seed`, each with the parse a correct parser
/// must give it.
pub fn generated(seed: u64, count: usize) -> Vec<LogLine> {
    LogGenerator::new(LogSpec { seed, ..LogSpec::default() }).take(count).collect()
}

/// `lines` as one log, each ending in `\n`.
pub fn joined(lines: &[LogLine]) -> Vec<u8> {
    let mut log = Vec::new();
    for line in lines {
        log.extend_from_slice(&line.text);
        log.push(b'\n');
    }
    log
}

/// The `{"key", "count"}` entries of a top report, as pairs.
pub fn top_entries(report: &Value) -> Vec<(String, u64)> {
    report["top"]
        .as_array()
        .unwrap_or_else(|| panic!("no \"top\" array in {report}"))
        .iter()
        .map(|entry| {
            let key = entry["key"].as_str().unwrap_or_else(|| panic!("entry without a string key: {entry}"));
            let count = entry["count"].as_u64().unwrap_or_else(|| panic!("entry without a count: {entry}"));
            (key.to_owned(), count)
        })
        .collect()
}

/// Counts `keys` and ranks them as `logstat` must: count descending, then key ascending by bytes.
pub fn ranked<'a>(keys: impl IntoIterator<Item = &'a [u8]>) -> Vec<(Vec<u8>, u64)> {
    let mut counts = std::collections::HashMap::<&[u8], u64>::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    ranked_counts(counts)
}

/// `ranked` with keys decoded as the JSON output decodes them.
pub fn lossy(ranked: &[(Vec<u8>, u64)]) -> Vec<(String, u64)> {
    ranked.iter().map(|(key, count)| (String::from_utf8_lossy(key).into_owned(), *count)).collect()
}

/// Ranks keys that were counted already, as [`ranked`] does.
pub fn ranked_counts<'a>(counts: impl IntoIterator<Item = (&'a [u8], u64)>) -> Vec<(Vec<u8>, u64)> {
    let mut ranked: Vec<(Vec<u8>, u64)> =
        counts.into_iter().map(|(key, count)| (key.to_vec(), count)).collect();
    ranked.sort_by(|(ka, ca), (kb, cb)| cb.cmp(ca).then_with(|| ka.cmp(kb)));
    ranked
}

/// `bytes` as printable ASCII, every other byte escaped (`\xff`, `\n`): how a failing test shows
/// bytes, so that bytes that are not UTF-8 stay visible.
pub fn shown(bytes: &[u8]) -> Shown {
    Shown(bytes.escape_ascii().to_string())
}

/// A ranking with its keys [`shown`], for messages that must show every byte.
pub fn shown_ranked(ranked: &[(Vec<u8>, u64)]) -> Vec<(Shown, u64)> {
    ranked.iter().map(|(key, count)| (shown(key), *count)).collect()
}

/// Text that is already escaped: it prints as it is, in quotes, so that an assertion's `left` and
/// `right` show `\x00` rather than `\\x00`.
#[derive(Clone, PartialEq, Eq)]
pub struct Shown(pub String);

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for Shown {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Shown {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
