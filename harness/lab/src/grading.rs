//! Grading one submission in a grading workspace of its own.
//!
//! The grading workspace, `target/lab/grade/ws`, is a mirror of the pristine workspace (without
//! `target/`, `.git/`, `datasets/generated/` and `book/build/`) in which `labs/<lab>/src/` is the
//! submission's (its `.rs` files only) and `labs/<lab>/tests/` may hold the grader's extra tests. It
//! builds into `target/lab/grade/target`. Both paths are fixed, so grading again (the next student of
//! a class) rebuilds only the lab crate.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::cmd::{self, RunSpec};
use crate::compile::Cargo;
use crate::error::Error;
use crate::grade_json::{GradeReport, TestGrade};
use crate::libtest;
use crate::runner::Limits;
use crate::sandbox::Isolation;
use crate::score::{self, StageScore};
use crate::suite::{Progress, StagePlan, Suite, SuiteOutcome, TestRun, Weight};
use crate::sync::{self, Rule};
use crate::workspace::{Lab, Package, Workspace};

/// The id of the stage made of extra tests.
pub const EXTRA_STAGE: &str = "extra";

/// Files of a submission's lab that it may not change; changes are reported and ignored.
const PROTECTED: [&str; 4] = ["tests", "benches", "Cargo.toml", "lab.toml"];

/// The grader's own tests, graded as the stage `extra`.
#[derive(Debug)]
pub struct ExtraTests {
    /// The `*.rs` files, sorted.
    pub files: Vec<PathBuf>,
    /// The stage's weight from `extra.toml`; `None`: 1 point per test.
    pub weight: Option<f64>,
}

#[derive(Deserialize)]
struct ExtraToml {
    weight: f64,
}

impl ExtraTests {
    /// Reads the folder `dir`: its `*.rs` files and its optional `extra.toml` (`weight = N`).
    ///
    /// # Errors
    ///
    /// [`Error::MissingDir`] when `dir` is not a directory; an error naming `extra.toml` when it does
    /// not parse; an error when `dir` has no `.rs` file.
    pub fn load(dir: &Path) -> anyhow::Result<ExtraTests> {
        if !dir.is_dir() {
            return Err(Error::MissingDir { what: "extra tests folder", path: dir.to_path_buf() }.into());
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("failed to list {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "rs"))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("extra tests folder {} has no .rs file", dir.display());
        }
        let toml_path = dir.join("extra.toml");
        let weight = if toml_path.exists() {
            let text = std::fs::read_to_string(&toml_path)
                .with_context(|| format!("failed to read {}", toml_path.display()))?;
            let parsed: ExtraToml =
                toml::from_str(&text).with_context(|| format!("bad {}", toml_path.display()))?;
            if !(parsed.weight.is_finite() && parsed.weight >= 0.0) {
                bail!("bad {}: weight must be a number ≥ 0", toml_path.display());
            }
            Some(parsed.weight)
        } else {
            None
        };
        Ok(ExtraTests { files, weight })
    }

    /// The test target of an extra file: `extra_<stem>`.
    pub fn target(file: &Path) -> String {
        let stem = file.file_stem().map(|stem| stem.to_string_lossy()).unwrap_or_default();
        format!("extra_{stem}")
    }

    /// A guess at the number of tests, for the stage's maximum when none can be listed.
    fn expected_tests(&self) -> usize {
        self.files
            .iter()
            .filter_map(|file| std::fs::read_to_string(file).ok())
            .map(|text| text.lines().filter(|line| line.trim_start().starts_with("#[test]")).count())
            .sum()
    }
}

/// Grades submissions of one lab.
#[derive(Debug)]
pub struct Grader<'a> {
    /// The pristine workspace.
    pub workspace: &'a Workspace,
    /// The lab to grade.
    pub lab: &'a Lab,
    /// Extra tests, if any.
    pub extra: Option<&'a ExtraTests>,
    /// Time limit of one test, overriding the manifest's.
    pub timeout: Option<u64>,
    /// Tests to run at once.
    pub jobs: usize,
    /// Progress on stderr.
    pub progress: Progress,
    /// How each test is isolated.
    pub isolation: Isolation,
    /// Time limit of a student's build.
    pub build_timeout: Duration,
    /// Time limits of single tests, measured on the reference by [`Grader::get_ready`].
    pub test_timeouts: HashMap<String, Duration>,
}

/// A test's time limit is this many times what the reference took ...
const CALIBRATION_FACTOR: u32 = 10;

