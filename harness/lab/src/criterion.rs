//! Reading criterion's results: each benchmark leaves `<home>/<id…>/new/benchmark.json` (its
//! `full_id`) and `new/estimates.json` (its `median.point_estimate`, in nanoseconds) under
//! `CRITERION_HOME`.

use std::path::Path;
use std::time::SystemTime;

use serde::Deserialize;

/// One benchmark's median.
#[derive(Debug, Clone, PartialEq)]
pub struct Median {
    /// The benchmark id, `group/function/parameter`.
    pub id: String,
    /// The median time of one iteration, in nanoseconds.
    pub nanos: f64,
}

#[derive(Deserialize)]
struct BenchmarkJson {
    full_id: String,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: Point,
}

#[derive(Deserialize)]
struct Point {
    point_estimate: f64,
}

/// The medians of the benchmarks under `home` written at or after `since`, sorted by id.
pub fn medians(home: &Path, since: SystemTime) -> Vec<Median> {
    let mut found = Vec::new();
    walk(home, since, &mut found);
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

fn walk(dir: &Path, since: SystemTime, found: &mut Vec<Median>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        if entry.file_name() == "new" {
            if let Some(median) = read_new(&path, since) {
                found.push(median);
            }
        } else if entry.file_name() != "base" && entry.file_name() != "report" {
            walk(&path, since, found);
        }
    }
}

fn read_new(new: &Path, since: SystemTime) -> Option<Median> {
    let estimates_path = new.join("estimates.json");
    let modified = std::fs::metadata(&estimates_path).and_then(|meta| meta.modified()).ok()?;
    if modified < since {
        return None;
    }
    let benchmark: BenchmarkJson =
        serde_json::from_str(&std::fs::read_to_string(new.join("benchmark.json")).ok()?).ok()?;
    let estimates: EstimatesJson =
        serde_json::from_str(&std::fs::read_to_string(estimates_path).ok()?).ok()?;
    Some(Median { id: benchmark.full_id, nanos: estimates.median.point_estimate })
}

/// A duration in nanoseconds for people: `812 ns`, `4.56 µs`, `1.23 ms`, `2.50 s`.
pub fn fmt_nanos(nanos: f64) -> String {
    if nanos < 1e3 {
        format!("{nanos:.0} ns")
    } else if nanos < 1e6 {
        format!("{:.2} µs", nanos / 1e3)
    } else if nanos < 1e9 {
        format!("{:.2} ms", nanos / 1e6)
    } else {
        format!("{:.2} s", nanos / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fake_result(home: &Path, dir: &str, id: &str, median: f64) {
        let new = home.join(dir).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            format!(r#"{{"group_id":"g","full_id":"{id}","title":"{id}"}}"#),
        )
        .unwrap();
        let estimate = format!(
            r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}},"point_estimate":{median},"standard_error":0.1}}"#
        );
        std::fs::write(new.join("estimates.json"), format!(r#"{{"mean":{estimate},"median":{estimate}}}"#))
            .unwrap();
    }

    #[test]
    fn reads_medians_newer_than_the_run() {
        let tmp = tempfile::tempdir().unwrap();
        fake_result(tmp.path(), "parse/line", "parse/line", 812.0);
        fake_result(tmp.path(), "top/n/10", "top/n/10", 4560.0);
        let base = tmp.path().join("parse/line/base");
        std::fs::create_dir_all(&base).unwrap();
        let found = medians(tmp.path(), SystemTime::now() - Duration::from_secs(60));
        assert_eq!(
            found,
            [
                Median { id: "parse/line".into(), nanos: 812.0 },
                Median { id: "top/n/10".into(), nanos: 4560.0 }
            ]
        );
        assert!(medians(tmp.path(), SystemTime::now() + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn formats_durations() {
        assert_eq!(fmt_nanos(812.0), "812 ns");
        assert_eq!(fmt_nanos(4560.0), "4.56 µs");
        assert_eq!(fmt_nanos(1.234e6), "1.23 ms");
        assert_eq!(fmt_nanos(2.5e9), "2.50 s");
    }
}
