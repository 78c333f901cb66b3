//! Stage 2: count a field's values and list the top N: count descending, then key ascending.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{access_log, expected, file, lossy, ranked, run_json, shown_ranked, top_entries};
use logstat::{Command, Config, Counter, Field};
use proptest::prelude::*;
use testkit::test;

#[test]
fn counter_ranks_by_count_then_by_key_bytes() {
    let mut counter = Counter::new();
    assert!(counter.is_empty(), "a new counter is empty");
    for key in ["b", "a", "c", "b", "a", "B", "d", "d", "a"] {
        counter.add(key.as_bytes(), 1);
    }
    counter.add(b"e", 3);
    let top: Vec<(Vec<u8>, u64)> = counter.top(10);
    let expected: Vec<(&[u8], u64)> = vec![(b"a", 3), (b"e", 3), (b"b", 2), (b"d", 2), (b"B", 1), (b"c", 1)];
    let expected: Vec<(Vec<u8>, u64)> = expected.into_iter().map(|(k, c)| (k.to_vec(), c)).collect();
    assert_eq!(
        shown_ranked(&top),
        shown_ranked(&expected),
        "top(10): count descending, then key ascending by bytes ('B' < 'c')"
    );
    assert_eq!(
        shown_ranked(&counter.top(2)),
        shown_ranked(&expected[..2]),
        "top(2) is a prefix of the full ranking"
    );
    assert_eq!(shown_ranked(&counter.top(0)), Vec::new(), "top(0) is empty");
    assert_eq!(
        (counter.len(), counter.is_empty(), counter.get(b"a"), counter.get(b"zz")),
        (6, false, 3, 0),
        "(len(), is_empty(), get(\"a\"), get(\"zz\"))"
    );
}

/// The system allocator, counting the allocations of each thread, so that a test can see whether
/// `Counter::add` copies a key it already has.
struct CountingAllocator;

