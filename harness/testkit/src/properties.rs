//! Proptest's settings for the graded property tests.
//!
//! The same two choices in every lab: no regression files, because a graded test must not write
//! into the student's `tests/` folder, and a case count each lab picks for its properties' cost.
//! A failure still shows everything needed to debug it: proptest prints the shrunk input whole,
//! with `{:#?}`, in the test's panic message.

use proptest::test_runner::Config;

/// Proptest's settings with `cases` cases and no failure persistence; everything else is
/// proptest's default.
///
/// Proptest's own default is 256 cases. In a test file it goes first in a `proptest!` block:
/// `#![proptest_config(testkit::proptest_config(64))]`.
///
/// # Examples
///
/// ```
/// use proptest::prelude::*;
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::new(testkit::proptest_config(64));
/// let outcome = runner.run(&(0..100u32, 0..100u32), |(a, b)| {
///     prop_assert_eq!(a + b, b + a);
///     Ok(())
/// });
/// assert!(outcome.is_ok(), "{outcome:?}");
/// ```
pub fn proptest_config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Just;
    use proptest::test_runner::{TestCaseError, TestRunner};

    use super::*;

    #[test]
    fn keeps_the_case_count_and_writes_no_files() {
        let config = proptest_config(64);
        assert_eq!(config.cases, 64, "the case count asked for");
        assert!(
            config.failure_persistence.is_none(),
            "no regression files: {:?}",
            config.failure_persistence
        );
        let default = Config::default();
        assert_eq!(config.max_shrink_iters, default.max_shrink_iters, "shrinking as by default");
        assert_eq!(config.timeout, default.timeout, "per-case timeout as by default");
    }

    #[test]
    fn a_failure_prints_its_input_whole() {
        // Longer than any terminal line, with bytes that are not text: nothing may cut it short.
        let input: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        let mut runner = TestRunner::new(proptest_config(4));
        let failure = runner
            .run(&Just(input.clone()), |_| Err(TestCaseError::fail("always")))
            .expect_err("the case fails");
        let printed = failure.to_string();
        assert!(printed.contains("minimal failing input"), "proptest's failure message: {printed:.200}");
        let numbers: Vec<u8> =
            printed.lines().filter_map(|line| line.trim().trim_end_matches(',').parse().ok()).collect();
        assert_eq!(numbers.len(), input.len(), "bytes of the failing input printed");
        assert!(numbers == input, "the failing input is printed byte for byte, in order");
    }
}
