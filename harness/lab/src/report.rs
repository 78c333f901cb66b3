//! Human-readable reports: the results of `cargo lab test` and the grade of a submission.

use std::fmt::Write as _;
use std::time::Duration;

use crate::grade_json::GradeReport;
use crate::runner::Outcome;
use crate::score::{StageScore, fmt_points};
use crate::style::Style;
use crate::suite::TestRun;
use crate::workspace::Lab;

/// Failing test names listed per stage before "… and N more".
const NAMES_SHOWN: usize = 8;

/// A test at least this slow is named in the report.
const SLOW: Duration = Duration::from_secs(1);

/// The results of `cargo lab test`: stage by stage, then what to do about the first failing stage.
pub fn test_report(
    lab: &Lab,
    reference: bool,
    scores: &[StageScore],
    runs: &[TestRun],
    compile_error: Option<&str>,
    style: Style,
) -> String {
    let manifest = &lab.manifest;
    let who = if reference { "the reference solution" } else { "your crate" };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        style.bold(&format!("Lab {}: {}", manifest.number, manifest.title)),
        style.dim(&format!("({who})"))
    );
    if let Some(chapter) = &manifest.chapter {
        let _ = writeln!(out, "{}", style.dim(&format!("Chapter: {chapter}")));
    }
    out.push('\n');

    if let Some(errors) = compile_error {
        let package = if reference { &manifest.reference } else { &manifest.name };
        let _ = writeln!(out, "{} {package} does not compile, so every test fails:\n", style.red("✗"));
        let _ = writeln!(out, "{}\n", indent(errors, 4));
        let _ = writeln!(out, "Fix the first error, then run: cargo lab test {}", manifest.name);
        return out;
    }

    let id_width = scores.iter().map(|score| score.id.len()).max().unwrap_or(0);
    let count_width = scores.iter().map(|score| count(score).len()).max().unwrap_or(0);
    for score in scores {
        let _ = writeln!(
            out,
            "  {} {:id_width$}  {:>count_width$}  {}",
            style.mark(score.is_complete()),
            score.id,
            count(score),
            score.title,
        );
        if score.total == 0 {
            let _ = writeln!(out, "      {}", style.yellow("no tests in this stage"));
        }
        let failing: Vec<&TestRun> =
            runs.iter().filter(|run| run.stage == score.id && !run.result.outcome.passed()).collect();
        for run in failing.iter().take(NAMES_SHOWN) {
            let _ =
                writeln!(out, "      {} {}{}", style.red("✗"), run.name, style.yellow(&outcome_note(run)));
        }
        if failing.len() > NAMES_SHOWN {
            let _ = writeln!(out, "      … and {} more", failing.len() - NAMES_SHOWN);
        }
    }

    if let Some(slowest) = runs.iter().max_by_key(|run| run.result.duration)
        && slowest.result.duration >= SLOW
    {
        let _ = writeln!(
            out,
            "  {}",
            style.dim(&format!("slowest: {} {:.1}s", slowest.name, slowest.result.duration.as_secs_f64()))
        );
    }

    let passed: usize = scores.iter().map(|score| score.passed).sum();
    let total: usize = scores.iter().map(|score| score.total).sum();
    if let Some(first) = scores.iter().find(|score| !score.is_complete()) {
        out.push('\n');
        let _ = writeln!(out, "{}", style.bold(&format!("Next: stage {}, {}", first.id, first.title)));
        if let Some(stage) = manifest.stage(&first.id) {
            let _ = writeln!(out, "  Hint: {}", stage.hint);
            let _ = writeln!(out, "  Read: {}", stage.book);
        }
        if let Some(run) = runs.iter().find(|run| run.stage == first.id && !run.result.outcome.passed()) {
            let _ = writeln!(out, "  First failure, {}:", run.name);
            let _ = writeln!(out, "{}", indent(&run.result.message, 6));
        }
        let flag = if reference { " --reference" } else { "" };
        let _ = writeln!(out, "  Run: cargo lab test {} --stage {}{flag}", manifest.name, first.id);
        let _ = writeln!(out, "\n{passed}/{total} tests pass.");
    } else {
        let _ = writeln!(out, "\n{} All {total} tests pass.", style.green("✓"));
    }
    out
}

fn count(score: &StageScore) -> String {
    format!("{}/{}", score.passed, score.total)
}

/// ` (timed out after 60s)` or ` (crashed: …)` for the outcomes a name alone does not explain.
fn outcome_note(run: &TestRun) -> String {
    match run.result.outcome {
        Outcome::TimedOut | Outcome::Crashed { .. } => {
            format!(" ({})", run.result.message.lines().next().unwrap_or_default())
        }
        Outcome::Passed | Outcome::Failed => String::new(),
    }
}

/// `text` with every line indented by `spaces`.
pub fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines().map(|line| format!("{pad}{line}")).collect::<Vec<_>>().join("\n")
}

/// A grade report for people: the score, each stage, changed files, and every failure with its
/// message. The same text is each student's feedback file.
pub fn grade_report(report: &GradeReport, lab: &Lab, student: Option<&str>, style: Style) -> String {
    let mut out = String::new();
    let whose = student.map(|name| format!(" for {name}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "Lab {}: {}{whose}: {} points",
            lab.manifest.number,
            lab.manifest.title,
            report.score_text()
        ))
    );
    out.push('\n');
    if !report.sandbox {
        let _ = writeln!(out, "{}\n", style.yellow("Graded without a sandbox (--no-sandbox)."));
    }
    if let Some(why) = &report.no_submission {
        let _ = writeln!(out, "{} {why}\n", style.red("✗"));
    }
    let id_width = report.stages.iter().map(|stage| stage.id.len()).max().unwrap_or(0);
    for stage in &report.stages {
        let points = format!("{}/{}", fmt_points(stage.score), fmt_points(stage.max));
        let tests = if report.compile_error.is_some() || report.no_submission.is_some() {
            "not run".to_owned()
        } else {
            format!("{}/{} tests", stage.passed, stage.total)
        };
        let complete = stage.total > 0 && stage.passed == stage.total;
        let _ = writeln!(
            out,
            "  {} {:id_width$}  {points:>9}  {tests:<12} {}",
            style.mark(complete),
            stage.id,
            stage.title
        );
    }
    if !report.tests_modified.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            style.yellow("The submission changes files it may not change; the course's own were used:")
        );
        for file in &report.tests_modified {
            let _ = writeln!(out, "  {file}");
        }
    }
    if !report.files_skipped.is_empty() {
        let _ = writeln!(out, "\n{}", style.yellow("Files of the submission left out of grading:"));
        for file in &report.files_skipped {
            let _ = writeln!(out, "  {file}");
        }
    }
    if let Some(errors) = &report.compile_error {
        let _ = writeln!(out, "\n{} The code does not compile, so every test fails:\n", style.red("✗"));
        let _ = writeln!(out, "{}", indent(errors, 4));
    }
    let failing: Vec<_> = report.tests.iter().filter(|test| !test.passed).collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\nFailing tests:");
        for test in failing {
            let _ = writeln!(out, "\n  {} {}: {}", style.red("✗"), test.stage, test.name);
            let _ = writeln!(out, "{}", indent(&test.message, 6));
        }
    }
    out
}