/// ... and never less than this.
const CALIBRATION_FLOOR: Duration = Duration::from_secs(2);

impl Grader<'_> {
    /// Gets ready to grade. Builds the lab once with its own skeleton, with no time limit, so that the
    /// course's dependencies are built before any student's (whose build is then their crate only,
    /// under [`Grader::build_timeout`]). Then, unless a timeout was given, runs the reference's tests
    /// and limits each test to [`CALIBRATION_FACTOR`] times what it took there (at least
    /// [`CALIBRATION_FLOOR`], at most the lab's `test_timeout_secs`): a submission that loops costs
    /// seconds a test, not the minute a slow machine's worst case needs.
    ///
    /// # Errors
    ///
    /// When the grading workspace cannot be prepared, cargo fails for a reason other than a compile
    /// error, or the reference is missing.
    pub fn get_ready(&mut self) -> anyhow::Result<()> {
        self.prepare(&self.lab.dir.join("src"), &HashSet::new())
            .context("failed to prepare the grading workspace")?;
        let stages = self.stages()?;
        let targets = StagePlan::all_targets(&stages);
        let (root, target) = (self.grading_root(), self.grading_target());
        let cargo = Cargo {
            root: &root,
            target_dir: Some(&target),
            echo: self.progress == Progress::Show,
            time_limit: None,
        };
        // The skeleton builds (verify checks it); its result does not matter, its dependencies do.
        cargo.build_tests(&self.lab.manifest.name, &targets)?;
        if self.timeout.is_some() {
            return Ok(());
        }
        let reference = self.workspace.reference(self.lab)?;
        let own_stages: Vec<StagePlan> = stages.into_iter().filter(|stage| stage.id != EXTRA_STAGE).collect();
        let limit = Duration::from_secs(self.lab.manifest.limits.test_timeout_secs);
        let spec = RunSpec {
            lab: self.lab,
            stages: &own_stages,
            limits: self.limits(limit),
            jobs: self.jobs,
            repeat: 1,
            progress: self.progress,
        };
        let tested = cmd::test_package(self.workspace, &reference, spec)?;
        self.test_timeouts = tested
            .runs
            .iter()
            .map(|run| {
                let measured = run.result.duration.saturating_mul(CALIBRATION_FACTOR).max(CALIBRATION_FLOOR);
                let timeout = if run.result.outcome.passed() { measured.min(limit) } else { limit };
                (run.name.clone(), timeout)
            })
            .collect();
        Ok(())
    }

    /// The limits of one test, with `timeout`.
    fn limits(&self, timeout: Duration) -> Limits {
        let limits = self.lab.manifest.limits;
        Limits {
            timeout,
            memory_mb: limits.memory_mb,
            isolation: self.isolation,
            processes: limits.processes,
        }
    }

    /// The grading workspace.
    pub fn grading_root(&self) -> PathBuf {
        self.workspace.state_dir().join("grade").join("ws")
    }

    fn grading_target(&self) -> PathBuf {
        self.workspace.state_dir().join("grade").join("target")
    }

    /// The stages graded: the manifest's, then `extra`.
    ///
    /// # Errors
    ///
    /// When the manifest already has a stage named `extra` and extra tests are given.
    pub fn stages(&self) -> anyhow::Result<Vec<StagePlan>> {
        let mut stages: Vec<StagePlan> = self
            .lab
            .manifest
            .stages
            .iter()
            .map(|stage| StagePlan {
                id: stage.id.clone(),
                title: stage.title.clone(),
                weight: Weight::Total(stage.weight),
                targets: vec![stage.tests.clone()],
            })
            .collect();
        if let Some(extra) = self.extra {
            if self.lab.manifest.stage(EXTRA_STAGE).is_some() {
                bail!("lab {} already has a stage named {EXTRA_STAGE:?}", self.lab.manifest.name);
            }
            let weight = match extra.weight {
                Some(weight) => Weight::Total(weight),
                None => Weight::PerTest { points: 1.0, expected: extra.expected_tests() },
            };
            stages.push(StagePlan {
                id: EXTRA_STAGE.to_owned(),
                title: "Extra tests".to_owned(),
                weight,
                targets: extra.files.iter().map(|file| ExtraTests::target(file)).collect(),
            });
        }
        Ok(stages)
    }

    /// Grades the checkout `submission`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingDir`] when `submission` is not a directory; I/O errors preparing the grading
    /// workspace; cargo failing for a reason other than a compile error. A submission without the
    /// lab's `src/`, or that does not compile, is a report (scoring zero), not an error.
    pub fn grade(&self, submission: &Path) -> anyhow::Result<GradeReport> {
        if !submission.is_dir() {
            return Err(Error::MissingDir { what: "submission", path: submission.to_path_buf() }.into());
        }
        let stages = self.stages()?;
        let lab_rel = Path::new("labs").join(&self.lab.dir_name);
        let src = submission.join(&lab_rel).join("src");
        if let Err(why) = real_directory(submission, &lab_rel.join("src")) {
            let mut report = build_report(self.lab, &stages, None, Vec::new(), None);
            report.no_submission = Some(format!("no submission: {why}"));
            report.sandbox = self.isolation == Isolation::Sandbox;
            return Ok(report);
        }
        let (excluded, skipped) = submitted_files(&src, &lab_rel.join("src"));
        let modified = sync::changed_files(&submission.join(&lab_rel), &self.lab.dir, &PROTECTED)
            .into_iter()
            .map(|file| lab_rel.join(file).display().to_string())
            .collect();
        self.prepare(&src, &excluded).context("failed to prepare the grading workspace")?;

        let root = self.grading_root();
        let target = self.grading_target();
        let package = Package { name: self.lab.manifest.name.clone(), dir: root.join(&lab_rel) };
        // A test the reference did not time (an extra test) gets the longest limit the others got.
        let timeout = match self.timeout {
            Some(secs) => Duration::from_secs(secs),
            None => self
                .test_timeouts
                .values()
                .max()
                .copied()
                .unwrap_or(Duration::from_secs(self.lab.manifest.limits.test_timeout_secs)),
        };
        // The hidden tests' sources are in the grading workspace (cargo builds them), but a test
        // reading them in the sandbox finds them empty.
        let masked: Vec<PathBuf> = self
            .extra
            .map(|extra| extra.files.iter().map(|file| self.extra_test_path(file)).collect())
            .unwrap_or_default();
        let hidden_targets: Vec<String> = self
            .extra
            .map(|extra| extra.files.iter().map(|file| ExtraTests::target(file)).collect())
            .unwrap_or_default();
        let suite = Suite {
            masked: &masked,
            hidden_targets: &hidden_targets,
            timeouts: (self.timeout.is_none() && !self.test_timeouts.is_empty())
                .then_some(&self.test_timeouts),
            cargo: Cargo {
                root: &root,
                target_dir: Some(&target),
                echo: self.progress == Progress::Show,
                time_limit: Some(self.build_timeout),
            },
            package: &package,
            stages: &stages,
            limits: self.limits(timeout),
            jobs: self.jobs,
            repeat: 1,
            progress: self.progress,
            label: &self.lab.manifest.name,
        };
        let mut report = match suite.run()? {
            SuiteOutcome::CompileError(errors) => {
                build_report(self.lab, &stages, None, modified, Some(libtest::sanitize(&errors)))
            }
            SuiteOutcome::Ran(runs) => build_report(self.lab, &stages, Some(&runs), modified, None),
        };
        report.files_skipped = skipped;
        report.sandbox = self.isolation == Isolation::Sandbox;
        Ok(report)
    }

    /// Where the extra test `file` is copied in the grading workspace.
    fn extra_test_path(&self, file: &Path) -> PathBuf {
        let tests = self.grading_root().join("labs").join(&self.lab.dir_name).join("tests");
        tests.join(format!("{}.rs", ExtraTests::target(file)))
    }

    /// Mirrors the pristine workspace into the grading workspace, with the submission's `src` but
    /// its `excluded` files (relative to `src`).
    fn prepare(&self, submission_src: &Path, excluded: &HashSet<PathBuf>) -> anyhow::Result<()> {
        let pristine = &self.workspace.root;
        let root = self.grading_root();
        let lab_src = Path::new("labs").join(&self.lab.dir_name).join("src");
        let target_rel = self.workspace.target_dir.strip_prefix(pristine).ok().map(Path::to_path_buf);
        let has_lock = pristine.join("Cargo.lock").exists();
        let skip = |path: &Path, _: bool| {
            let kept = path == Path::new("target")
                || path == Path::new(".git")
                || path == Path::new("datasets/generated")
                || path == Path::new("book/build")
                || path == lab_src
                || target_rel.as_deref() == Some(path)
                || (!has_lock && path == Path::new("Cargo.lock"));
            if kept { Rule::Keep } else { Rule::Include }
        };
        sync::mirror(pristine, &root, &skip)?;
        let submitted =
            |path: &Path, _: bool| if excluded.contains(path) { Rule::Exclude } else { Rule::Include };
        sync::mirror(submission_src, &root.join(&lab_src), &submitted)?;
        if let Some(extra) = self.extra {
            let tests = root.join("labs").join(&self.lab.dir_name).join("tests");
            std::fs::create_dir_all(&tests)?;
            for file in &extra.files {
                let to = self.extra_test_path(file);
                std::fs::copy(file, &to).with_context(|| format!("failed to copy {}", file.display()))?;
            }
        }
        Ok(())
    }
}

