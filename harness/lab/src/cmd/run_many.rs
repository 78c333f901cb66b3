//! `cargo lab run-many <lab> -n N`: build once, run every graded test N times, and report each test
//! that ever failed. Flakiness is a bug.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cmd::{self, RunSpec};
use crate::output;
use crate::report::{self, indent};
use crate::style::Style;
use crate::suite::{Progress, TestRun};
use crate::workspace::Workspace;

/// What `cargo lab run-many` was asked.
#[derive(Debug)]
pub struct Options {
    /// The lab.
    pub lab: String,
    /// Runs of each test.
    pub runs: usize,
    /// Only this stage.
    pub stage: Option<String>,
    /// The reference instead of the student's crate.
    pub reference: bool,
    /// Tests at once.
    pub jobs: usize,
    /// Time limit of one test, in seconds.
    pub timeout: Option<u64>,
}

/// One test's record over all its runs.
#[derive(Debug, PartialEq)]
struct Record {
    stage: String,
    name: String,
    runs: usize,
    failures: usize,
    first_message: String,
}

/// Runs the tests N times each and reports; exit 1 if any run failed.
///
/// # Errors
///
/// An unknown lab or stage, a missing reference, or cargo failing for a reason other than a compile
/// error.
pub fn run(ws: &Workspace, options: &Options) -> anyhow::Result<ExitCode> {
    let lab = ws.lab(&options.lab)?;
    let stages = cmd::stage_plans(lab, options.stage.as_deref())?;
    let package = if options.reference { ws.reference(lab)? } else { lab.student() };
    let spec = RunSpec {
        lab,
        stages: &stages,
        limits: cmd::limits(lab, options.timeout),
        jobs: options.jobs,
        repeat: options.runs,
        progress: Progress::Show,
    };
    let tested = cmd::test_package(ws, &package, spec)?;
    let style = Style::for_stdout();
    if tested.compile_error.is_some() {
        let text = report::test_report(
            lab,
            options.reference,
            &tested.scores,
            &tested.runs,
            tested.compile_error.as_deref(),
            style,
        );
        output::print(&text)?;
        return Ok(ExitCode::FAILURE);
    }
    let records = records(&tested.runs);
    let (text, any_failed) = render(&records, options.runs, style);
    output::print(&text)?;
    Ok(if any_failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Groups runs by test, in order of first appearance.
fn records(runs: &[TestRun]) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    for run in runs {
        let index = match records.iter().position(|r| r.stage == run.stage && r.name == run.name) {
            Some(index) => index,
            None => {
                records.push(Record {
                    stage: run.stage.clone(),
                    name: run.name.clone(),
                    runs: 0,
                    failures: 0,
                    first_message: String::new(),
                });
                records.len() - 1
            }
        };
        let record = &mut records[index];
        record.runs += 1;
        if !run.result.outcome.passed() {
            if record.failures == 0 {
                record.first_message = run.result.message.clone();
            }
            record.failures += 1;
        }
    }
    records
}

fn render(records: &[Record], runs: usize, style: Style) -> (String, bool) {
    let mut out = String::new();
    let total_runs: usize = records.iter().map(|record| record.runs).sum();
    let _ = writeln!(out, "Ran {} tests {runs} times each: {total_runs} runs.", records.len());
    let failed: Vec<&Record> = records.iter().filter(|record| record.failures > 0).collect();
    if failed.is_empty() {
        let _ = writeln!(out, "{} No test ever failed.", style.green("✓"));
        return (out, false);
    }
    let _ = writeln!(out, "{} {} test(s) failed at least once:", style.red("✗"), failed.len());
    for record in failed {
        let _ = writeln!(
            out,
            "\n  {}: {}  failed {}/{} runs{}",
            record.stage,
            record.name,
            record.failures,
            record.runs,
            if record.failures < record.runs { style.yellow(" (flaky)") } else { String::new() }
        );
        let _ = writeln!(out, "{}", indent(&record.first_message, 6));
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Finished, Outcome};
    use std::time::Duration;

    fn run(name: &str, outcome: Outcome, message: &str) -> TestRun {
        TestRun {
            stage: "s".into(),
            name: name.into(),
            result: Finished { outcome, duration: Duration::ZERO, message: message.into() },
        }
    }

    #[test]
    fn counts_failures_and_keeps_the_first_message() {
        let runs = [
            run("a", Outcome::Passed, ""),
            run("a", Outcome::Failed, "first"),
            run("a", Outcome::TimedOut, "second"),
            run("b", Outcome::Passed, ""),
            run("b", Outcome::Passed, ""),
            run("a", Outcome::Passed, ""),
        ];
        let records = records(&runs);
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].runs, records[0].failures), (4, 2));
        assert_eq!(records[0].first_message, "first");
        assert_eq!((records[1].runs, records[1].failures), (2, 0));
        let (text, failed) = render(&records, 3, Style::plain());
        assert!(failed);
        assert!(text.contains("s: a  failed 2/4 runs (flaky)"), "{text}");
        assert!(!text.contains("s: b"), "{text}");
    }

    #[test]
    fn all_passing_is_success() {
        let records = records(&[run("a", Outcome::Passed, ""), run("a", Outcome::Passed, "")]);
        let (text, failed) = render(&records, 2, Style::plain());
        assert!(!failed);
        assert!(text.contains("Ran 1 tests 2 times each: 2 runs."), "{text}");
        assert!(text.contains("No test ever failed."));
    }
}
