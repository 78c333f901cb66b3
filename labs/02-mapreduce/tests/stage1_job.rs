//! Stage 1: the job API. Splits aligned to lines, the word tokenizer, nginx fields, and one map task.

mod common;

use std::io::Cursor;

use mapreduce::{
    Job, Record, Split, WordCount, map_split, parse_access, partition_of, plan_splits, read_split, text_words,
};
use proptest::prelude::*;

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
