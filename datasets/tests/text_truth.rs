//! The generated text: deterministic per seed, and its truth counts equal a plain recount.

mod common;

use datasets::text::{TextSpec, write_text};

#[test]
fn truth_counts_match_a_recount() {
    for seed in [1, 2] {
        let mut out = Vec::new();
        let truth = write_text(&TextSpec { seed, vocabulary: 30_000 }, 400_000, &mut out).unwrap();
        assert!(out.len() >= 400_000);
        assert_eq!(truth, common::text_words(&out), "seed {seed}");
    }
}

#[test]
fn same_seed_same_text_and_prefixes() {
    let spec = TextSpec { seed: 5, vocabulary: 2_000 };
    let (mut a, mut b, mut small) = (Vec::new(), Vec::new(), Vec::new());
    write_text(&spec, 100_000, &mut a).unwrap();
    write_text(&spec, 100_000, &mut b).unwrap();
    write_text(&spec, 10_000, &mut small).unwrap();
    assert_eq!(a, b);
    assert!(a.starts_with(&small));
}

#[test]
fn text_holds_the_awkward_cases() {
    let mut out = Vec::new();
    let truth = write_text(&TextSpec { seed: 1, vocabulary: 30_000 }, 1_500_000, &mut out).unwrap();
    assert!(out.windows(2).any(|w| w == b"\r\n"), "CRLF");
    assert!(out.contains(&0xff), "a byte that is not UTF-8");
    assert!(out.contains(&b'\''), "contractions");
    for word in ["caf\u{e9}", "stra\u{df}e", "\u{4e2d}\u{6587}", "the", "t"] {
        assert!(truth.contains_key(word), "{word}");
    }
    assert!(out.windows(3).any(|w| w == b"The"), "capitals");
}
