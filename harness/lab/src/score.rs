//! Scoring: a stage's weight split evenly over its tests, and a test earns its share if it passes.

use crate::suite::{StagePlan, TestRun, Weight};

/// One stage's result, as reports and the JSON grade show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageScore {
    /// The stage id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Points earned.
    pub score: f64,
    /// Points available.
    pub max: f64,
    /// Tests that passed.
    pub passed: usize,
    /// Tests that ran.
    pub total: usize,
    /// Tests that hit the time limit (in the gradebook's status, not the JSON).
    #[serde(skip)]
    pub timeouts: usize,
}

impl StageScore {
    /// Whether the stage is complete: it has tests and all of them pass.
    pub fn is_complete(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// What one test of a stage with `total` tests and weight `weight` is worth.
pub fn points_per_test(weight: Weight, total: usize) -> f64 {
    match weight {
        Weight::Total(_) if total == 0 => 0.0,
        Weight::Total(points) => points / total as f64,
        Weight::PerTest { points, .. } => points,
    }
}

/// The points a stage is worth when `total` of its tests ran (0 when it did not compile).
pub fn stage_max(weight: Weight, total: usize) -> f64 {
    match weight {
        Weight::Total(points) => points,
        Weight::PerTest { points, expected } => points * (if total > 0 { total } else { expected }) as f64,
    }
}

/// The score of each stage; `runs` is `None` when the code does not compile.
pub fn score_stages(stages: &[StagePlan], runs: Option<&[TestRun]>) -> Vec<StageScore> {
    stages
        .iter()
        .map(|stage| {
            let mine: Vec<&TestRun> =
                runs.unwrap_or_default().iter().filter(|run| run.stage == stage.id).collect();
            let total = mine.len();
            let passed = mine.iter().filter(|run| run.result.outcome.passed()).count();
            let timeouts =
                mine.iter().filter(|run| run.result.outcome == crate::runner::Outcome::TimedOut).count();
            let max = stage_max(stage.weight, total);
            let score = if total == 0 {
                0.0
            } else if passed == total {
                max
            } else {
                points_per_test(stage.weight, total) * passed as f64
            };
            StageScore {
                id: stage.id.clone(),
                title: stage.title.clone(),
                score,
                max,
                passed,
                total,
                timeouts,
            }
        })
        .collect()
}

/// Points for printing: whole numbers bare, others with up to two decimals (`20`, `13.33`, `2.5`).
pub fn fmt_points(points: f64) -> String {
    let rounded = (points * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `points` rounded to 4 decimals, for JSON: `13.3333`, not `13.333333333333334`.
pub fn round_points(points: f64) -> f64 {
    (points * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Finished, Outcome};
    use std::time::Duration;

    fn plan(id: &str, weight: Weight) -> StagePlan {
        StagePlan { id: id.into(), title: id.to_uppercase(), weight, targets: vec![format!("t_{id}")] }
    }

    fn run(stage: &str, outcome: Outcome) -> TestRun {
        TestRun {
            stage: stage.into(),
            name: "x".into(),
            result: Finished { outcome, duration: Duration::ZERO, message: String::new() },
        }
    }

    #[test]
    fn splits_weight_evenly_over_tests() {
        let stages = [plan("parse", Weight::Total(20.0)), plan("top", Weight::Total(10.0))];
        let runs = [
            run("parse", Outcome::Passed),
            run("parse", Outcome::Failed),
            run("parse", Outcome::TimedOut),
            run("parse", Outcome::Passed),
            run("top", Outcome::Passed),
            run("top", Outcome::Passed),
            run("top", Outcome::Passed),
        ];
        let scores = score_stages(&stages, Some(&runs));
        assert_eq!((scores[0].score, scores[0].max, scores[0].passed, scores[0].total), (10.0, 20.0, 2, 4));
        assert_eq!(scores[0].timeouts, 1);
        assert!(!scores[0].is_complete());
        // 3 × 10/3 would not add up to exactly 10 in floating point; a full stage earns its weight.
        assert_eq!(scores[1].score, 10.0);
        assert!(scores[1].is_complete());
    }

    #[test]
    fn one_third_shares() {
        assert_eq!(fmt_points(points_per_test(Weight::Total(20.0), 3)), "6.67");
        assert_eq!(round_points(points_per_test(Weight::Total(40.0), 3)), 13.3333);
    }

    #[test]
    fn a_compile_error_scores_zero_of_the_full_weight() {
        let stages =
            [plan("parse", Weight::Total(20.0)), plan("extra", Weight::PerTest { points: 1.0, expected: 4 })];
        let scores = score_stages(&stages, None);
        assert_eq!((scores[0].score, scores[0].max), (0.0, 20.0));
        assert_eq!((scores[1].score, scores[1].max), (0.0, 4.0));
    }

    #[test]
    fn per_test_weights_count_the_tests_that_ran() {
        let stages = [plan("extra", Weight::PerTest { points: 2.0, expected: 9 })];
        let runs = [run("extra", Outcome::Passed), run("extra", Outcome::Crashed { signal: 6 })];
        let scores = score_stages(&stages, Some(&runs));
        assert_eq!((scores[0].score, scores[0].max), (2.0, 4.0));
    }

    #[test]
    fn an_empty_stage_is_not_complete() {
        let scores = score_stages(&[plan("a", Weight::Total(5.0))], Some(&[]));
        assert_eq!((scores[0].score, scores[0].max, scores[0].total), (0.0, 5.0, 0));
        assert!(!scores[0].is_complete());
    }

    #[test]
    fn formats_points() {
        assert_eq!(fmt_points(20.0), "20");
        assert_eq!(fmt_points(2.5), "2.5");
        assert_eq!(fmt_points(13.333333), "13.33");
        assert_eq!(fmt_points(0.0), "0");
    }
}
