//! The test engine every command shares: build a package's graded test targets, list their tests, and
//! run each test in its own sandboxed process, several at once.
//!
//! A stage is one or more test targets (the `extra` stage of grading has several). A compile error is
//! an outcome, not an error: the caller scores it as every test failed.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;

use crate::compile::{Build, Cargo};
use crate::libtest;
use crate::runner::{self, Finished, Limits, Outcome, TestProcess};
use crate::sandbox::{self, Isolation};
use crate::test_order;
use crate::workspace::Package;

/// A stage to run: its id and the test targets that make it up.
#[derive(Debug, Clone)]
pub struct StagePlan {
    /// The stage id (`parse`, or `extra`).
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// What passing all of it is worth.
    pub weight: Weight,
    /// Its test targets, `tests/<target>.rs`.
    pub targets: Vec<String>,
}

impl StagePlan {
    /// Every test target of `stages`, in their order: what one build of them compiles.
    pub fn all_targets(stages: &[StagePlan]) -> Vec<String> {
        stages.iter().flat_map(|stage| stage.targets.iter().cloned()).collect()
    }
}

/// How a stage's points are set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weight {
    /// The stage is worth this much, split evenly over its tests.
    Total(f64),
    /// Each test is worth `points`; `expected` tests are counted when none could be listed (the code
    /// did not compile), so the stage's maximum stays the same.
    PerTest {
        /// Points per test.
        points: f64,
        /// The number of tests assumed when they cannot be listed.
        expected: usize,
    },
}

/// One run of one test.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// The stage it belongs to.
    pub stage: String,
    /// The name to show: the libtest name, prefixed with `target::` in a stage of several targets.
    pub name: String,
    /// How it ended, how long it took, and why it failed.
    pub result: Finished,
}

/// What running a suite gave.
#[derive(Debug)]
pub enum SuiteOutcome {
    /// The code does not compile: the compiler's first errors.
    CompileError(String),
    /// Every listed test ran (`repeat` times each), in stage, target and name order.
    Ran(Vec<TestRun>),
}

/// How to show progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing at all.
    Quiet,
    /// Cargo's `Compiling` lines, and a counter of tests redrawn in place when stderr is a terminal.
    Show,
}

/// Everything needed to run a package's graded tests.
#[derive(Debug)]
pub struct Suite<'a> {
    /// Where to run cargo.
    pub cargo: Cargo<'a>,
    /// The package under test.
    pub package: &'a Package,
    /// The stages to run.
    pub stages: &'a [StagePlan],
    /// Limits of each test process.
    pub limits: Limits,
    /// Tests to run at once.
    pub jobs: usize,
    /// How many times to run each test (1, except for `run-many`).
    pub repeat: usize,
    /// Progress on stderr.
    pub progress: Progress,
    /// A label for progress lines (the lab's name).
    pub label: &'a str,
    /// Files a sandboxed test must not read (hidden tests' sources): they read as empty.
    pub masked: &'a [PathBuf],
    /// Time limits of single tests, by name, instead of `limits.timeout`.
    pub timeouts: Option<&'a HashMap<String, Duration>>,
    /// Test targets whose binaries the other targets' tests must not read (hidden tests: their
    /// binaries hold their string literals). Their own tests can, and their messages are withheld.
    pub hidden_targets: &'a [String],
}

struct Job<'a> {
    stage: &'a str,
    exe: &'a Path,
    /// Whether it is one of the hidden targets'.
    hidden: bool,
    test: String,
    name: String,
}

