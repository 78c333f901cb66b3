//! The result of grading one submission, and its two machine-readable shapes.
//!
//! `--json` prints [`GradeReport`] as is:
//! `{"lab", "score", "max", "stages": [{"id", "title", "score", "max", "passed", "total"}],
//! "tests": [{"name", "stage", "passed", "points", "message"}], "tests_modified": [...],
//! "compile_error": null | "..."}`. `--gradescope` writes Gradescope's `results.json`.

use serde::Serialize;

use crate::score::{StageScore, fmt_points, round_points};

/// The grade of one submission.
#[derive(Debug, Clone, Serialize)]
pub struct GradeReport {
    /// The lab's package name.
    pub lab: String,
    /// Points earned.
    pub score: f64,
    /// Points available.
    pub max: f64,
    /// Each stage's points.
    pub stages: Vec<StageScore>,
    /// Each test's points.
    pub tests: Vec<TestGrade>,
    /// The submission's changes to files it may not change (ignored), relative to the workspace.
    pub tests_modified: Vec<String>,
    /// The submission's files under `src/` that were left out, each with the reason.
    pub files_skipped: Vec<String>,
    /// Whether the tests ran in the sandbox (false with `--no-sandbox`).
    pub sandbox: bool,
    /// The compiler's first errors, when the submission does not compile.
    pub compile_error: Option<String>,
    /// Why nothing was graded: no `labs/<lab>/src/` in the submission.
    #[serde(skip)]
    pub no_submission: Option<String>,
}

/// What a student sees of a hidden test's failure.
pub const HIDDEN_MESSAGE: &str = "a hidden test: its message goes to the instructor only";

/// One test's points.
#[derive(Debug, Clone, Serialize)]
pub struct TestGrade {
    /// The test's name.
    pub name: String,
    /// Its stage id.
    pub stage: String,
    /// Whether it passed.
    pub passed: bool,
    /// Points earned: its share of the stage's weight, or 0.
    pub points: f64,
    /// Why it failed; empty when it passed.
    pub message: String,
    /// Its share of the stage's weight.
    #[serde(skip)]
    pub max_points: f64,
}

impl GradeReport {
    /// The report as a student may see it: the failure messages of hidden tests (the stage
    /// `hidden_stage`, made of `--extra-tests`) are withheld, since an assertion's message can quote
    /// the test, or a panic carry its source.
    pub fn for_student(&self, hidden_stage: &str) -> GradeReport {
        let mut report = self.clone();
        for test in report.tests.iter_mut().filter(|test| test.stage == hidden_stage && !test.passed) {
            test.message = HIDDEN_MESSAGE.to_owned();
        }
        report
    }

    /// Tests that hit the time limit.
    pub fn timeouts(&self) -> usize {
        self.stages.iter().map(|stage| stage.timeouts).sum()
    }

    /// The gradebook status: `ok`, `no-submission`, `compile-error`, `timeouts:N`, `tests-modified`,
    /// or several of the last two joined by `;`.
    pub fn status(&self) -> String {
        if self.no_submission.is_some() {
            return "no-submission".to_owned();
        }
        if self.compile_error.is_some() {
            return "compile-error".to_owned();
        }
        let mut status = Vec::new();
        if self.timeouts() > 0 {
            status.push(format!("timeouts:{}", self.timeouts()));
        }
        if !self.tests_modified.is_empty() {
            status.push("tests-modified".to_owned());
        }
        if status.is_empty() { "ok".to_owned() } else { status.join(";") }
    }

    /// The report as `--json` prints it.
    ///
    /// # Errors
    ///
    /// Never in practice: every field serializes.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&self.rounded())
    }

    /// The report in Gradescope's `results.json` format.
    ///
    /// # Errors
    ///
    /// Never in practice: every field serializes.
    pub fn to_gradescope(&self, summary: &str) -> serde_json::Result<String> {
        let tests: Vec<GradescopeTest> = if self.tests.is_empty() {
            let why =
                self.no_submission.as_deref().or(self.compile_error.as_deref()).unwrap_or("no tests ran");
            self.stages
                .iter()
                .map(|stage| GradescopeTest {
                    name: format!("{}: {}", stage.id, stage.title),
                    score: 0.0,
                    max_score: round_points(stage.max),
                    output: why.to_owned(),
                    visibility: "visible",
                })
                .collect()
        } else {
            self.tests
                .iter()
                .map(|test| GradescopeTest {
                    name: format!("{}: {}", test.stage, test.name),
                    score: round_points(test.points),
                    max_score: round_points(test.max_points),
                    output: test.message.clone(),
                    visibility: "visible",
                })
                .collect()
        };
        let results = Gradescope {
            score: round_points(self.score),
            max_score: round_points(self.max),
            output: summary.to_owned(),
            tests,
        };
        serde_json::to_string_pretty(&results)
    }

    fn rounded(&self) -> GradeReport {
        let mut report = self.clone();
        report.score = round_points(report.score);
        report.max = round_points(report.max);
        for stage in &mut report.stages {
            stage.score = round_points(stage.score);
            stage.max = round_points(stage.max);
        }
        for test in &mut report.tests {
            test.points = round_points(test.points);
        }
        report
    }

    /// `score/max` for people: `35.5/100`.
    pub fn score_text(&self) -> String {
        format!("{}/{}", fmt_points(self.score), fmt_points(self.max))
    }
}

