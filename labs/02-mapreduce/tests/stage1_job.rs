//! Stage 1: the job API. Splits aligned to lines, the word tokenizer, nginx fields, and one map task.

mod common;

use std::io::Cursor;

use mapreduce::{
    Job, Record, Split, WordCount, map_split, parse_access, partition_of, plan_splits, read_split, text_words,
};
use proptest::prelude::*;
use testkit::test;

/// The lines of `data`, each with its `\n` (the last may lack one).
fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split_inclusive(|&b| b == b'\n').collect()
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn splits_hold_every_line_exactly_once(
        data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'\r'), any::<u8>()], 0..300),
        size in 1u64..64,
    ) {
        let mut seen = Vec::new();
        let mut start = 0;
        while start < data.len() as u64 {
            let end = (start + size).min(data.len() as u64);
            let split = read_split(&mut Cursor::new(&data), start, end).unwrap();
            // Whole lines only: each split's lines start inside it.
            for line in lines(&split) {
                seen.push(line.to_vec());
            }
            start = end;
        }
        let expected: Vec<Vec<u8>> = lines(&data).into_iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(seen, expected, "the lines of all splits of size {} of \"{}\"", size, data.escape_ascii());
    }
}

#[test]
fn a_line_belongs_to_the_split_its_first_byte_is_in() {
    let data = b"alpha\nbeta\ngamma\n";
    // Byte 6 starts "beta": the split 5..7 holds no line start but 6.
    let cases: [(&[u8], u64, u64, &[u8]); 5] = [
        (data, 0, 1, b"alpha\n"),
        (data, 1, 6, b""),
        (data, 6, 7, b"beta\n"),
        (data, 11, 17, b"gamma\n"),
        (b"no newline", 0, 3, b"no newline"),
    ];
    for (data, start, end, want) in cases {
        let got = read_split(&mut Cursor::new(data), start, end).unwrap();
        assert_eq!(
            got,
            want,
            "split {start}..{end} of \"{}\" read as \"{}\"",
            data.escape_ascii(),
            got.escape_ascii()
        );
    }
}

#[test]
fn plan_splits_covers_each_file_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, empty) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("empty"));
    std::fs::write(&a, vec![b'x'; 250]).unwrap();
    std::fs::write(&b, vec![b'y'; 100]).unwrap();
    std::fs::write(&empty, b"").unwrap();
    let splits = plan_splits(&[a.clone(), empty, b.clone()], 100).unwrap();
    let ranges: Vec<(usize, u64, u64)> = splits.iter().map(|s| (s.file, s.start, s.end)).collect();
    assert_eq!(
        ranges,
        [(0, 0, 100), (0, 100, 200), (0, 200, 250), (2, 0, 100)],
        "(file, start, end) of the 100-byte splits of files of 250, 0 and 100 bytes"
    );
    assert_eq!(splits[0].path, a, "the path of the first split, of the first file");
    assert_eq!(splits[3].path, b, "the path of the last split, of the third file");
    assert!(plan_splits(&[dir.path().join("missing")], 100).is_err(), "a missing input is an error");
}

#[test]
fn words_are_lowercased_runs_of_letters_and_digits() {
    let mut words = Vec::new();
    text_words("Hello, WORLD! It's 2026: café Straße 中文\r\n".as_bytes(), |w| words.push(w.to_owned()));
    assert_eq!(
        words,
        ["hello", "world", "it", "s", "2026", "café", "straße", "中文"],
        "the words of a line mixing case, punctuation and non-ASCII letters"
    );
    words.clear();
    text_words(b"one\xfftwo\xc3", |w| words.push(w.to_owned()));
    assert_eq!(
        words,
        ["one", "two"],
        "the words of \"one\\xfftwo\\xc3\": bytes that are not UTF-8 separate words"
    );
}

#[test]
fn access_fields_match_the_generator() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lines) = common::log_file(dir.path(), "access.log", 3, 4_000, 0.05);
    for line in &lines {
        let text = line.text.escape_ascii();
        let fields = parse_access(&line.text);
        let Some(entry) = &line.entry else {
            assert_eq!(fields, None, "the fields of a malformed line: {text}");
            continue;
        };
        let fields = fields.unwrap_or_else(|| panic!("a valid line rejected: {text}"));
        assert_eq!(fields.status, entry.status, "the status of {text}");
        assert_eq!(fields.url, entry.url.as_deref(), "the URL of {text}");
    }
    assert_eq!(parse_access(b"garbage"), None, "the fields of \"garbage\"");
    let cut = b"1.2.3.4 - - [01/Mar/2026:08:00:00 +0800] \"GET / HTTP/1.1\" 200";
    assert_eq!(parse_access(cut), None, "the fields of a line cut after its status: {}", cut.escape_ascii());
}

