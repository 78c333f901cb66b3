//! The class gradebook: one CSV row per student, and one feedback file per student.
//!
//! The CSV's header is `student,score,max,<stage ids…>,status`; a stage column holds the stage's
//! points. Feedback files are the same text `cargo lab grade --submission` prints, without colour, in
//! `<out stem>-feedback/<student>.txt` beside the CSV.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::grade_json::GradeReport;
use crate::score::fmt_points;

/// One student's row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The student's name (their folder's name).
    pub student: String,
    /// Points earned.
    pub score: f64,
    /// Points available.
    pub max: f64,
    /// Points per stage, in the header's order.
    pub stages: Vec<f64>,
    /// `ok`, `compile-error`, `tests-modified`, `no-submission`, `timeouts:N`, or `error: …` when the
    /// harness itself failed on this student.
    pub status: String,
}

impl Row {
    /// The row of a graded student.
    pub fn graded(student: &str, report: &GradeReport) -> Row {
        Row {
            student: student.to_owned(),
            score: report.score,
            max: report.max,
            stages: report.stages.iter().map(|stage| stage.score).collect(),
            status: report.status(),
        }
    }
}

/// The gradebook's CSV text.
pub fn to_csv(stage_ids: &[String], rows: &[Row]) -> String {
    let mut csv = String::from("student,score,max");
    for id in stage_ids {
        csv.push(',');
        csv.push_str(&field(id));
    }
    csv.push_str(",status\n");
    for row in rows {
        let _ = write!(csv, "{},{},{}", field(&row.student), fmt_points(row.score), fmt_points(row.max));
        for index in 0..stage_ids.len() {
            let points = row.stages.get(index).copied().unwrap_or(0.0);
            let _ = write!(csv, ",{}", fmt_points(points));
        }
        let _ = writeln!(csv, ",{}", field(&row.status));
    }
    csv
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The feedback folder of the gradebook `out`, for the students: `grades.csv` → `grades-feedback/`.
pub fn feedback_dir(out: &Path) -> PathBuf {
    beside(out, "feedback")
}

/// The instructor's folder of full reports, hidden tests' messages included: `grades.csv` →
/// `grades-instructor/`.
pub fn instructor_dir(out: &Path) -> PathBuf {
    beside(out, "instructor")
}

fn beside(out: &Path, what: &str) -> PathBuf {
    let stem = out.file_stem().map_or_else(|| "grades".into(), |stem| stem.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}-{what}"))
}

/// Writes `text` as the feedback of `student` in `dir`.
///
/// # Errors
///
/// When the file cannot be written.
pub fn write_feedback(dir: &Path, student: &str, text: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let path = dir.join(format!("{student}.txt"));
    std::fs::write(&path, text).with_context(|| format!("failed to write {}", path.display()))
}

/// Writes the gradebook to `out`, atomically, so an interrupted class run leaves a whole file.
///
/// # Errors
///
/// When the file cannot be written.
pub fn write_csv(out: &Path, stage_ids: &[String], rows: &[Row]) -> anyhow::Result<()> {
    if let Some(dir) = out.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    }
    let tmp = out.with_extension("csv.tmp");
    std::fs::write(&tmp, to_csv(stage_ids, rows))
        .with_context(|| format!("failed to write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("failed to write {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(student: &str, score: f64, stages: Vec<f64>, status: &str) -> Row {
        Row { student: student.into(), score, max: 30.0, stages, status: status.into() }
    }

    #[test]
    fn writes_header_and_rows() {
        let ids = vec!["parse".to_owned(), "top".to_owned()];
        let rows = [
            row("alice", 30.0, vec![20.0, 10.0], "ok"),
            row("bob", 20.0 / 3.0, vec![20.0 / 3.0, 0.0], "timeouts:2"),
        ];
        assert_eq!(
            to_csv(&ids, &rows),
            "student,score,max,parse,top,status\nalice,30,30,20,10,ok\nbob,6.67,30,6.67,0,timeouts:2\n"
        );
    }

    #[test]
    fn quotes_names_with_commas_and_quotes() {
        assert_eq!(field("Doe, Jane"), "\"Doe, Jane\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
        let csv = to_csv(&[], &[row("Doe, Jane", 0.0, vec![], "no-submission")]);
        assert_eq!(csv.lines().nth(1).unwrap(), "\"Doe, Jane\",0,30,no-submission");
    }

    #[test]
    fn a_short_row_fills_missing_stages_with_zero() {
        let csv = to_csv(&["a".into(), "b".into()], &[row("x", 0.0, vec![], "error: boom")]);
        assert_eq!(csv.lines().nth(1).unwrap(), "x,0,30,0,0,error: boom");
    }

    #[test]
    fn feedback_goes_beside_the_csv() {
        assert_eq!(feedback_dir(Path::new("out/grades.csv")), Path::new("out/grades-feedback"));
        assert_eq!(feedback_dir(Path::new("g.csv")), Path::new("g-feedback"));
    }

    #[test]
    fn writes_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("sub/grades.csv");
        write_csv(&out, &["a".into()], &[row("x", 1.0, vec![1.0], "ok")]).unwrap();
        assert!(std::fs::read_to_string(&out).unwrap().starts_with("student,score,max,a,status\n"));
        write_feedback(&feedback_dir(&out), "x", "hello").unwrap();
        assert_eq!(std::fs::read_to_string(tmp.path().join("sub/grades-feedback/x.txt")).unwrap(), "hello");
    }
}
