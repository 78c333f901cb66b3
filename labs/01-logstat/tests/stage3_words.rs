//! Stage 3: word frequency, in request paths and (the original homework) in any text.

mod common;

use common::{access_log, expected, file, fixture, lossy, run_json, top_entries};
use logstat::{Command, Config, Input, path_words, text_words};
use testkit::test;

fn words_of_path(path: &[u8]) -> Vec<String> {
    let mut words = Vec::new();
    path_words(path, |word| words.push(String::from_utf8_lossy(word).into_owned()));
    words
}

fn words_of_text(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    text_words(text, |word| words.push(word.to_owned()));
    words
}

#[test]
fn path_words_are_lowercased_ascii_letter_and_digit_runs() {
    let cases: [(&[u8], &[&str]); 5] = [
        (b"/static/JS/app.v2.min.js", &["static", "js", "app", "v2", "min", "js"]),
        (b"/caf%C3%A9/na\xc3\xafve--2026_x", &["caf", "c3", "a9", "na", "ve", "2026", "x"]),
        (b"///", &[]),
        (b"", &[]),
        (b"A", &["a"]),
    ];
    for (path, want) in cases {
        assert_eq!(words_of_path(path), want, "path_words of \"{}\"", path.escape_ascii());
    }
}

#[test]
fn text_words_are_lowercased_unicode_letter_and_digit_runs() {
    let text = "Hello, World! It's 2026; café-au-lait, Straße and ΟΔΟΣ.\r\n中文 naïve";
    assert_eq!(
        words_of_text(text),
        ["hello", "world", "it", "s", "2026", "café", "au", "lait", "straße", "and", "οδος", "中文", "naïve"],
        "text_words of {text:?}"
    );
    assert_eq!(words_of_text(" \t\n..."), Vec::<String>::new(), "text_words of \" \\t\\n...\"");
}

#[test]
fn path_words_of_the_fixture_match_the_oracle() {
    let want = expected("nginx/expected/words.json");
    let got = run_json(Command::Words { n: 1_000_000, text: false }, vec![file(access_log())]);
    assert_eq!(got["field"], "word", "field name");
    assert_eq!(
        (&got["total"], &got["malformed"]),
        (&want["total"], &want["malformed"]),
        "(total, malformed): valid and malformed lines"
    );
    assert_eq!(top_entries(&got), top_entries(&want), "top words against the oracle's");
}

#[test]
fn text_words_of_the_sample_match_the_oracle() {
    let want = expected("text/expected/words.json");
    let got = run_json(Command::Words { n: 1_000_000, text: true }, vec![file(fixture("text/sample.txt"))]);
    assert_eq!(got["field"], "word", "field name");
    assert_eq!(got["total"], want["total"], "total is the number of words counted");
    assert_eq!(top_entries(&got), top_entries(&want), "top words against the oracle's");
}

#[test]
fn text_words_of_a_generated_text_match_the_truth() {
    let mut text = Vec::new();
    let truth = datasets::text::write_text(
        &datasets::text::TextSpec { seed: 3, ..Default::default() },
        300_000,
        &mut text,
    )
    .expect("writing to memory cannot fail");
    let want = common::ranked_counts(truth.iter().map(|(word, count)| (word.as_bytes(), *count)));
    let mut config = Config::new(Command::Words { n: 40, text: true }, vec![Input::Stdin]);
    config.json = true;
    let got = common::json_of(&common::run_with_stdin(&config, &text));
    assert_eq!(top_entries(&got), lossy(&want[..40]), "the top 40 words against the generator's");
    assert_eq!(got["total"], truth.values().sum::<u64>(), "total: the words written");
}

#[test]
fn bytes_that_are_not_utf8_separate_the_words_of_a_text() {
    // \xff and \xfe are never UTF-8; \xc3\xaf is ï; a lone \xc3 is the start of a sequence cut short.
    let text = b"caf\xffe NA\xc3\xafVE na\xc3\xafve\n\xfe\xffword word\xc3 x";
    let mut config = Config::new(Command::Words { n: 10, text: true }, vec![Input::Stdin]);
    config.json = true;
    let got = common::json_of(&common::run_with_stdin(&config, text));
    let want: Vec<(String, u64)> =
        [("naïve", 2), ("word", 2), ("caf", 1), ("e", 1), ("x", 1)].map(|(w, c)| (w.to_owned(), c)).into();
    assert_eq!(top_entries(&got), want, "words of \"{}\"", text.escape_ascii());
    assert_eq!(got["total"], 7, "total: the words counted in \"{}\"", text.escape_ascii());
}
