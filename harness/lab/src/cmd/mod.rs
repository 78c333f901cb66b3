//! The commands of `cargo lab`, one file each, and what they share: turning a lab's manifest into
//! stages to run, running them, and keeping the student's results in the cache.

pub mod bench;
pub mod clean;
pub mod export;
pub mod grade;
pub mod list;
pub mod mutants;
pub mod run_many;
pub mod status;
pub mod test;
pub mod verify;
pub mod watch;

use std::time::Duration;

use crate::cache::{self, Cached};
use crate::compile::Cargo;
use crate::error::Error;
use crate::runner::Limits;
use crate::sandbox::Isolation;
use crate::score::{self, StageScore};
use crate::suite::{Progress, StagePlan, Suite, SuiteOutcome, TestRun, Weight};
use crate::workspace::{Lab, Package, Workspace};

/// The stages of `lab` to run: all of them, or the one named `only`.
///
/// # Errors
///
/// [`Error::UnknownStage`] when `only` names no stage.
pub fn stage_plans(lab: &Lab, only: Option<&str>) -> Result<Vec<StagePlan>, Error> {
    if let Some(id) = only
        && lab.manifest.stage(id).is_none()
    {
        return Err(Error::UnknownStage {
            lab: lab.manifest.name.clone(),
            stage: id.to_owned(),
            known: lab.manifest.stage_ids(),
        });
    }
    Ok(lab
        .manifest
        .stages
        .iter()
        .filter(|stage| only.is_none_or(|id| id == stage.id))
        .map(|stage| StagePlan {
            id: stage.id.clone(),
            title: stage.title.clone(),
            weight: Weight::Total(stage.weight),
            targets: vec![stage.tests.clone()],
        })
        .collect())
}

/// The limits of one test of `lab`, with the time limit overridden by `timeout` seconds.
pub fn limits(lab: &Lab, timeout: Option<u64>) -> Limits {
    Limits {
        timeout: Duration::from_secs(timeout.unwrap_or(lab.manifest.limits.test_timeout_secs)),
        memory_mb: lab.manifest.limits.memory_mb,
        // The student's own code on the student's own machine: a process group is enough.
        isolation: Isolation::ProcessGroup,
        processes: lab.manifest.limits.processes,
    }
}

/// What testing a package gave.
#[derive(Debug)]
pub struct Tested {
    /// Each stage's result (all failed when it did not compile).
    pub scores: Vec<StageScore>,
    /// Every test run.
    pub runs: Vec<TestRun>,
    /// The compiler's errors, when it did not compile.
    pub compile_error: Option<String>,
}

impl Tested {
    /// Whether it compiled and every stage is complete.
    pub fn all_passed(&self) -> bool {
        self.compile_error.is_none() && self.scores.iter().all(StageScore::is_complete)
    }
}

/// How to run a package's tests in the workspace itself.
#[derive(Debug, Clone, Copy)]
pub struct RunSpec<'a> {
    /// The lab.
    pub lab: &'a Lab,
    /// Its stages to run.
    pub stages: &'a [StagePlan],
    /// Limits of one test.
    pub limits: Limits,
    /// Tests at once.
    pub jobs: usize,
    /// Runs of each test.
    pub repeat: usize,
    /// Progress on stderr.
    pub progress: Progress,
}

/// Builds and runs the tests of `package` in the workspace.
///
/// # Errors
///
/// When cargo fails for a reason other than a compile error, or a test cannot be started.
pub fn test_package(ws: &Workspace, package: &Package, spec: RunSpec) -> anyhow::Result<Tested> {
    let suite = Suite {
        masked: &[],
        timeouts: None,
        hidden_targets: &[],
        cargo: Cargo {
            root: &ws.root,
            target_dir: None,
            echo: spec.progress == Progress::Show,
            time_limit: None,
        },
        package,
        stages: spec.stages,
        limits: spec.limits,
        jobs: spec.jobs,
        repeat: spec.repeat,
        progress: spec.progress,
        label: &spec.lab.manifest.name,
    };
    Ok(match suite.run()? {
        SuiteOutcome::CompileError(errors) => Tested {
            scores: score::score_stages(spec.stages, None),
            runs: Vec::new(),
            compile_error: Some(errors),
        },
        SuiteOutcome::Ran(runs) => {
            Tested { scores: score::score_stages(spec.stages, Some(&runs)), runs, compile_error: None }
        }
    })
}

/// Records the student's results for `lab`, obtained from sources with `fingerprint`, in the cache.
///
/// # Errors
///
/// When the cache file cannot be written.
pub fn save_results(ws: &Workspace, lab: &Lab, fingerprint: &str, tested: &Tested) -> anyhow::Result<Cached> {
    let path = cache::path(&ws.state_dir(), &lab.manifest.name);
    let cached = Cached::record(
        cache::load(&path),
        fingerprint,
        tested.compile_error.as_deref(),
        &tested.scores,
        &tested.runs,
    );
    cache::store(&path, &cached)?;
    Ok(cached)
}
