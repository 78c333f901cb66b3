//! Reading the output of a libtest test binary: its list of tests, and why a test failed.
//!
//! `<exe> --list --format terse` prints one `name: test` line per test. A failing test prints
//! `thread '<name>' panicked at <file>:<line>:<col>:` and then the panic message on stderr.

/// How many lines of a panic message a report keeps.
pub const MESSAGE_LINES: usize = 20;

/// How many bytes of any message a report keeps: a property test's minimal input fits, a flood does
/// not.
pub const MESSAGE_BYTES: usize = 16 * 1024;

/// `text` made safe to show on a terminal and in every report: control characters (an ANSI escape
/// that clears the screen, a carriage return that overwrites a line) written as `\u{1b}`, tabs and
/// newlines kept, and at most [`MESSAGE_BYTES`] bytes with a note of how many more there were.
pub fn sanitize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len().min(MESSAGE_BYTES));
    for (at, ch) in text.char_indices() {
        if clean.len() >= MESSAGE_BYTES {
            clean.push_str(&format!("\n… ({} more bytes)", text.len() - at));
            break;
        }
        match ch {
            '\n' | '\t' => clean.push(ch),
            // Bidirectional overrides can make text read in another order than it is.
            ch if ch.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&ch)
                || ('\u{2066}'..='\u{2069}').contains(&ch) =>
            {
                clean.push_str(&ch.escape_unicode().to_string());
            }
            ch => clean.push(ch),
        }
    }
    clean
}

/// The test names in the output of `<exe> --list --format terse`, benchmarks left out.
pub fn parse_list(stdout: &str) -> Vec<String> {
    stdout.lines().filter_map(|line| line.strip_suffix(": test")).map(str::to_owned).collect()
}

/// Whether libtest's `stdout` says it found no test to run (`--exact` with an unknown name).
pub fn ran_no_test(stdout: &str) -> bool {
    stdout.lines().any(|line| line.trim_end() == "running 0 tests")
}

/// The first panic in `output`: the line with `panicked at` and the message after it, trimmed, at
/// most [`MESSAGE_LINES`] lines with a note of how many more there were. A property test's failure
/// is kept whole: its minimal failing input is what the student needs, and a cut one misleads.
pub fn panic_message(output: &str) -> Option<String> {
    let mut lines = output.lines();
    let first = lines.by_ref().find(|line| line.contains(" panicked at "))?;
    // With --nocapture the panic can land on the line where libtest wrote `test name ... `.
    let first = &first[first.find("thread '").unwrap_or(0)..];
    let mut message = vec![first.trim_end()];
    message.extend(lines.take_while(|line| !is_after_message(line)).map(str::trim_end));
    while message.last().is_some_and(|line| line.trim().is_empty()) {
        message.pop();
    }
    let is_property_test = message.iter().any(|line| line.contains("minimal failing input"));
    if !is_property_test && message.len() > MESSAGE_LINES {
        let more = message.len() - (MESSAGE_LINES - 1);
        message.truncate(MESSAGE_LINES - 1);
        let note = format!("… {more} more line(s): run the test alone with `cargo test` to see them all");
        return Some(format!("{}\n{note}", message.join("\n")));
    }
    Some(message.join("\n"))
}

fn is_after_message(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE")
        || line.starts_with("note: Some details are omitted")
        || line.starts_with("stack backtrace:")
        || line.starts_with("test result:")
        || line.starts_with("failures:")
        || line.starts_with("---- ")
        || line.starts_with("thread '")
        || is_test_status(line)
}

/// libtest's `test name ... ok` line (cut short under `--nocapture` when the test prints).
fn is_test_status(line: &str) -> bool {
    let line = line.trim_end();
    line.starts_with("test ") && (line.contains(" ... ") || line.ends_with(" ..."))
}