/// The most a submission's `src/` may hold; files beyond it are left out and reported.
const SUBMISSION_BYTES: u64 = 16 * 1024 * 1024;

/// `Ok` when `relative` below `root` is a directory reached through directories only: a symbolic
/// link anywhere on the way (`labs`, the lab's folder, `src`) could point at another student's work
/// or at the reference, and is not followed.
fn real_directory(root: &Path, relative: &Path) -> Result<(), String> {
    let mut path = root.to_path_buf();
    for component in relative.components() {
        path.push(component);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!("{} is a symbolic link, which grading does not follow", path.display()));
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(format!("{} is not a folder", path.display())),
            Err(_) => return Err(format!("{} has no {}/ folder", root.display(), relative.display())),
        }
    }
    Ok(())
}

/// What of the submission's `src` is graded: every regular file, in name order, while the total stays
/// under [`SUBMISSION_BYTES`]. Returns the paths left out (relative to `src`) and, for the report,
/// each one's path from the workspace (`shown_src` is `src` from there) with the reason.
fn submitted_files(src: &Path, shown_src: &Path) -> (HashSet<PathBuf>, Vec<String>) {
    let mut excluded = HashSet::new();
    let mut skipped = Vec::new();
    let mut total = 0u64;
    let mut pending = vec![PathBuf::new()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<_> =
            std::fs::read_dir(src.join(&dir)).into_iter().flatten().filter_map(Result::ok).collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let relative = dir.join(entry.file_name());
            let why = match entry.file_type() {
                Ok(kind) if kind.is_dir() => {
                    pending.push(relative);
                    continue;
                }
                Ok(kind) if kind.is_symlink() => "a symbolic link, which grading does not follow".to_owned(),
                Ok(kind) if kind.is_file() => {
                    let size = entry.metadata().map_or(0, |meta| meta.len());
                    if total + size <= SUBMISSION_BYTES {
                        total += size;
                        continue;
                    }
                    format!("over the {} MiB a submission's src/ may hold", SUBMISSION_BYTES >> 20)
                }
                _ => "not a regular file".to_owned(),
            };
            skipped.push(format!("{}: {why}", shown_src.join(&relative).display()));
            excluded.insert(relative);
        }
    }
    skipped.sort();
    (excluded, skipped)
}

