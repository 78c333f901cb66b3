//! `cargo lab bench <lab>`: run every bench target of a lab for the student's crate and for the
//! reference, and print each benchmark's median side by side.
//!
//! Criterion writes its results under `$CRITERION_HOME` (criterion 0.8, `default_output_directory`
//! in its `src/lib.rs`), so the two runs keep theirs apart in `target/lab/bench/{yours,reference}`.
//! Criterion's own report goes to stderr as progress; the table goes to stdout.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::SystemTime;

use anyhow::Context;
use serde::Deserialize;

use crate::compile::Cargo;
use crate::criterion::{self, Median};
use crate::libtest;
use crate::output;
use crate::style::Style;
use crate::workspace::{Package, Workspace};

/// What `cargo lab bench` was asked.
#[derive(Debug)]
pub struct Options {
    /// The lab.
    pub lab: String,
    /// Only this bench target.
    pub bench: Option<String>,
    /// Arguments for criterion.
    pub criterion_args: Vec<String>,
}

/// How one bench target's run ended.
#[derive(Debug, Clone, PartialEq)]
enum Ran {
    Ok,
    NotImplemented,
    Panicked(String),
    DoesNotCompile,
    Failed(String),
}

impl Ran {
    fn label(&self) -> String {
        match self {
            Ran::Ok => "missing".to_owned(),
            Ran::NotImplemented => "not implemented".to_owned(),
            Ran::Panicked(_) => "panicked".to_owned(),
            Ran::DoesNotCompile => "does not compile".to_owned(),
            Ran::Failed(_) => "failed".to_owned(),
        }
    }
}

/// One side's results: per bench target, how it ran and its medians.
type Side = BTreeMap<String, (Ran, Vec<Median>)>;

/// Runs the benches of both packages and prints the comparison; exit 1 if a bench did not run.
///
/// # Errors
///
/// An unknown lab or bench, or cargo failing to start.
pub fn run(ws: &Workspace, options: &Options) -> anyhow::Result<ExitCode> {
    let lab = ws.lab(&options.lab)?;
    let student = lab.student();
    // A class template (`cargo lab export`) has no references: then only your medians are shown.
    let reference = ws.reference(lab).ok();
    let cargo = Cargo { root: &ws.root, target_dir: None, echo: true, time_limit: None };
    let mut targets = bench_targets(&cargo, &student.name)?;
    if let Some(only) = &options.bench {
        if !targets.contains(only) {
            anyhow::bail!(
                "lab {} has no bench target {only:?}; its benches are: {}",
                lab.manifest.name,
                targets.join(", ")
            );
        }
        targets.retain(|target| target == only);
    }
    if targets.is_empty() {
        output::print(&format!("Lab {} has no benches.\n", lab.manifest.name))?;
        return Ok(ExitCode::SUCCESS);
    }
    let bench_dir = ws.state_dir().join("bench");
    let yours = run_side(&cargo, &student, &targets, &bench_dir.join("yours"), &options.criterion_args)?;
    let theirs = match &reference {
        Some(reference) => {
            run_side(&cargo, reference, &targets, &bench_dir.join("reference"), &options.criterion_args)?
        }
        None => Side::new(),
    };
    let mut text = render(&targets, &yours, &theirs, Style::for_stdout());
    if reference.is_none() {
        text.push_str(
            "\nThe reference is not in this checkout (a class copy): only your medians are shown.\n",
        );
    }
    output::print(&text)?;
    let all_ran = yours.values().chain(theirs.values()).all(|(ran, _)| *ran == Ran::Ok);
    Ok(if all_ran { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn run_side(
    cargo: &Cargo,
    package: &Package,
    targets: &[String],
    home: &Path,
    args: &[String],
) -> anyhow::Result<Side> {
    let mut side = Side::new();
    for target in targets {
        eprintln!("== {} --bench {target}", package.name);
        let started = SystemTime::now();
        let ran = run_bench(cargo, package, target, home, args)?;
        side.insert(target.clone(), (ran, criterion::medians(home, started)));
    }
    Ok(side)
}

/// Runs one bench target, criterion's report to stderr, and classifies how it ended.
fn run_bench(
    cargo: &Cargo,
    package: &Package,
    target: &str,
    home: &Path,
    args: &[String],
) -> anyhow::Result<Ran> {
    let mut command = cargo.command();
    command.args(["bench", "-p", &package.name, "--bench", target]);
    if !args.is_empty() {
        command.arg("--").args(args);
    }
    let stdout_to_stderr =
        std::io::stderr().as_fd().try_clone_to_owned().context("cannot duplicate stderr")?;
    command
        .env("CRITERION_HOME", home)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::from(stdout_to_stderr))
        .stderr(Stdio::piped());
    let mut child = command.spawn().context("failed to run cargo bench")?;
    let mut stderr_text = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            stderr_text.push_str(&line);
            stderr_text.push('\n');
        }
    }
    let status = child.wait().context("failed to wait for cargo bench")?;
    Ok(classify(status.success(), &stderr_text))
}

