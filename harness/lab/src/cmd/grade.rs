//! `cargo lab grade <lab> --submission DIR` and `--class DIR --out FILE`: grade one checkout, or a
//! folder of them into a CSV gradebook with one feedback file per student.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::error::Error;
use crate::gradebook::{self, Row};
use crate::grading::{EXTRA_STAGE, ExtraTests, Grader};
use crate::output;
use crate::report;
use crate::sandbox::{self, Isolation};
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
    /// How each test is isolated.
    pub isolation: Isolation,
    /// Time limit of one student's build.
    pub build_timeout: Duration,
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
    check_isolation(options.isolation)?;
    let extra = options.extra_tests.as_deref().map(ExtraTests::load).transpose()?;
    let mut grader = grader(ws, lab, extra.as_ref(), options, Progress::Show);
    get_ready(&mut grader)?;
    let report = grader.grade(submission)?;
    if let Some(why) = &report.no_submission {
        eprintln!("cargo-lab: {why}");
    }
    if let Some(file) = gradescope {
        // Gradescope shows the results to the student.
        let student = report.for_student(EXTRA_STAGE);
        let summary = report::grade_report(&student, lab, None, Style::plain());
        std::fs::write(&file, student.to_gradescope(&summary)?)
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
    check_isolation(options.isolation)?;
    let extra = options.extra_tests.as_deref().map(ExtraTests::load).transpose()?;
    // On a terminal, cargo's progress helps through the first (long) build; in a log it is noise.
    let progress = if std::io::stderr().is_terminal() { Progress::Show } else { Progress::Quiet };
    let mut grader = grader(ws, lab, extra.as_ref(), options, progress);
    get_ready(&mut grader)?;
    let stages = grader.stages()?;
    let stage_ids: Vec<String> = stages.iter().map(|stage| stage.id.clone()).collect();
    let full_marks: f64 = stages.iter().map(|stage| score::stage_max(stage.weight, 0)).sum();
    let students = student_dirs(class)?;
    let feedback = gradebook::feedback_dir(out);
    let instructor = gradebook::instructor_dir(out);
    let mut rows = Vec::new();
    let mut harness_failed = false;
    for (index, (student, dir)) in students.iter().enumerate() {
        let counter = format!("[{}/{}]", index + 1, students.len());
        eprintln!("{counter} {student} …");
        let started = Instant::now();
        match grader.grade(dir) {
            Ok(report) => {
                let text = report::grade_report(
                    &report.for_student(EXTRA_STAGE),
                    lab,
                    Some(student),
                    Style::plain(),
                );
                gradebook::write_feedback(&feedback, student, &text)?;
                let full = report::grade_report(&report, lab, Some(student), Style::plain());
                gradebook::write_feedback(&instructor, student, &full)?;
                let took = started.elapsed().as_secs();
                eprintln!("{counter} {student}: {} ({}) in {took} s", report.score_text(), report.status());
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
    eprintln!(
        "wrote {}, the students' feedback in {}/ and the full reports in {}/",
        out.display(),
        feedback.display(),
        instructor.display()
    );
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
    Grader {
        workspace: ws,
        lab,
        extra,
        timeout: options.timeout,
        jobs: options.jobs,
        progress,
        isolation: options.isolation,
        build_timeout: options.build_timeout,
        test_timeouts: HashMap::new(),
    }
}

/// [`Grader::get_ready`], saying so on stderr.
fn get_ready(grader: &mut Grader) -> anyhow::Result<()> {
    let timing = if grader.timeout.is_none() { " and timing the reference's tests" } else { "" };
    eprintln!("cargo-lab: getting ready: building {}{timing} …", grader.lab.manifest.name);
    grader.get_ready()?;
    if let Some(longest) = grader.test_timeouts.values().max() {
        eprintln!(
            "cargo-lab: each test's time limit is set from the reference's; the longest is {} s",
            longest.as_secs()
        );
    }
    Ok(())
}

/// Refuses to grade in a sandbox that cannot be made, and says on stderr what isolation the tests get.
fn check_isolation(isolation: Isolation) -> anyhow::Result<()> {
    match isolation {
        Isolation::ProcessGroup => {
            eprintln!(
                "cargo-lab: warning: grading without a sandbox (--no-sandbox): trust the code you grade"
            );
        }
        Isolation::Sandbox => {
            if let Some(why) = sandbox::unavailable() {
                anyhow::bail!(
                    "cannot grade in a sandbox here: {why}. Install bubblewrap, or pass --no-sandbox to grade \
                     without one (only code you trust)"
                );
            }
            if let Some(why) = sandbox::cgroup_unavailable() {
                eprintln!(
                    "cargo-lab: note: no control group for the tests ({why}): memory is limited per process, \
                     and the number of processes is not limited"
                );
            }
        }
    }
    Ok(())
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