/// The grade report of a lab from its stages and what ran (`None`: nothing could run).
pub fn build_report(
    lab: &Lab,
    stages: &[StagePlan],
    runs: Option<&[TestRun]>,
    tests_modified: Vec<String>,
    compile_error: Option<String>,
) -> GradeReport {
    let scores: Vec<StageScore> = score::score_stages(stages, runs);
    let tests = runs
        .unwrap_or_default()
        .iter()
        .map(|run| {
            let (weight, total) = stages
                .iter()
                .zip(&scores)
                .find(|(stage, _)| stage.id == run.stage)
                .map_or((Weight::Total(0.0), 0), |(stage, score)| (stage.weight, score.total));
            let share = score::points_per_test(weight, total);
            let passed = run.result.outcome.passed();
            TestGrade {
                name: run.name.clone(),
                stage: run.stage.clone(),
                passed,
                points: if passed { share } else { 0.0 },
                message: run.result.message.clone(),
                max_points: share,
            }
        })
        .collect();
    GradeReport {
        lab: lab.manifest.name.clone(),
        score: scores.iter().map(|stage| stage.score).sum(),
        max: scores.iter().map(|stage| stage.max).sum(),
        stages: scores,
        tests,
        tests_modified,
        files_skipped: Vec::new(),
        sandbox: false,
        compile_error,
        no_submission: None,
    }
}
