//! The committed fixtures are what they claim to be.
//!
//! - `nginx/access.log` is its hand-written head followed by the generator's lines for
//!   [`fixture_spec`]. Set `DATASETS_BLESS=1` to rewrite the generated part after a deliberate change
//!   to the generator, then rerun `python3 datasets/nginx/oracle.py` and commit both.
//! - Every `expected/*.json` equals what an independent Rust reading of the rules computes, and, when
//!   `python3` is present, what `oracle.py` writes today.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use datasets::nginx::{LogGenerator, LogSpec};
use serde_json::Value;

/// Lines 1 to `HANDPICKED` of `access.log` are written by hand (see `nginx/README.md`).
const HANDPICKED: usize = 94;
/// The generator's lines that follow them.
const GENERATED: usize = 300;

/// The spec of the generated part: 2026-03-01 09:10:00 +0800 on, a line every 20 s on average, small
/// populations so the top lists repeat, and 3% malformed lines.
fn fixture_spec() -> LogSpec {
    LogSpec {
        seed: 2026,
        start: 1_772_327_400,
        mean_rate: 0.05,
        utc_offset_minutes: 480,
        malformed_ratio: 0.03,
        urls: 120,
        clients: 60,
    }
}

fn nginx_dir() -> PathBuf {
    datasets::root().join("nginx")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[test]
fn access_log_is_the_handpicked_head_then_the_generator() {
    let path = nginx_dir().join("access.log");
    let log = read(&path);
    let lines = common::lines(&log);
    assert!(lines.len() >= HANDPICKED, "access.log lost its hand-written head");
    let mut expected = Vec::new();
    for line in &lines[..HANDPICKED] {
        expected.extend_from_slice(line);
        expected.push(b'\n');
    }
    for line in LogGenerator::new(fixture_spec()).take(GENERATED) {
        expected.extend_from_slice(&line.text);
        expected.push(b'\n');
    }
    if std::env::var_os("DATASETS_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    assert!(
        log == expected,
        "access.log differs from its head plus the generator: if the generator changed on purpose, \
         run DATASETS_BLESS=1 cargo test -p datasets --test fixtures, then python3 datasets/nginx/oracle.py"
    );
}

#[test]
fn access_log_is_sorted_and_holds_both_kinds() {
    let log = read(&nginx_dir().join("access.log"));
    let entries: Vec<_> = common::lines(&log).into_iter().map(common::parse).collect();
    let times: Vec<i64> = entries.iter().flatten().map(|e| e.time).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "valid lines are not in time order");
    let malformed = entries.iter().filter(|e| e.is_none()).count();
    assert!((300..=400).contains(&entries.len()), "{} lines", entries.len());
    assert!(malformed >= 29, "{malformed} malformed lines");
}

#[test]
fn expected_reports_match_an_independent_count() {
    let log = read(&nginx_dir().join("access.log"));
    let entries: Vec<_> = common::lines(&log).into_iter().map(common::parse).collect();
    for (name, report) in common::log_reports(&entries) {
        let committed = read_json(&nginx_dir().join("expected").join(&name));
        assert!(committed == report, "nginx/expected/{name} disagrees with the Rust count of access.log");
    }
}

#[test]
fn expected_text_words_match_a_recount() {
    let text_dir = datasets::root().join("text");
    let counts = common::text_words(&read(&text_dir.join("sample.txt")));
    let total = counts.values().sum();
    let counts = counts.into_iter().map(|(k, v)| (k.into_bytes(), v)).collect();
    let report = common::report("word", total, 0, counts);
    assert!(
        read_json(&text_dir.join("expected/words.json")) == report,
        "text/expected/words.json disagrees with a recount of sample.txt"
    );
}

fn oracle(args: &[&Path]) -> Option<Vec<u8>> {
    let Some(python) = common::python() else {
        eprintln!("skipped: python3 is not installed, so oracle.py was not run");
        return None;
    };
    let output = Command::new(python)
        .arg(nginx_dir().join("oracle.py"))
        .args(args)
        .output()
        .expect("cannot run python3");
    assert!(output.status.success(), "oracle.py failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(output.stdout)
}

#[test]
fn oracle_rewrites_the_committed_answers_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (nginx_out, text_out) = (tmp.path().join("nginx"), tmp.path().join("text"));
    let log = nginx_dir().join("access.log");
    let sample = datasets::root().join("text/sample.txt");
    if oracle(&[&log, Path::new("--out"), &nginx_out]).is_none() {
        return;
    }
    oracle(&[Path::new("--text"), &sample, Path::new("--out"), &text_out]);
    for field in common::FIELDS.iter().map(|f| format!("top-{f}.json")).chain(["words.json".to_owned()]) {
        assert!(
            read(&nginx_out.join(&field)) == read(&nginx_dir().join("expected").join(&field)),
            "nginx/expected/{field} is stale: rerun python3 datasets/nginx/oracle.py"
        );
    }
    let committed = datasets::root().join("text/expected/words.json");
    assert!(read(&text_out.join("words.json")) == read(&committed), "text/expected/words.json is stale");
}

#[test]
fn oracle_agrees_with_the_generator_line_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("generated.log");
    let spec = LogSpec { seed: 77, malformed_ratio: 0.2, urls: 3_000, clients: 800, ..LogSpec::default() };
    let lines: Vec<_> = LogGenerator::new(spec).take(4_000).collect();
    let mut text = Vec::new();
    for line in &lines {
        text.extend_from_slice(&line.text);
        text.push(b'\n');
    }
    std::fs::write(&log, &text).unwrap();
    let Some(times) = oracle(&[&log, Path::new("--times")]) else {
        return;
    };
    let times = String::from_utf8(times).unwrap();
    assert_eq!(times.lines().count(), lines.len());
    for (n, (said, line)) in times.lines().zip(&lines).enumerate() {
        let ours = match &line.entry {
            Some(e) => format!("{} {}", e.time, e.offset_minutes),
            None => "-".to_owned(),
        };
        assert_eq!(said, ours, "line {n}: {:?}", String::from_utf8_lossy(&line.text));
    }
    let out = tmp.path().join("expected");
    oracle(&[&log, Path::new("--out"), &out]);
    let entries: Vec<_> = lines.into_iter().map(|l| l.entry).collect();
    for (name, report) in common::log_reports(&entries) {
        assert!(read_json(&out.join(&name)) == report, "oracle.py and the generator disagree on {name}");
    }
}