#[test]
fn access_fields_follow_the_format_at_its_edges() {
    let line = |time: &str, request: &str, bytes: &str| {
        format!(r#"203.0.113.7 - - [{time}] "{request}" 200 {bytes} "-" "curl/8""#).into_bytes()
    };
    let good = "01/Mar/2026:08:00:00 +0800";
    // A real calendar day, leap years included: every fourth year, but not a century not divisible by 400.
    for time in
        [good, "29/Feb/2024:23:59:59 -1130", "29/Feb/2000:00:00:00 +0000", "31/Dec/1999:12:00:00 +2359"]
    {
        let text = line(time, "GET / HTTP/1.1", "512");
        assert!(parse_access(&text).is_some(), "the fields of a valid line: {}", text.escape_ascii());
    }
    let bad_times = [
        "29/Feb/2023:08:00:00 +0800",
        "29/Feb/1900:08:00:00 +0800",
        "29/Feb/2100:08:00:00 +0800",
        "01-Mar/2026:08:00:00 +0800",
        "01/Mar-2026:08:00:00 +0800",
        "01/Mar/2026-08:00:00 +0800",
        "01/Mar/2026:08-00:00 +0800",
        "01/Mar/2026:08:00-00 +0800",
        "01/Mar/2026:08:00:00 +08000",
        "01/Mar/2026:08:00:00 +080",
        "01/Mar/2026:08:00:00 +0800 ",
        "01/Mar/2026:08:00:000 +0800",
    ];
    for time in bad_times {
        let text = line(time, "GET / HTTP/1.1", "512");
        assert_eq!(
            parse_access(&text),
            None,
            "the fields of a line with a bad time: {}",
            text.escape_ascii()
        );
    }
    // BYTES is one or more digits, however many: the size is not a field the jobs read.
    for bytes in ["0", "9999999999999999999", "1234567890123456789012345"] {
        let text = line(good, "GET / HTTP/1.1", bytes);
        assert!(
            parse_access(&text).is_some(),
            "the fields of a line of {bytes} bytes: {}",
            text.escape_ascii()
        );
    }
    // The target is between the first and the last space, when method, target and protocol are all
    // non-empty; otherwise the line is valid and has no URL.
    let targets: [(&str, Option<&[u8]>); 9] = [
        ("GET /a HTTP/1.1", Some(b"/a")),
        ("GET /a b HTTP/1.1", Some(b"/a b")),
        ("G / H", Some(b"/")),
        (" /a HTTP/1.1", None),
        ("GET  HTTP/1.1", None),
        ("GET /a ", None),
        ("GET /a", None),
        ("-", None),
        ("", None),
    ];
    for (request, url) in targets {
        let text = line(good, request, "512");
        let fields =
            parse_access(&text).unwrap_or_else(|| panic!("a valid line rejected: {}", text.escape_ascii()));
        assert_eq!(fields.url, url, "the URL of {}", text.escape_ascii());
    }
}

/// 64-bit FNV-1a, as `partition_of`'s documentation names it.
fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn partition_is_fnv1a_of_the_key_modulo_reducers(key in "\\PC{0,16}", reducers in 1usize..100) {
        prop_assert_eq!(
            partition_of(&key, reducers),
            (fnv1a(&key) % reducers as u64) as usize,
            "the partition of {:?} among {} reducers", key, reducers
        );
    }
}

#[test]
fn partitions_of_known_keys() {
    // Known FNV-1a hashes: of "a", 0xaf63dc4c8601ec8c; of "foobar", 0x85944171f73967e8.
    for reducers in [1, 2, 3, 7, 1000] {
        for (key, hash) in [("a", 0xaf63_dc4c_8601_ec8c_u64), ("foobar", 0x8594_4171_f739_67e8)] {
            assert_eq!(
                partition_of(key, reducers),
                (hash % reducers as u64) as usize,
                "the partition of {key:?} among {reducers} reducers"
            );
        }
    }
    let spread: std::collections::HashSet<usize> =
        (0..100).map(|i| partition_of(&format!("w{i}"), 8)).collect();
    assert_eq!(spread.len(), 8, "the partitions of 100 keys among 8 reducers: {spread:?}");
}

#[test]
fn map_task_combines_and_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = common::text_file(dir.path(), "text.txt", 1, 20_000);
    let len = std::fs::metadata(&path).unwrap().len();
    let split = Split { file: 0, path, start: 0, end: len };
    let output = map_split(&WordCount, &split, 3).unwrap();
    assert_eq!(output.runs.len(), 3, "runs of one map task for 3 reducers");
    assert_eq!(output.emitted, truth.values().sum::<u64>(), "pairs emitted for the words of a 20 kB text");
    let mut total = std::collections::HashMap::new();
    for (reducer, run) in output.runs.iter().enumerate() {
        assert!(run.windows(2).all(|w| w[0].0 < w[1].0), "run {reducer} has each key once, sorted");
        for (key, value) in run {
            assert_eq!(partition_of(key, 3), reducer, "the partition of {key:?}, found in run {reducer}");
            total.insert(key.clone(), *value);
        }
    }
    assert_eq!(total, truth, "the combined counts of every word of a 20 kB text");
}

#[test]
fn a_job_is_a_trait_object_shared_by_threads() {
    fn shared<T: Send + Sync + ?Sized>(_: &T) {}
    let job: &dyn Job = &WordCount;
    shared(job);
    let mut pairs = Vec::new();
    job.map(Record { file: 0, line: b"to be or not to be\n" }, &mut |k, v| pairs.push((k.to_owned(), v)));
    assert_eq!(pairs.len(), 6, "pairs mapped from \"to be or not to be\": {pairs:?}");
    let mut values = vec![1, 1, 1];
    job.combine("to", &mut values);
    assert_eq!(job.reduce("to", &values), "3", "\"to\" reduced from the values {values:?}");
}