fn classify(success: bool, stderr: &str) -> Ran {
    if success {
        return Ran::Ok;
    }
    if stderr.contains("could not compile") {
        return Ran::DoesNotCompile;
    }
    if let Some(message) = libtest::panic_message(stderr) {
        if message.contains("not yet implemented") || message.contains("not implemented") {
            return Ran::NotImplemented;
        }
        return Ran::Panicked(message);
    }
    Ran::Failed(libtest::last_lines(stderr))
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    targets: Vec<MetaTarget>,
}

#[derive(Deserialize)]
struct MetaTarget {
    name: String,
    kind: Vec<String>,
}

/// The bench targets of `package`, from `cargo metadata`.
fn bench_targets(cargo: &Cargo, package: &str) -> anyhow::Result<Vec<String>> {
    let output = cargo
        .command()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()
        .context("failed to run cargo metadata")?;
    if !output.status.success() {
        anyhow::bail!("cargo metadata failed");
    }
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).context("cannot read cargo metadata's output")?;
    let found = metadata.packages.into_iter().find(|candidate| candidate.name == package);
    let package = found.with_context(|| format!("package {package} is not in the workspace"))?;
    Ok(package
        .targets
        .into_iter()
        .filter(|target| target.kind.iter().any(|kind| kind == "bench"))
        .map(|target| target.name)
        .collect())
}

fn render(targets: &[String], yours: &Side, theirs: &Side, style: Style) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for target in targets {
        let (your_run, your_medians) =
            yours.get(target).map_or((&Ran::Ok, &[][..]), |(ran, m)| (ran, &m[..]));
        let (their_run, their_medians) =
            theirs.get(target).map_or((&Ran::Ok, &[][..]), |(ran, m)| (ran, &m[..]));
        let mut ids: Vec<&str> = your_medians.iter().chain(their_medians).map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            rows.push([format!("{target} (all)"), your_run.label(), their_run.label(), "—".to_owned()]);
        }
        for id in ids {
            let mine = your_medians.iter().find(|m| m.id == id);
            let reference = their_medians.iter().find(|m| m.id == id);
            let ratio = match (mine, reference) {
                (Some(mine), Some(reference)) if reference.nanos > 0.0 => {
                    format!("{:.2}×", mine.nanos / reference.nanos)
                }
                _ => "—".to_owned(),
            };
            rows.push([
                id.to_owned(),
                mine.map_or_else(|| your_run.label(), |m| criterion::fmt_nanos(m.nanos)),
                reference.map_or_else(|| their_run.label(), |m| criterion::fmt_nanos(m.nanos)),
                ratio,
            ]);
        }
    }
    let header = ["benchmark".to_owned(), "yours".to_owned(), "reference".to_owned(), "ratio".to_owned()];
    let widths: Vec<usize> = (0..4)
        .map(|col| rows.iter().chain([&header]).map(|row| row[col].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let line = |row: &[String; 4]| {
        format!(
            "{:w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    let _ = writeln!(out, "{}", style.bold(&line(&header)));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row));
    }
    for (side, results) in [("yours", yours), ("reference", theirs)] {
        for (target, (ran, _)) in results {
            if let Ran::Panicked(message) | Ran::Failed(message) = ran {
                let _ = writeln!(out, "\n{side}, bench {target}:\n{}", crate::report::indent(message, 4));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_bench_failures() {
        assert_eq!(classify(true, ""), Ran::Ok);
        let todo = "thread 'main' panicked at src/lib.rs:3:5:\nnot yet implemented: parse\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(classify(false, todo), Ran::NotImplemented);
        let other = "thread 'main' panicked at src/lib.rs:3:5:\nindex out of bounds";
        assert!(matches!(classify(false, other), Ran::Panicked(m) if m.contains("index out of bounds")));
        assert_eq!(classify(false, "error: could not compile `x`"), Ran::DoesNotCompile);
    }

    #[test]
    fn renders_medians_and_ratios() {
        let targets = vec!["parse".to_owned()];
        let mut yours = Side::new();
        yours.insert(
            "parse".into(),
            (Ran::NotImplemented, vec![Median { id: "parse/a".into(), nanos: 2000.0 }]),
        );
        let mut theirs = Side::new();
        theirs.insert(
            "parse".into(),
            (
                Ran::Ok,
                vec![
                    Median { id: "parse/a".into(), nanos: 1000.0 },
                    Median { id: "parse/b".into(), nanos: 500.0 },
                ],
            ),
        );
        let text = render(&targets, &yours, &theirs, Style::plain());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("benchmark"), "{text}");
        assert!(
            lines[1].starts_with("parse/a") && lines[1].contains("2.00 µs") && lines[1].ends_with("2.00×"),
            "{text}"
        );
        assert!(
            lines[2].contains("not implemented") && lines[2].contains("500 ns") && lines[2].ends_with("—"),
            "{text}"
        );
    }
}
