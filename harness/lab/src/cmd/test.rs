//! `cargo lab test <lab>`: run a lab's graded tests and show what fails, stage by stage.

use std::process::ExitCode;

use crate::cache;
use crate::cmd::{self, RunSpec, Tested};
use crate::output;
use crate::report;
use crate::style::Style;
use crate::suite::Progress;
use crate::workspace::Workspace;

/// What `cargo lab test` (or `watch`) was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The lab.
    pub lab: String,
    /// Only this stage.
    pub stage: Option<String>,
    /// The reference instead of the student's crate.
    pub reference: bool,
    /// Tests at once.
    pub jobs: usize,
    /// Time limit of one test, in seconds.
    pub timeout: Option<u64>,
}

/// Runs the tests, prints the report and updates the cache (for the student's crate).
///
/// # Errors
///
/// An unknown lab or stage, a missing reference, cargo failing for a reason other than a compile
/// error, or the cache not being writable.
pub fn run(ws: &Workspace, options: &Options) -> anyhow::Result<ExitCode> {
    let tested = test_and_report(ws, options)?;
    Ok(if tested.all_passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs the tests, prints the report, updates the cache (for the student's crate) and returns what
/// the run gave: `cargo lab test` once, `cargo lab watch` at every save.
///
/// # Errors
///
/// As [`run`].
pub fn test_and_report(ws: &Workspace, options: &Options) -> anyhow::Result<Tested> {
    let lab = ws.lab(&options.lab)?;
    let stages = cmd::stage_plans(lab, options.stage.as_deref())?;
    let package = if options.reference { ws.reference(lab)? } else { lab.student() };
    let fingerprint = if options.reference { None } else { Some(cache::fingerprint(lab)?) };
    let spec = RunSpec {
        lab,
        stages: &stages,
        limits: cmd::limits(lab, options.timeout),
        jobs: options.jobs,
        repeat: 1,
        progress: Progress::Show,
    };
    let tested = cmd::test_package(ws, &package, spec)?;
    if let Some(fingerprint) = fingerprint {
        cmd::save_results(ws, lab, &fingerprint, &tested)?;
    }
    let text = report::test_report(
        lab,
        options.reference,
        &tested.scores,
        &tested.runs,
        tested.compile_error.as_deref(),
        Style::for_stdout(),
    );
    output::print(&text)?;
    Ok(tested)
}
