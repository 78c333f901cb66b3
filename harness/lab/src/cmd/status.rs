//! `cargo lab` with no command: every lab's progress, stage by stage, and what to do next.
//!
//! Results come from the cache when the lab's sources have not changed since they were obtained;
//! labs whose cache is missing or stale are tested first (with `--no-run`, never). A lab never tested
//! whose `src/` is as committed has not been started: it is not built or tested, so that `cargo lab`
//! on a fresh clone answers at once instead of building every lab to print zeros.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cache::{self, Cached};
use crate::cmd::{self, RunSpec};
use crate::output;
use crate::style::Style;
use crate::suite::Progress;
use crate::workspace::{Lab, Workspace};

/// What is known about one lab.
#[derive(Debug)]
enum Known {
    /// Results for the current sources.
    Fresh(Cached),
    /// Results for older sources (only with `--no-run`).
    Stale(Cached),
    /// Nothing (only with `--no-run`).
    NotRun,
    /// Never tested, and its `src/` is as committed: not begun.
    NotStarted,
    /// Testing it failed for a reason that is the course's, not the student's (already reported).
    Broken,
}

/// Draws the table, testing stale labs first unless `no_run`. A lab that cannot be tested (a bad
/// manifest, a cargo failure that is not a compile error) is reported on stderr and the others are
/// still shown; the exit status is then 1.
///
/// # Errors
///
/// When stdout is closed.
pub fn run(ws: &Workspace, no_run: bool, jobs: usize) -> anyhow::Result<ExitCode> {
    let mut failed = !ws.broken.is_empty();
    for broken in &ws.broken {
        eprintln!("cargo-lab: {broken}");
    }
    let mut known = Vec::new();
    for lab in &ws.labs {
        let state = match known_state(ws, lab, no_run, jobs) {
            Ok(state) => state,
            Err(err) => {
                failed = true;
                eprintln!("cargo-lab: lab {}: {err:#}", lab.manifest.name);
                Known::Broken
            }
        };
        known.push((lab, state));
    }
    output::print(&render(&known, Style::for_stdout()))?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// What is known of `lab`, testing it first when its cache is stale (unless `no_run`).
fn known_state(ws: &Workspace, lab: &Lab, no_run: bool, jobs: usize) -> anyhow::Result<Known> {
    let fingerprint = cache::fingerprint(lab)?;
    let cached = cache::load(&cache::path(&ws.state_dir(), &lab.manifest.name));
    Ok(match cached {
        Some(cached) if cached.is_fresh_for(lab, &fingerprint) => Known::Fresh(cached),
        Some(cached) if no_run => Known::Stale(cached),
        None if no_run => Known::NotRun,
        None if is_untouched(ws, lab) => Known::NotStarted,
        cached => {
            let why = if cached.is_some() { "changed since its last run" } else { "never run" };
            eprintln!("{}: {why}; testing it…", lab.manifest.name);
            let stages = cmd::stage_plans(lab, None)?;
            let spec = RunSpec {
                lab,
                stages: &stages,
                limits: cmd::limits(lab, None),
                jobs,
                repeat: 1,
                progress: Progress::Show,
            };
            let tested = cmd::test_package(ws, &lab.student(), spec)?;
            Known::Fresh(cmd::save_results(ws, lab, &fingerprint, &tested)?)
        }
    })
}

/// Whether git says the lab's `src/` is exactly as committed. Outside a git checkout (or without git)
/// nothing can be said, and the lab counts as begun.
fn is_untouched(ws: &Workspace, lab: &Lab) -> bool {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&ws.root)
        .args(["status", "--porcelain", "--untracked-files=all", "--"])
        .arg(lab.dir.join("src"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    matches!(output, Ok(output) if output.status.success() && output.stdout.is_empty())
}

fn render(labs: &[(&Lab, Known)], style: Style) -> String {
    let mut out = String::new();
    if labs.is_empty() {
        out.push_str("No labs: no labs/*/lab.toml in this workspace.\n");
        return out;
    }
    let name_width = labs.iter().map(|(lab, _)| lab.manifest.name.len()).max().unwrap_or(0);
    for (lab, state) in labs {
        let _ = write!(out, "{:>2} {:name_width$}  ", lab.manifest.number, lab.manifest.name);
        match state {
            Known::NotRun => {
                let _ = write!(
                    out,
                    "{}",
                    style.dim(&format!("not run yet: cargo lab test {}", lab.manifest.name))
                );
            }
            Known::NotStarted => {
                let _ = write!(
                    out,
                    "{}",
                    style.dim(&format!("not started: cargo lab test {}", lab.manifest.name))
                );
            }
            Known::Broken => {
                let _ = write!(out, "{}", style.red("cannot be tested (see the error above)"));
            }
            Known::Fresh(cached) | Known::Stale(cached) => {
                out.push_str(&cells(lab, cached, style));
                if matches!(state, Known::Stale(_)) {
                    let _ = write!(out, "  {}", style.dim("(out of date)"));
                }
            }
        }
        out.push('\n');
    }
    let not_started = labs.iter().filter(|(_, state)| matches!(state, Known::NotStarted)).count();
    if not_started > 0 {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "{not_started} lab(s) not started (src/ as committed) were not built or tested; \
                 `cargo lab test <lab>` tests one."
            ))
        );
    }
    out.push('\n');
    out.push_str(&next_step(labs, style));
    out
}

