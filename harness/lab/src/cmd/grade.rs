//! `cargo lab grade <lab> --submission DIR` and `--class DIR --out FILE`: grade one checkout, or a
//! folder of them into a CSV gradebook with one feedback file per student.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::error::Error;
use crate::gradebook::{self, Row};
use crate::grading::{ExtraTests, Grader};
use crate::output;
use crate::report;
use crate::score;
use crate::style::Style;
use crate::suite::Progress;
use crate::workspace::Workspace;

/// What `cargo lab grade` was asked, besides where the submissions are.
#[derive(Debug)]
pub struct Options {
    /// The lab.
    pub lab: String,
    /// A folder of extra tests.
    pub extra_tests: Option<PathBuf>,
    /// Time limit of one test, in seconds.
    pub timeout: Option<u64>,
    /// Tests at once.
    pub jobs: usize,
}

/// Grades one submission and prints its report (text or `--json`), and writes Gradescope's
/// results.json when asked. Exits 0 whenever a grade was produced, whatever the score.
///
/// # Errors
///
/// An unknown lab, a missing submission or extra-tests folder, or a failure to build the grading
/// workspace.
pub fn one(
    ws: &Workspace,
    options: &Options,
    submission: &Path,
    json: bool,
    gradescope: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let lab = ws.lab(&options.lab)?;
    let extra = options.extra_tests.as_deref().map(ExtraTests::load).transpose()?;
    let grader = grader(ws, lab, extra.as_ref(), options, Progress::Show);
    let report = grader.grade(submission)?;
    if let Some(why) = &report.no_submission {
        eprintln!("cargo-lab: {why}");
    }
    if let Some(file) = gradescope {
        let summary = report::grade_report(&report, lab, None, Style::plain());
        std::fs::write(&file, report.to_gradescope(&summary)?)
            .with_context(|| format!("failed to write {}", file.display()))?;
        eprintln!("wrote {}", file.display());
    }
    if json {
        output::print(&format!("{}\n", report.to_json()?))?;
    } else {
        output::print(&report::grade_report(&report, lab, None, Style::for_stdout()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Grades every sub-folder of `class` in turn, writing the gradebook `out` (after each student, so an
/// interrupted run keeps what it graded) and the feedback files; prints the gradebook. Exits 1 if the
/// harness failed on some student (their row says why).
///
/// # Errors
///
/// An unknown lab, a missing class or extra-tests folder, or a gradebook that cannot be written.
pub fn class(ws: &Workspace, options: &Options, class: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let lab = ws.lab(&options.lab)?;
    if !class.is_dir() {
        return Err(Error::MissingDir { what: "class folder", path: class.to_path_buf() }.into());
    }
    let extra = options.extra_tests.as_deref().map(ExtraTests::load).transpose()?;
    // On a terminal, cargo's progress helps through the first (long) build; in a log it is noise.
    let progress = if std::io::stderr().is_terminal() { Progress::Show } else { Progress::Quiet };
    let grader = grader(ws, lab, extra.as_ref(), options, progress);
    let stages = grader.stages()?;
    let stage_ids: Vec<String> = stages.iter().map(|stage| stage.id.clone()).collect();
    let full_marks: f64 = stages.iter().map(|stage| score::stage_max(stage.weight, 0)).sum();
    let students = student_dirs(class)?;
    let feedback = gradebook::feedback_dir(out);
    let mut rows = Vec::new();
    let mut harness_failed = false;
    for (index, (student, dir)) in students.iter().enumerate() {
        let counter = format!("[{}/{}]", index + 1, students.len());
        eprintln!("{counter} {student} …");
        match grader.grade(dir) {
            Ok(report) => {
                let text = report::grade_report(&report, lab, Some(student), Style::plain());
                gradebook::write_feedback(&feedback, student, &text)?;
                eprintln!("{counter} {student}: {} ({})", report.score_text(), report.status());
                rows.push(Row::graded(student, &report));
            }
            Err(err) => {
                harness_failed = true;
                let why = format!("{err:#}");
                eprintln!("{counter} {student}: cargo-lab failed: {why}");
                gradebook::write_feedback(&feedback, student, &format!("Grading failed: {why}\n"))?;
                let status = format!("error: {}", why.lines().next().unwrap_or_default());
                rows.push(Row {
                    student: student.clone(),
                    score: 0.0,
                    max: full_marks,
                    stages: vec![],
                    status,
                });
            }
        }
        gradebook::write_csv(out, &stage_ids, &rows)?;
    }
    if students.is_empty() {
        gradebook::write_csv(out, &stage_ids, &rows)?;
        eprintln!("cargo-lab: warning: {} has no student folders", class.display());
    }
    eprintln!("wrote {} and {}/", out.display(), feedback.display());
    output::print(&gradebook::to_csv(&stage_ids, &rows))?;
    Ok(if harness_failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn grader<'a>(
    ws: &'a Workspace,
    lab: &'a crate::workspace::Lab,
    extra: Option<&'a ExtraTests>,
    options: &Options,
    progress: Progress,
) -> Grader<'a> {
    Grader { workspace: ws, lab, extra, timeout: options.timeout, jobs: options.jobs, progress }
}

/// The students of a class folder: its sub-folders (not hidden), by name.
fn student_dirs(class: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut students = Vec::new();
    for entry in std::fs::read_dir(class).with_context(|| format!("failed to list {}", class.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        students.push((name, entry.path()));
    }
    students.sort();
    Ok(students)
}