/// The last non-empty lines of `output`, at most [`MESSAGE_LINES`], without libtest's own summary:
/// what a failure that did not panic (an abort, a crash) left behind.
pub fn last_lines(output: &str) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            !(line.starts_with("running ")
                || line.starts_with("note: run with `RUST_BACKTRACE")
                || line.starts_with("test result:")
                || line.starts_with("failures:")
                || is_test_status(line))
        })
        .collect();
    lines[lines.len().saturating_sub(MESSAGE_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_terse_list() {
        let stdout = "parses_basic: test\nmodule::nested_case: test\nbench_thing: benchmark\n";
        assert_eq!(parse_list(stdout), ["parses_basic", "module::nested_case"]);
        assert!(parse_list("").is_empty());
    }

    #[test]
    fn sanitize_escapes_control_characters_and_caps_bytes() {
        assert_eq!(sanitize("a\u{1b}[2Jb\r\n\tc"), "a\\u{1b}[2Jb\\u{d}\n\tc", "ESC and CR escaped");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y", "a right-to-left override escaped");
        let flood = "é".repeat(MESSAGE_BYTES);
        let capped = sanitize(&flood);
        assert!(capped.len() < MESSAGE_BYTES + 64, "capped at {} bytes", capped.len());
        assert!(
            capped.ends_with(&format!("({} more bytes)", MESSAGE_BYTES)),
            "{}",
            &capped[capped.len() - 40..]
        );
    }

    #[test]
    fn tells_one_test_run_from_none() {
        let ran = "\nrunning 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored\n";
        let none = "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored\n";
        assert!(!ran_no_test(ran), "one test ran");
        assert!(ran_no_test(none), "no test ran");
    }

    #[test]
    fn extracts_an_assert_eq_panic() {
        let stderr = "\
thread 'top_breaks_ties' panicked at tests/stage2_top.rs:20:5:
assertion `left == right` failed
  left: [\"a\"]
 right: [\"b\"]
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
";
        let message = panic_message(stderr).unwrap();
        assert_eq!(
            message,
            "thread 'top_breaks_ties' panicked at tests/stage2_top.rs:20:5:\n\
             assertion `left == right` failed\n  left: [\"a\"]\n right: [\"b\"]"
        );
    }

    #[test]
    fn extracts_a_todo_panic_among_libtest_output() {
        let output = "\nrunning 1 test\ntest parses ... \
thread 'parses' panicked at src/lib.rs:12:5:
not yet implemented: parse a line

failures:

failures:
    parses

test result: FAILED. 0 passed; 1 failed
";
        assert_eq!(
            panic_message(output).unwrap(),
            "thread 'parses' panicked at src/lib.rs:12:5:\nnot yet implemented: parse a line"
        );
    }

    #[test]
    fn keeps_only_the_first_panic_and_caps_its_length() {
        let mut output = String::from("thread 'a' panicked at x.rs:1:1:\n");
        for i in 0..50 {
            output.push_str(&format!("line {i}\n"));
        }
        let message = panic_message(&output).unwrap();
        assert_eq!(message.lines().count(), MESSAGE_LINES);
        assert!(
            message.ends_with("… 32 more line(s): run the test alone with `cargo test` to see them all"),
            "{message}"
        );
        let two = "thread 'w' panicked at a.rs:1:1:\nfirst\nthread 'main' panicked at b.rs:2:2:\nsecond\n";
        assert_eq!(panic_message(two).unwrap(), "thread 'w' panicked at a.rs:1:1:\nfirst");
    }

    #[test]
    fn keeps_a_property_tests_minimal_failing_input_whole() {
        let mut output =
            String::from("thread 'agrees' panicked at tests/stage1.rs:9:1:\nTest failed: left != right.\n");
        output.push_str("minimal failing input: line = [\n");
        for i in 0..40 {
            output.push_str(&format!("    {i},\n"));
        }
        output.push_str("]\n\tsuccesses: 3\n\tlocal rejects: 0\n");
        let message = panic_message(&output).unwrap();
        assert_eq!(message.lines().count(), 46, "{message}");
        assert!(message.contains("    39,\n]"), "{message}");
    }

    #[test]
    fn no_panic_is_none() {
        assert_eq!(panic_message("running 1 test\nmemory allocation of 8 bytes failed\n"), None);
    }

    #[test]
    fn last_lines_drop_libtest_chatter() {
        let output = "\nrunning 1 test\ntest big ... \nmemory allocation of 4294967296 bytes failed\n";
        assert_eq!(last_lines(output), "memory allocation of 4294967296 bytes failed");
    }
}