fn cells(lab: &Lab, cached: &Cached, style: Style) -> String {
    if cached.compile_error.is_some() {
        return format!("{} {}", style.red("does not compile"), style.mark(false));
    }
    lab.manifest
        .stages
        .iter()
        .map(|stage| match cached.stages.get(&stage.id) {
            Some(result) => {
                let done = result.total > 0 && result.passed == result.total;
                format!("{} {}/{} {}", stage.id, result.passed, result.total, style.mark(done))
            }
            None => format!("{} ?", stage.id),
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn next_step(labs: &[(&Lab, Known)], style: Style) -> String {
    let mut out = String::new();
    let mut broken = false;
    for (lab, state) in labs {
        let name = &lab.manifest.name;
        let cached = match state {
            Known::Fresh(cached) | Known::Stale(cached) => cached,
            Known::Broken => {
                broken = true;
                continue;
            }
            Known::NotRun | Known::NotStarted => {
                let _ = writeln!(
                    out,
                    "{} lab {} {name}: run its tests.",
                    style.bold("Next:"),
                    lab.manifest.number
                );
                if let Some(chapter) = &lab.manifest.chapter {
                    let _ = writeln!(out, "  Read: {chapter}");
                }
                let _ = writeln!(out, "  Run:  cargo lab test {name}");
                return out;
            }
        };
        if cached.compile_error.is_some() {
            let _ = writeln!(
                out,
                "{} lab {} {name} does not compile; fix it first.",
                style.bold("Next:"),
                lab.manifest.number
            );
            let _ = writeln!(out, "  Run:  cargo lab test {name}");
            return out;
        }
        let first_failing = lab.manifest.stages.iter().find(|stage| {
            cached
                .stages
                .get(&stage.id)
                .is_none_or(|result| result.total == 0 || result.passed < result.total)
        });
        if let Some(stage) = first_failing {
            let _ = writeln!(
                out,
                "{} lab {} {name}, stage {}: {}",
                style.bold("Next:"),
                lab.manifest.number,
                stage.id,
                stage.title
            );
            let _ = writeln!(out, "  Hint: {}", stage.hint);
            let _ = writeln!(out, "  Read: {}", stage.book);
            if let Some(failure) = cached.stages.get(&stage.id).and_then(|result| result.failing.first()) {
                let first_line =
                    failure.message.lines().find(|line| !line.contains(" panicked at ")).unwrap_or("");
                let _ = writeln!(out, "  Failing: {} {}", failure.name, style.dim(first_line));
            }
            let _ = writeln!(out, "  Run:  cargo lab test {name} --stage {}", stage.id);
            return out;
        }
    }
    if broken {
        let _ = writeln!(out, "{} Some labs cannot be tested: see the errors above.", style.red("✗"));
    } else {
        let _ = writeln!(out, "{} Every lab passes.", style.green("✓"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{CachedFailure, CachedStage};
    use crate::manifest::Manifest;
    use std::path::Path;

    fn lab(name: &str, number: u32) -> Lab {
        let text = format!(
            "name = \"{name}\"\nreference = \"r\"\nnumber = {number}\ntitle = \"t\"\n\
             [[stages]]\nid = \"parse\"\ntitle = \"Parse\"\ntests = \"s1\"\nweight = 1\nhint = \"Use memchr.\"\nbook = \"book#s1\"\n\
             [[stages]]\nid = \"top\"\ntitle = \"Top\"\ntests = \"s2\"\nweight = 1\nhint = \"Use a heap.\"\nbook = \"book#s2\"\n"
        );
        let manifest = Manifest::parse(&text, Path::new("lab.toml")).unwrap();
        Lab { dir: "/nowhere".into(), dir_name: format!("0{number}-{name}"), manifest }
    }

    fn cached(parse: (usize, usize), top: (usize, usize)) -> Cached {
        let mut cached = Cached::default();
        let failing = vec![CachedFailure {
            name: "ties".into(),
            message: "thread 'ties' panicked at t.rs:1:1:\nnot yet implemented".into(),
        }];
        cached
            .stages
            .insert("parse".into(), CachedStage { passed: parse.0, total: parse.1, failing: vec![] });
        cached.stages.insert("top".into(), CachedStage { passed: top.0, total: top.1, failing });
        cached
    }

    #[test]
    fn shows_counts_and_the_first_failing_stage() {
        let (a, b) = (lab("logstat", 1), lab("kv", 2));
        let labs = [(&a, Known::Fresh(cached((12, 12), (3, 10)))), (&b, Known::NotRun)];
        let text = render(&labs, Style::plain());
        assert!(text.contains(" 1 logstat  parse 12/12 ✓  top 3/10 ✗"), "{text}");
        assert!(text.contains(" 2 kv       not run yet: cargo lab test kv"), "{text}");
        assert!(text.contains("Next: lab 1 logstat, stage top: Top"), "{text}");
        assert!(text.contains("Hint: Use a heap."), "{text}");
        assert!(text.contains("Read: book#s2"), "{text}");
        assert!(text.contains("Failing: ties not yet implemented"), "{text}");
        assert!(text.contains("Run:  cargo lab test logstat --stage top"), "{text}");
    }

    #[test]
    fn moves_on_to_the_next_lab_and_finishes() {
        let (a, b) = (lab("logstat", 1), lab("kv", 2));
        let labs = [(&a, Known::Fresh(cached((1, 1), (2, 2)))), (&b, Known::Stale(cached((0, 3), (0, 1))))];
        let text = render(&labs, Style::plain());
        assert!(text.contains("(out of date)"), "{text}");
        assert!(text.contains("Next: lab 2 kv, stage parse"), "{text}");
        let labs = [(&a, Known::Fresh(cached((1, 1), (2, 2))))];
        assert!(render(&labs, Style::plain()).contains("Every lab passes."));
        let labs = [(&a, Known::Fresh(cached((1, 1), (2, 2)))), (&b, Known::Broken)];
        let text = render(&labs, Style::plain());
        assert!(text.contains(" 2 kv       cannot be tested"), "{text}");
        assert!(text.contains("Some labs cannot be tested"), "{text}");
    }

    #[test]
    fn labs_not_started_are_named_not_run() {
        let (a, b) = (lab("logstat", 1), lab("kv", 2));
        let labs = [(&a, Known::NotStarted), (&b, Known::NotStarted)];
        let text = render(&labs, Style::plain());
        assert!(text.contains(" 1 logstat  not started: cargo lab test logstat"), "{text}");
        assert!(text.contains("2 lab(s) not started (src/ as committed) were not built or tested"), "{text}");
        assert!(text.contains("Next: lab 1 logstat: run its tests."), "{text}");
    }

    #[test]
    fn a_compile_error_comes_first() {
        let a = lab("logstat", 1);
        let broken = Cached { compile_error: Some("error".into()), ..Cached::default() };
        let text = render(&[(&a, Known::Fresh(broken))], Style::plain());
        assert!(text.contains("does not compile ✗"), "{text}");
        assert!(text.contains("Next: lab 1 logstat does not compile"), "{text}");
    }
}
