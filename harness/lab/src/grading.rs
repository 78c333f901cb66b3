//! Grading one submission in a grading workspace of its own.
//!
//! The grading workspace, `target/lab/grade/ws`, is a mirror of the pristine workspace (without
//! `target/`, `.git/`, `datasets/generated/` and `book/build/`) in which `labs/<lab>/src/` is the
//! submission's (its `.rs` files only) and `labs/<lab>/tests/` may hold the grader's extra tests. It
//! builds into `target/lab/grade/target`. Both paths are fixed, so grading again (the next student of
//! a class) rebuilds only the lab crate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::compile::Cargo;
use crate::error::Error;
use crate::grade_json::{GradeReport, TestGrade};
use crate::runner::Limits;
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
}

impl Grader<'_> {
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
        if !src.is_dir() {
            let why =
                format!("no submission: {} has no {}/src/ folder", submission.display(), lab_rel.display());
            let mut report = build_report(self.lab, &stages, None, Vec::new(), None);
            report.no_submission = Some(why);
            return Ok(report);
        }
        let modified = sync::changed_files(&submission.join(&lab_rel), &self.lab.dir, &PROTECTED)
            .into_iter()
            .map(|file| lab_rel.join(file).display().to_string())
            .collect();
        self.prepare(&src).context("failed to prepare the grading workspace")?;

        let root = self.grading_root();
        let target = self.grading_target();
        let package = Package { name: self.lab.manifest.name.clone(), dir: root.join(&lab_rel) };
        let limits = self.lab.manifest.limits;
        let suite = Suite {
            cargo: Cargo { root: &root, target_dir: Some(&target), echo: self.progress == Progress::Show },
            package: &package,
            stages: &stages,
            limits: Limits {
                timeout: Duration::from_secs(self.timeout.unwrap_or(limits.test_timeout_secs)),
                memory_mb: limits.memory_mb,
            },
            jobs: self.jobs,
            repeat: 1,
            progress: self.progress,
            label: &self.lab.manifest.name,
        };
        Ok(match suite.run()? {
            SuiteOutcome::CompileError(errors) => {
                build_report(self.lab, &stages, None, modified, Some(errors))
            }
            SuiteOutcome::Ran(runs) => build_report(self.lab, &stages, Some(&runs), modified, None),
        })
    }

    /// Mirrors the pristine workspace into the grading workspace, with the submission's `src`.
    fn prepare(&self, submission_src: &Path) -> anyhow::Result<()> {
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
        let only_rust = |path: &Path, is_dir: bool| {
            if is_dir || path.extension().is_some_and(|ext| ext == "rs") {
                Rule::Include
            } else {
                Rule::Exclude
            }
        };
        sync::mirror(submission_src, &root.join(&lab_src), &only_rust)?;
        if let Some(extra) = self.extra {
            let tests = root.join("labs").join(&self.lab.dir_name).join("tests");
            std::fs::create_dir_all(&tests)?;
            for file in &extra.files {
                let to = tests.join(format!("{}.rs", ExtraTests::target(file)));
                std::fs::copy(file, &to).with_context(|| format!("failed to copy {}", file.display()))?;
            }
        }
        Ok(())
    }
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
        compile_error,
        no_submission: None,
    }
}