thread_local! {
    /// Allocations (and reallocations) this thread has made.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one allocation on this thread. A `Cell<u64>` needs no destructor, so reaching it
/// never allocates; `try_with` skips the count while the thread's locals are being torn down.
fn count_allocation() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call goes to the system allocator with the caller's arguments unchanged; counting
// only touches a thread-local `Cell`.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: the caller upholds `alloc`'s contract, which is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn counter_copies_a_key_only_the_first_time() {
    // Short keys like most paths, and long ones like user agents.
    let mut keys: Vec<Vec<u8>> = (0..150).map(|i| format!("/static/asset-{i}.js").into_bytes()).collect();
    keys.extend(
        (0..50).map(|i| format!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 {i}").into_bytes()),
    );
    let mut counter = Counter::new();
    for key in &keys {
        counter.add(key, 1);
    }
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..50 {
        for key in &keys {
            counter.add(key, 1);
        }
    }
    let made = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(
        made, 0,
        "allocations while adding 10,000 times to keys already counted: look a key up by the borrowed \
         bytes, and copy it only when it is new"
    );
    assert_eq!(counter.get(&keys[7]), 51, "get() of a key added 51 times");
    assert_eq!(counter.get(&keys[170]), 51, "get() of a long key added 51 times");
}

#[test]
fn merged_counters_add_up() {
    let (mut left, mut right) = (Counter::new(), Counter::new());
    left.add(b"/a", 2);
    left.add(b"/b", 1);
    right.add(b"/b", 5);
    right.add(b"/c", 1);
    left.merge(right);
    assert_eq!(
        shown_ranked(&left.top(10)),
        shown_ranked(&[(b"/b".to_vec(), 6), (b"/a".to_vec(), 2), (b"/c".to_vec(), 1)]),
        "top(10) of left after left.merge(right)"
    );
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
        prop_assert_eq!(shown_ranked(&counter.top(n)), shown_ranked(&all), "top({}) against a full sort", n);
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
    assert_eq!(top_entries(&got), want[..3].to_vec(), "top entries with -n 3 against the oracle's first 3");
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
    assert_eq!(ran.outcome.exit_code(), 0, "exit code");
}

#[test]
fn a_command_line_runs_in_process_as_main_runs_it() {
    let log = access_log();
    let config = common::config_of(&[
        "top",
        "--by",
        "status",
        "-n",
        "3",
        "--json",
        "--threads",
        "2",
        &log.to_string_lossy(),
    ]);
    let ran = common::run(&config);
    let want = expected("nginx/expected/top-status.json");
    let got = common::json_of(&ran);
    assert_eq!(top_entries(&got), top_entries(&want)[..3].to_vec(), "logstat top --by status -n 3 --json");
    assert_eq!(got["malformed"], want["malformed"], "malformed lines of logstat top --by status");
    assert_eq!(ran.outcome.exit_code(), 0, "exit code");
}

#[test]
fn top_urls_of_a_generated_log_match_what_was_generated() {
    let lines = common::generated(11, 30_000);
    let want = ranked(lines.iter().filter_map(|l| l.entry.as_ref()?.url.as_deref()));
    let log = common::joined(&lines);
    let mut config = Config::new(Command::Top { field: Field::Url, n: 25 }, vec![]);
    config.json = true;
    let got = common::json_of(&common::run_with_stdin(&config, &log));
    assert_eq!(top_entries(&got), lossy(&want[..25]), "the top 25 URLs against the generator's");
    let valid = lines.iter().filter(|l| l.entry.is_some()).count() as u64;
    assert_eq!(got["total"], valid, "total: the valid lines");
    assert_eq!(got["malformed"], lines.len() as u64 - valid, "malformed: the lines that are not valid");
}

#[test]
fn summary_counts_lines_clients_and_bytes() {
    let lines = common::generated(5, 5_000);
    let entries: Vec<_> = lines.iter().filter_map(|l| l.entry.as_ref()).collect();
    let mut config = Config::new(Command::Summary, vec![]);
    config.json = true;
    let got = common::json_of(&common::run_with_stdin(&config, &common::joined(&lines)));
    assert_eq!(got["total"], entries.len() as u64, "total: the valid lines");
    assert_eq!(
        got["malformed"],
        (lines.len() - entries.len()) as u64,
        "malformed: the lines that are not valid"
    );
    assert_eq!(
        got["bytes"],
        entries.iter().map(|e| e.bytes).sum::<u64>(),
        "bytes: the sum of the byte counts"
    );
    let clients: std::collections::HashSet<_> = entries.iter().map(|e| &e.addr).collect();
    assert_eq!(got["distinct_ips"], clients.len() as u64, "distinct_ips: the different addresses");
    let not_found = entries.iter().filter(|e| (400..500).contains(&e.status)).count() as u64;
    assert_eq!(
        got["status_classes"]["4xx"], not_found,
        "status_classes.4xx: lines with a status in 400..500"
    );
}

/// Runs `top --by url` as JSON on `log` from standard input, on one thread with `block_size`.
fn top_urls_in_blocks(log: &[u8], block_size: usize) -> serde_json::Value {
    let mut config = Config::new(Command::Top { field: Field::Url, n: 20 }, vec![]);
    config.json = true;
    config.threads = 1;
    config.block_size = block_size;
    common::json_of(&common::run_with_stdin(&config, log))
}

#[test]
fn every_line_counts_once_whatever_the_block_size() {
    // Generated lines are a few hundred bytes long: most block sizes here are shorter than a line,
    // so lines cross block boundaries, and many lie across several blocks.
    let lines = common::generated(12, 600);
    let mut log = common::joined(&lines);
    log.pop(); // the last line has no newline: it still counts
    let want = ranked(lines.iter().filter_map(|l| l.entry.as_ref()?.url.as_deref()));
    let valid = lines.iter().filter(|l| l.entry.is_some()).count() as u64;
    for block_size in [1, 2, 7, 64, 250, 4096, 1 << 20] {
        let got = top_urls_in_blocks(&log, block_size);
        let what = format!("{block_size}-byte blocks on one thread");
        assert_eq!(got["total"], valid, "total (valid lines) with {what}");
        assert_eq!(got["malformed"], lines.len() as u64 - valid, "malformed lines with {what}");
        assert_eq!(top_entries(&got), lossy(&want[..20]), "the top 20 URLs with {what}");
    }
}

#[test]
fn each_input_ends_a_line_and_a_blank_line_is_malformed() {
    let lines = common::generated(13, 50);
    let entries: Vec<_> = lines.iter().filter(|l| l.entry.is_some()).take(3).collect();
    let text = |i: usize| &entries[i].text[..];
    let dir = testkit::scratch_dir();
    let (first, second) = (dir.path().join("a.log"), dir.path().join("b.log"));
    // a.log: a line, a blank line, and a last line without its newline; b.log: one line.
    std::fs::write(&first, [text(0), b"\n\n", text(1)].concat()).expect("the scratch dir is writable");
    std::fs::write(&second, [text(2), b"\n"].concat()).expect("the scratch dir is writable");
    let want = ranked(entries.iter().filter_map(|l| Some(&l.entry.as_ref()?.addr[..])));
    for block_size in [3, 1 << 20] {
        let inputs = vec![file(&first), file(&second)];
        let mut config = Config::new(Command::Top { field: Field::Ip, n: 10 }, inputs);
        config.json = true;
        config.threads = 1;
        config.block_size = block_size;
        let got = common::json_of(&common::run(&config));
        let what =
            format!("a.log (a line, a blank line, a line without newline), b.log, {block_size}-byte blocks");
        assert_eq!(got["total"], 3, "valid lines of {what}: the end of a.log ends its last line");
        assert_eq!(
            got["malformed"], 1,
            "malformed lines of {what}: the blank line, none after b.log's newline"
        );
        assert_eq!(top_entries(&got), lossy(&want), "top addresses of {what}");
    }
}
