//! `cargo lab verify [<lab>…]`: prove every lab sound. The lab and its reference are one API with two
//! sets of bodies ([`crate::parity`]); the reference passes every graded test; the skeleton fails
//! every graded test, each on its own (one it passes asserts nothing); the skeleton builds without
//! warnings; every stage has tests. Verifying every lab also checks the book's includes.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cmd::{self, RunSpec, Tested};
use crate::compile::Cargo;
use crate::output;
use crate::parity;
use crate::report::indent;
use crate::style::Style;
use crate::suite::Progress;
use crate::workspace::{Lab, Workspace};

/// What `cargo lab verify` was asked.
#[derive(Debug)]
pub struct Options {
    /// The labs to verify; empty for all.
    pub labs: Vec<String>,
    /// Only the parity checks: no build, no tests.
    pub parity_only: bool,
    /// Tests at once.
    pub jobs: usize,
    /// Time limit of one test, in seconds.
    pub timeout: Option<u64>,
}

/// Verifies the labs, prints what is off and a summary; exit 1 if anything is, including a lab that
/// cannot be built for a reason other than a compile error (a test target its manifest names but
/// that does not exist).
///
/// # Errors
///
/// An unknown lab, or stdout being closed.
pub fn run(ws: &Workspace, options: &Options) -> anyhow::Result<ExitCode> {
    let style = Style::for_stdout();
    let mut labs: Vec<&Lab> = Vec::new();
    for query in &options.labs {
        labs.push(ws.lab(query)?);
    }
    let mut problems = 0;
    let mut out = String::new();
    if options.labs.is_empty() {
        labs = ws.labs.iter().collect();
        for broken in &ws.broken {
            problems += 1;
            let _ = writeln!(out, "{} {broken}", style.red("✗"));
        }
        let findings = parity::check_book(ws);
        let _ = writeln!(out, "{}", style.bold("The book"));
        if findings.is_empty() {
            let _ = writeln!(out, "  {} every {{{{#include}}}} resolves", style.green("✓"));
        }
        for finding in &findings {
            problems += 1;
            let _ = writeln!(out, "  {} {finding}", style.red("✗"));
        }
        out.push('\n');
    }
    if !out.is_empty() {
        output::print(&out)?;
    }
    for lab in &labs {
        match verify_lab(ws, lab, options, style) {
            Ok((text, found)) => {
                problems += found;
                output::print(&text)?;
            }
            Err(err) => {
                problems += 1;
                let name = &lab.manifest.name;
                output::print(&format!("{} lab {name} cannot be verified: {err:#}\n\n", style.red("✗")))?;
            }
        }
    }
    let summary = if problems == 0 {
        format!("{} verify: {} lab(s) OK\n", style.green("✓"), labs.len())
    } else {
        format!("{} verify: {problems} problem(s) in {} lab(s)\n", style.red("✗"), labs.len())
    };
    output::print(&summary)?;
    Ok(if problems == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn verify_lab(ws: &Workspace, lab: &Lab, options: &Options, style: Style) -> anyhow::Result<(String, usize)> {
    let name = &lab.manifest.name;
    let mut out = String::new();
    let mut problems = 0;
    let _ =
        writeln!(out, "{}", style.bold(&format!("Lab {} {name} ({})", lab.manifest.number, lab.dir_name)));
    let mut bad = |out: &mut String, text: String| {
        problems += 1;
        let _ = writeln!(out, "  {} {text}", style.red("✗"));
    };
    let good = |out: &mut String, text: String| {
        let _ = writeln!(out, "  {} {text}", style.green("✓"));
    };

    let findings = parity::check_lab(ws, lab)?;
    if findings.is_empty() {
        good(&mut out, "the lab and its reference match: files, public items, manifests, anchors".into());
    }
    for finding in findings {
        bad(&mut out, finding.to_string());
    }
    if options.parity_only {
        out.push('\n');
        return Ok((out, problems));
    }

    let stages = cmd::stage_plans(lab, None)?;
    let spec = RunSpec {
        lab,
        stages: &stages,
        limits: cmd::limits(lab, options.timeout),
        jobs: options.jobs,
        repeat: 1,
        progress: Progress::Show,
    };

    match ws.reference(lab) {
        Err(err) => bad(&mut out, err.to_string()),
        Ok(reference) => {
            let tested = cmd::test_package(ws, &reference, spec)?;
            check_reference(&tested, &mut |ok, text| {
                if ok { good(&mut out, text) } else { bad(&mut out, text) }
            });
        }
    }

    let tested = cmd::test_package(ws, &lab.student(), spec)?;
    check_skeleton(&tested, &mut |ok, text| if ok { good(&mut out, text) } else { bad(&mut out, text) });

    eprintln!("{name}: checking the skeleton's warnings…");
    let cargo = Cargo { root: &ws.root, target_dir: None, echo: true, time_limit: None };
    match cargo.warnings(name, &lab.dir.join("Cargo.toml"))? {
        Ok(warnings) if warnings.is_empty() => good(&mut out, "the skeleton builds without warnings".into()),
        Ok(warnings) => {
            bad(&mut out, format!("the skeleton builds with {} warning(s):", warnings.len()));
            for warning in warnings.iter().take(5) {
                let _ = writeln!(out, "{}", indent(warning.trim_end(), 6));
            }
        }
        Err(errors) => bad(&mut out, format!("the skeleton's targets do not build:\n{}", indent(&errors, 6))),
    }
    out.push('\n');
    Ok((out, problems))
}

/// Reports on the reference's run: `(ok, text)` for each finding.
fn check_reference(tested: &Tested, say: &mut dyn FnMut(bool, String)) {
    if let Some(errors) = &tested.compile_error {
        say(false, format!("the reference does not compile:\n{}", indent(errors, 6)));
        return;
    }
    for score in tested.scores.iter().filter(|score| score.total == 0) {
        say(false, format!("stage {} has no tests", score.id));
    }
    let failing: Vec<_> = tested.runs.iter().filter(|run| !run.result.outcome.passed()).collect();
    let total = tested.runs.len();
    if failing.is_empty() {
        say(true, format!("the reference passes all {total} tests"));
        return;
    }
    say(false, format!("the reference fails {} of {total} tests:", failing.len()));
    for run in failing {
        say(false, format!("{}: {}\n{}", run.stage, run.name, indent(&run.result.message, 6)));
    }
}

/// Reports on the skeleton's run: `(ok, text)` for each finding.
fn check_skeleton(tested: &Tested, say: &mut dyn FnMut(bool, String)) {
    if let Some(errors) = &tested.compile_error {
        say(false, format!("the skeleton does not compile:\n{}", indent(errors, 6)));
        return;
    }
    let passing: Vec<_> = tested.runs.iter().filter(|run| run.result.outcome.passed()).collect();
    let total = tested.runs.len();
    if passing.is_empty() {
        say(true, format!("the skeleton fails all {total} tests"));
        return;
    }
    say(
        false,
        format!("the skeleton passes {} of {total} tests, which therefore assert nothing:", passing.len()),
    );
    for run in passing {
        say(false, format!("{}: {} asserts nothing", run.stage, run.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Finished, Outcome};
    use crate::score::StageScore;
    use crate::suite::TestRun;
    use std::time::Duration;

    fn tested(outcomes: &[Outcome]) -> Tested {
        let runs: Vec<TestRun> = outcomes
            .iter()
            .enumerate()
            .map(|(i, &outcome)| TestRun {
                stage: "parse".into(),
                name: format!("t{i}"),
                result: Finished { outcome, duration: Duration::ZERO, message: "boom".into() },
            })
            .collect();
        let passed = runs.iter().filter(|run| run.result.outcome.passed()).count();
        let scores = vec![StageScore {
            id: "parse".into(),
            title: "Parse".into(),
            score: 0.0,
            max: 1.0,
            passed,
            total: runs.len(),
            timeouts: 0,
        }];
        Tested { scores, runs, compile_error: None }
    }

    fn findings(check: fn(&Tested, &mut dyn FnMut(bool, String)), tested: &Tested) -> Vec<(bool, String)> {
        let mut found = Vec::new();
        check(tested, &mut |ok, text| found.push((ok, text)));
        found
    }

    #[test]
    fn a_skeleton_that_passes_a_test_is_reported() {
        let found = findings(check_skeleton, &tested(&[Outcome::Failed, Outcome::Passed]));
        assert!(found.iter().all(|(ok, _)| !ok));
        assert!(found.iter().any(|(_, text)| text == "parse: t1 asserts nothing"), "{found:?}");
        let found = findings(check_skeleton, &tested(&[Outcome::Failed, Outcome::TimedOut]));
        assert_eq!(found, [(true, "the skeleton fails all 2 tests".to_owned())]);
    }

    #[test]
    fn a_failing_reference_is_reported() {
        let found = findings(check_reference, &tested(&[Outcome::Passed, Outcome::Crashed { signal: 6 }]));
        assert!(!found[0].0);
        assert!(found[1].1.starts_with("parse: t1"), "{found:?}");
        let found = findings(check_reference, &tested(&[]));
        assert!(found.iter().any(|(ok, text)| !ok && text == "stage parse has no tests"), "{found:?}");
    }
}