#[derive(Serialize)]
struct Gradescope {
    score: f64,
    max_score: f64,
    output: String,
    tests: Vec<GradescopeTest>,
}

#[derive(Serialize)]
struct GradescopeTest {
    name: String,
    score: f64,
    max_score: f64,
    output: String,
    visibility: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn report() -> GradeReport {
        GradeReport {
            lab: "logstat".into(),
            score: 20.0 / 3.0,
            max: 30.0,
            stages: vec![
                StageScore {
                    id: "parse".into(),
                    title: "Parse".into(),
                    score: 20.0 / 3.0,
                    max: 20.0,
                    passed: 1,
                    total: 3,
                    timeouts: 1,
                },
                StageScore {
                    id: "top".into(),
                    title: "Top".into(),
                    score: 0.0,
                    max: 10.0,
                    passed: 0,
                    total: 0,
                    timeouts: 0,
                },
            ],
            tests: vec![
                TestGrade {
                    name: "a".into(),
                    stage: "parse".into(),
                    passed: true,
                    points: 20.0 / 3.0,
                    message: String::new(),
                    max_points: 20.0 / 3.0,
                },
                TestGrade {
                    name: "b".into(),
                    stage: "parse".into(),
                    passed: false,
                    points: 0.0,
                    message: "timed out after 5s".into(),
                    max_points: 20.0 / 3.0,
                },
            ],
            tests_modified: vec!["labs/01-logstat/tests/stage1_parse.rs".into()],
            files_skipped: vec![],
            sandbox: true,
            compile_error: None,
            no_submission: None,
        }
    }

    #[test]
    fn a_student_sees_no_message_of_a_hidden_test() {
        let mut report = report();
        report.tests[1].stage = "extra".into();
        report.tests[1].message = "assert_eq!(secret_case(), 42)".into();
        let student = report.for_student("extra");
        assert_eq!(student.tests[1].message, HIDDEN_MESSAGE, "the hidden test's message");
        assert_eq!(report.tests[1].message, "assert_eq!(secret_case(), 42)", "the instructor's copy");
        assert_eq!(report.for_student("other").tests[1].message, report.tests[1].message, "a visible stage");
    }

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn json_has_exactly_the_documented_shape() {
        let json: Value = serde_json::from_str(&report().to_json().unwrap()).unwrap();
        assert_eq!(
            keys(&json),
            [
                "compile_error",
                "files_skipped",
                "lab",
                "max",
                "sandbox",
                "score",
                "stages",
                "tests",
                "tests_modified"
            ]
        );
        assert_eq!(keys(&json["stages"][0]), ["id", "max", "passed", "score", "title", "total"]);
        assert_eq!(keys(&json["tests"][0]), ["message", "name", "passed", "points", "stage"]);
        assert_eq!(json["score"], 6.6667);
        assert_eq!(json["compile_error"], Value::Null);
        assert_eq!(json["tests"][1]["message"], "timed out after 5s");
        assert_eq!(json["tests_modified"][0], "labs/01-logstat/tests/stage1_parse.rs");
    }

    #[test]
    fn gradescope_shape() {
        let json: Value = serde_json::from_str(&report().to_gradescope("summary").unwrap()).unwrap();
        assert_eq!(keys(&json), ["max_score", "output", "score", "tests"]);
        assert_eq!(keys(&json["tests"][0]), ["max_score", "name", "output", "score", "visibility"]);
        assert_eq!(json["tests"][0]["name"], "parse: a");
        assert_eq!(json["tests"][0]["visibility"], "visible");
        assert_eq!(json["max_score"], 30.0);
    }

    #[test]
    fn gradescope_without_tests_lists_stages() {
        let mut report = report();
        report.tests.clear();
        report.compile_error = Some("error[E0308]".into());
        let json: Value = serde_json::from_str(&report.to_gradescope("").unwrap()).unwrap();
        assert_eq!(json["tests"].as_array().unwrap().len(), 2);
        assert_eq!(json["tests"][0]["output"], "error[E0308]");
        assert_eq!(json["tests"][1]["max_score"], 10.0);
    }

    #[test]
    fn status_names_what_went_wrong() {
        let mut report = report();
        assert_eq!(report.status(), "timeouts:1;tests-modified");
        report.tests_modified.clear();
        report.stages[0].timeouts = 0;
        assert_eq!(report.status(), "ok");
        report.compile_error = Some("e".into());
        assert_eq!(report.status(), "compile-error");
        report.no_submission = Some("none".into());
        assert_eq!(report.status(), "no-submission");
        assert_eq!(report.score_text(), "6.67/30");
    }
}
