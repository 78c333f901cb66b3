//! Stage 2: count a field's values and list the top N: count descending, then key ascending.

mod common;

use common::{access_log, expected, file, lossy, ranked, run_json, top_entries};
use logstat::{Command, Config, Counter, Field};
use proptest::prelude::*;

#[test]
fn counter_ranks_by_count_then_by_key_bytes() {
    let mut counter = Counter::new();
    for key in ["b", "a", "c", "b", "a", "B", "d", "d", "a"] {
        counter.add(key.as_bytes(), 1);
    }
    counter.add(b"e", 3);
    let top: Vec<(Vec<u8>, u64)> = counter.top(10);
    let expected: Vec<(&[u8], u64)> = vec![(b"a", 3), (b"e", 3), (b"b", 2), (b"d", 2), (b"B", 1), (b"c", 1)];
    let expected: Vec<(Vec<u8>, u64)> = expected.into_iter().map(|(k, c)| (k.to_vec(), c)).collect();
    assert_eq!(top, expected, "count descending, then key ascending by bytes ('B' < 'c')");
    assert_eq!(counter.top(2), expected[..2].to_vec(), "top(2) is a prefix of the full ranking");
    assert_eq!(counter.top(0), Vec::new(), "top(0) is empty");
    assert_eq!((counter.len(), counter.get(b"a"), counter.get(b"zz")), (6, 3, 0));
}

#[test]
fn merged_counters_add_up() {
    let (mut left, mut right) = (Counter::new(), Counter::new());
    left.add(b"/a", 2);
    left.add(b"/b", 1);
    right.add(b"/b", 5);
    right.add(b"/c", 1);
    left.merge(right);
    assert_eq!(left.top(10), vec![(b"/b".to_vec(), 6), (b"/a".to_vec(), 2), (b"/c".to_vec(), 1)]);
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn top_n_is_the_head_of_a_full_sort(
        keys in prop::collection::vec(prop::collection::vec(0u8..4, 0..3), 0..200),
        n in 0usize..12,
    ) {
        let mut counter = Counter::new();
        for key in &keys {
            counter.add(key, 1);
        }
        let mut all = ranked(keys.iter().map(|k| &k[..]));
        all.truncate(n);
        prop_assert_eq!(counter.top(n), all);
    }
}

#[test]
fn top_by_every_field_matches_the_oracle_on_the_fixture() {
    for field in Field::ALL {
        let want = expected(&format!("nginx/expected/top-{field}.json"));
        let got = run_json(Command::Top { field, n: 1_000_000 }, vec![file(access_log())]);
        assert_eq!(got["field"], want["field"], "field name for --by {field}");
        assert_eq!(got["total"], want["total"], "valid lines for --by {field}");
        assert_eq!(got["malformed"], want["malformed"], "malformed lines for --by {field}");
        assert_eq!(top_entries(&got), top_entries(&want), "top entries for --by {field}");
    }
}

#[test]
fn n_limits_the_listing_to_the_first_entries() {
    let want = top_entries(&expected("nginx/expected/top-ip.json"));
    let got = run_json(Command::Top { field: Field::Ip, n: 3 }, vec![file(access_log())]);
    assert_eq!(top_entries(&got), want[..3].to_vec());
}

#[test]
fn the_table_lists_counts_then_keys() {
    let config = Config::new(Command::Top { field: Field::Method, n: 2 }, vec![file(access_log())]);
    let ran = common::run(&config);
    let want = top_entries(&expected("nginx/expected/top-method.json"));
    let rows: Vec<Vec<&str>> = ran.stdout.lines().map(|line| line.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "a header and two rows:\n{}", ran.stdout);
    assert_eq!(rows[0], ["count", "method"], "the header names the columns:\n{}", ran.stdout);
    for (row, (key, count)) in rows[1..].iter().zip(&want) {
        assert_eq!(row, &[count.to_string().as_str(), key.as_str()], "table:\n{}", ran.stdout);
    }
    assert_eq!(ran.outcome.exit_code(), 0);
}

#[test]
fn top_urls_of_a_generated_log_match_what_was_generated() {
    let lines = common::generated(11, 30_000);
    let want = ranked(lines.iter().filter_map(|l| l.entry.as_ref()?.url.as_deref()));
    let log = common::joined(&lines);
    let mut config = Config::new(Command::Top { field: Field::Url, n: 25 }, vec![]);
    config.json = true;
    let got = common::json_of(&common::run_with_stdin(&config, &log));
    assert_eq!(top_entries(&got), lossy(&want[..25]));
    let valid = lines.iter().filter(|l| l.entry.is_some()).count() as u64;
    assert_eq!(got["total"], valid, "total counts the valid lines");
    assert_eq!(got["malformed"], lines.len() as u64 - valid);
}

#[test]
fn summary_counts_lines_clients_and_bytes() {
    let lines = common::generated(5, 5_000);
    let entries: Vec<_> = lines.iter().filter_map(|l| l.entry.as_ref()).collect();
    let mut config = Config::new(Command::Summary, vec![]);
    config.json = true;
    let got = common::json_of(&common::run_with_stdin(&config, &common::joined(&lines)));
    assert_eq!(got["total"], entries.len() as u64);
    assert_eq!(got["malformed"], (lines.len() - entries.len()) as u64);
    assert_eq!(got["bytes"], entries.iter().map(|e| e.bytes).sum::<u64>());
    let clients: std::collections::HashSet<_> = entries.iter().map(|e| &e.addr).collect();
    assert_eq!(got["distinct_ips"], clients.len() as u64);
    let not_found = entries.iter().filter(|e| (400..500).contains(&e.status)).count() as u64;
    assert_eq!(got["status_classes"]["4xx"], not_found);
}