impl Suite<'_> {
    /// Builds, lists and runs the suite.
    ///
    /// # Errors
    ///
    /// When cargo fails for a reason other than a compile error, or a test process cannot be started.
    pub fn run(&self) -> anyhow::Result<SuiteOutcome> {
        let targets = StagePlan::all_targets(self.stages);
        if self.progress == Progress::Show {
            eprintln!("{}: building {} tests…", self.label, self.package.name);
        }
        let executables = match self.cargo.build_tests(&self.package.name, &targets)? {
            Build::Built(executables) => executables,
            Build::Failed(errors) => return Ok(SuiteOutcome::CompileError(errors)),
        };
        let env = self.env();
        let hidden_exes: Vec<&Path> = self
            .hidden_targets
            .iter()
            .filter_map(|target| executables.get(target))
            .map(PathBuf::as_path)
            .collect();
        let mut masked: Vec<&Path> = self.masked.iter().map(PathBuf::as_path).collect();
        let masked_hidden = masked.clone();
        masked.extend(&hidden_exes);
        let masks = Masks { others: &masked, hidden: &masked_hidden };
        let mut jobs = Vec::new();
        let mut listing_failures = Vec::new();
        for stage in self.stages {
            for target in &stage.targets {
                let Some(exe) = executables.get(target) else { continue };
                let hidden = self.hidden_targets.contains(target);
                match self.list_tests(exe, &env, masks.for_job(hidden)) {
                    Ok(mut tests) => {
                        let source = test_order::test_source(&self.package.dir, target);
                        if let Ok(text) = std::fs::read_to_string(source) {
                            test_order::sort_by_source(&mut tests, &text);
                        }
                        for test in tests {
                            let name = if stage.targets.len() > 1 {
                                format!("{target}::{test}")
                            } else {
                                test.clone()
                            };
                            jobs.push(Job { stage: &stage.id, exe, hidden, test, name });
                        }
                    }
                    Err(message) => listing_failures.push(TestRun {
                        stage: stage.id.clone(),
                        name: format!("{target} (listing its tests)"),
                        result: Finished { outcome: Outcome::Failed, duration: Duration::ZERO, message },
                    }),
                }
            }
        }
        let mut runs = self.run_jobs(&jobs, &env, masks)?;
        runs.extend(listing_failures);
        Ok(SuiteOutcome::Ran(runs))
    }

    fn env(&self) -> Vec<(OsString, OsString)> {
        vec![
            ("CARGO_MANIFEST_DIR".into(), self.package.dir.clone().into_os_string()),
            ("CARGO_PKG_NAME".into(), self.package.name.clone().into()),
        ]
    }

    /// The folders a sandboxed test keeps in view: the workspace and its build.
    fn visible(&self) -> Vec<&Path> {
        [Some(self.cargo.root), self.cargo.target_dir].into_iter().flatten().collect()
    }

    /// The tests of a test binary, without the `#[ignore]`d ones (as under `cargo test`). Listing runs
    /// the binary, and with it any constructor of the code under test: so in the sandbox, with a
    /// time limit.
    fn list_tests(
        &self,
        exe: &Path,
        env: &[(OsString, OsString)],
        masked: &[&Path],
    ) -> Result<Vec<String>, String> {
        let visible = self.visible();
        let list = |ignored: bool| -> Result<Vec<String>, String> {
            let mut command = match self.limits.isolation {
                Isolation::ProcessGroup => Command::new(exe),
                Isolation::Sandbox => sandbox::command(exe, &self.package.dir, &visible, masked),
            };
            command.args(["--list", "--format", "terse"]).current_dir(&self.package.dir);
            command.envs(env.iter().map(|(key, value)| (key, value)));
            if ignored {
                command.arg("--ignored");
            }
            let output = runner::output_within(&mut command, LIST_TIMEOUT)
                .map_err(|err| format!("cannot run {}: {err}", exe.display()))?
                .ok_or_else(|| {
                    format!("listing the tests of {} took over {} s", exe.display(), LIST_TIMEOUT.as_secs())
                })?;
            if !output.status.success() {
                return Err(format!(
                    "listing the tests of {} failed: {}",
                    exe.display(),
                    libtest::last_lines(&String::from_utf8_lossy(&output.stderr))
                ));
            }
            Ok(libtest::parse_list(&String::from_utf8_lossy(&output.stdout)))
        };
        let ignored = list(true)?;
        Ok(list(false)?.into_iter().filter(|test| !ignored.contains(test)).collect())
    }

    fn run_jobs(
        &self,
        jobs: &[Job],
        env: &[(OsString, OsString)],
        masks: Masks,
    ) -> anyhow::Result<Vec<TestRun>> {
        let total = jobs.len() * self.repeat;
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, anyhow::Result<TestRun>)>> = Mutex::new(Vec::with_capacity(total));
        let meter = Meter::new(self.progress, self.label, total);
        let visible = self.visible();
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.clamp(1, total.max(1)) {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        if index >= total {
                            break;
                        }
                        let job = &jobs[index % jobs.len()];
                        let process = TestProcess {
                            exe: job.exe,
                            name: &job.test,
                            cwd: &self.package.dir,
                            env,
                            visible: &visible,
                            masked: masks.for_job(job.hidden),
                        };
                        let mut limits = self.limits;
                        if let Some(timeout) = self.timeouts.and_then(|timeouts| timeouts.get(&job.name)) {
                            limits.timeout = *timeout;
                        }
                        let run = runner::run(&process, limits)
                            .with_context(|| format!("failed to start test {}", job.name))
                            .map(|result| TestRun {
                                stage: job.stage.to_owned(),
                                name: job.name.clone(),
                                result,
                            });
                        results.lock().unwrap_or_else(PoisonError::into_inner).push((index, run));
                        meter.tick(done.fetch_add(1, Ordering::SeqCst) + 1);
                    }
                });
            }
        });
        meter.finish();
        let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
        // Job order (stage, target, the test file's order), repeats of one test together.
        results.sort_by_key(|(index, _)| (index % jobs.len().max(1), *index));
        results.into_iter().map(|(_, run)| run).collect()
    }
}

/// How long listing a test binary's tests may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// The files a sandboxed test must not read: for the hidden targets' tests, and for the others.
#[derive(Clone, Copy)]
struct Masks<'a> {
    others: &'a [&'a Path],
    hidden: &'a [&'a Path],
}

impl<'a> Masks<'a> {
    fn for_job(&self, hidden: bool) -> &'a [&'a Path] {
        if hidden { self.hidden } else { self.others }
    }
}

/// A test counter on stderr.
struct Meter {
    show: bool,
    in_place: bool,
    label: String,
    total: usize,
    last_line: Mutex<usize>,
}

impl Meter {
    fn new(progress: Progress, label: &str, total: usize) -> Meter {
        let show = progress == Progress::Show && total > 0;
        let in_place = std::io::stderr().is_terminal();
        if show && !in_place {
            eprintln!("{label}: running {total} tests…");
        }
        Meter { show, in_place, label: label.to_owned(), total, last_line: Mutex::new(0) }
    }

    fn tick(&self, done: usize) {
        if !(self.show && self.in_place) {
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(PoisonError::into_inner);
        if done > *last {
            *last = done;
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{}: {done}/{} tests", self.label, self.total);
            let _ = stderr.flush();
        }
    }

    fn finish(&self) {
        if self.show && self.in_place {
            eprint!("\r\x1b[2K");
        }
    }
}
