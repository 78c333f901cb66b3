//! The lab manifest, `labs/<NN-name>/lab.toml`: which packages a lab is made of and how it is graded.
//!
//! ```toml
//! name = "logstat"            # the student package
//! reference = "logstat-ref"   # the reference package
//! number = 1
//! title = "logstat: nginx log analysis"
//! chapter = "book/src/01-logstat.md"
//!
//! [limits]
//! test_timeout_secs = 60
//! memory_mb = 2048
//!
//! [[stages]]
//! id = "parse"
//! title = "Parse a combined-format line"
//! tests = "stage1_parse"      # tests/stage1_parse.rs
//! weight = 20
//! hint = "…"
//! book = "book/src/01-logstat.md#stage-1-parse-a-line"
//!
//! [files]                     # how the lab's src/ stands to the reference's (paths under src/)
//! given = ["cli.rs", "main.rs"]   # the student does not edit these: byte-identical in both trees
//! reference_only = []         # private modules of the reference's own design
//! lab_only = []               # files only the skeleton has
//! ```
//!
//! Unknown keys are allowed, so that a lab can carry data for other tools without a harness change.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::error::Error;

/// A parsed and validated `lab.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// The student package (`labs/NN-name`).
    pub name: String,
    /// The reference package (`solutions/NN-name`).
    pub reference: String,
    /// The lab's number; labs are shown and worked through in this order.
    pub number: u32,
    /// A one-line title.
    pub title: String,
    /// The book chapter of the lab.
    #[serde(default)]
    pub chapter: Option<String>,
    /// Resource limits of one test process.
    #[serde(default)]
    pub limits: Limits,
    /// The graded stages, in the order students work through them.
    pub stages: Vec<Stage>,
    /// How the lab's `src/` stands to the reference's, for `cargo lab verify`'s parity check.
    #[serde(default)]
    pub files: Files,
}

/// The `[files]` table: which files under `src/` are given, and which exist on one side only.
///
/// Every other file exists in both trees and has the same public items with the same signatures and
/// doc comments; only function bodies and private items may differ.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    /// Files the student does not edit (the CLI, the errors, `main`): byte-identical in both trees.
    #[serde(default)]
    pub given: Vec<String>,
    /// Files only the reference has: private modules of its own design.
    #[serde(default)]
    pub reference_only: Vec<String>,
    /// Files only the student crate has.
    #[serde(default)]
    pub lab_only: Vec<String>,
}

/// Resource limits of one test process.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Limits {
    /// Wall-clock limit of one test; a test still running then is killed and fails.
    #[serde(default = "default_timeout")]
    pub test_timeout_secs: u64,
    /// Address-space limit of one test process, in MiB (0: no limit); when grading in a sandbox with a
    /// cgroup, also the memory of all the test's processes together.
    #[serde(default = "default_memory")]
    pub memory_mb: u64,
    /// When grading in a sandbox with a cgroup: the most processes and threads a test may have at once.
    #[serde(default = "default_processes")]
    pub processes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            test_timeout_secs: default_timeout(),
            memory_mb: default_memory(),
            processes: default_processes(),
        }
    }
}

fn default_processes() -> u32 {
    512
}

fn default_timeout() -> u64 {
    60
}

fn default_memory() -> u64 {
    2048
}

/// One graded stage: an integration test target and what it is worth.
#[derive(Debug, Clone, Deserialize)]
pub struct Stage {
    /// A short identifier (`parse`), used on the command line and as a gradebook column.
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// The integration test target, `tests/<tests>.rs`.
    pub tests: String,
    /// Points for passing every test of the stage.
    pub weight: f64,
    /// What to try when the stage fails.
    pub hint: String,
    /// The book section that teaches the stage.
    pub book: String,
}

impl Manifest {
    /// Parses and validates the text of the manifest at `path` (used in error messages).
    ///
    /// # Errors
    ///
    /// [`Error::Manifest`] naming the file, for bad TOML, a missing or mistyped field, no stages, a
    /// duplicate stage id or test target, an id that is not `[a-z0-9_-]+`, or a negative weight.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, Error> {
        let bad = |message: String| Error::Manifest { path: path.to_path_buf(), message };
        let manifest: Manifest = toml::from_str(text).map_err(|err| bad(err.message().to_owned()))?;
        manifest.validate().map_err(bad)?;
        Ok(manifest)
    }

    /// Reads and parses the manifest file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Manifest`] when the file cannot be read or [`Manifest::parse`] fails.
    pub fn load(path: &Path) -> Result<Manifest, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Error::Manifest { path: path.to_path_buf(), message: err.to_string() })?;
        Manifest::parse(&text, path)
    }

    fn validate(&self) -> Result<(), String> {
        for (key, value) in [("name", &self.name), ("reference", &self.reference)] {
            if value.trim().is_empty() {
                return Err(format!("`{key}` is empty"));
            }
        }
        if self.stages.is_empty() {
            return Err("no [[stages]]".into());
        }
        let mut ids = HashSet::new();
        let mut targets = HashSet::new();
        for stage in &self.stages {
            if !is_identifier(&stage.id) {
                return Err(format!("stage id {:?} must be lowercase letters, digits, `_` or `-`", stage.id));
            }
            if !ids.insert(stage.id.as_str()) {
                return Err(format!("two stages have the id {:?}", stage.id));
            }
            if stage.tests.trim().is_empty() {
                return Err(format!("stage {:?} has an empty `tests`", stage.id));
            }
            if !targets.insert(stage.tests.as_str()) {
                return Err(format!("two stages use the test target {:?}", stage.tests));
            }
            if !(stage.weight.is_finite() && stage.weight >= 0.0) {
                return Err(format!("stage {:?} has a negative or invalid weight", stage.id));
            }
        }
        self.files.validate()
    }

    /// The stage with this id.
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.id == id)
    }

    /// The stage ids, comma-separated, for messages.
    pub fn stage_ids(&self) -> String {
        self.stages.iter().map(|stage| stage.id.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl Files {
    fn validate(&self) -> Result<(), String> {
        let mut seen = HashSet::new();
        let lists =
            [("given", &self.given), ("reference_only", &self.reference_only), ("lab_only", &self.lab_only)];
        for (key, paths) in lists {
            for path in paths {
                let relative = Path::new(path);
                let plain = relative.components().all(|part| matches!(part, std::path::Component::Normal(_)));
                if path.is_empty() || !plain || !path.ends_with(".rs") {
                    return Err(format!(
                        "[files] {key}: {path:?} must be a `.rs` path under src/, like \"cli.rs\" or \"http/mod.rs\""
                    ));
                }
                if !seen.insert(path.as_str()) {
                    return Err(format!("[files]: {path:?} is listed twice"));
                }
            }
        }
        Ok(())
    }

    /// Whether the file at `path` (under `src/`) is given.
    pub fn is_given(&self, path: &str) -> bool {
        self.given.iter().any(|given| given == path)
    }
}

fn is_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        name = "logstat"
        reference = "logstat-ref"
        number = 1
        title = "logstat: nginx log analysis"
        chapter = "book/src/01-logstat.md"

        [limits]
        test_timeout_secs = 30
        memory_mb = 512

        [[stages]]
        id = "parse"
        title = "Parse a line"
        tests = "stage1_parse"
        weight = 20
        hint = "Start with Timestamp::parse."
        book = "book/src/01-logstat.md#stage-1"

        [[stages]]
        id = "top"
        title = "Top-N"
        tests = "stage2_top"
        weight = 12.5
        hint = "Use a heap."
        book = "book/src/01-logstat.md#stage-2"
    "#;

    fn parse(text: &str) -> Result<Manifest, Error> {
        Manifest::parse(text, Path::new("labs/01-logstat/lab.toml"))
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_documented_format() {
        let manifest = parse(GOOD).unwrap();
        assert_eq!(manifest.name, "logstat");
        assert_eq!(manifest.reference, "logstat-ref");
        assert_eq!(manifest.number, 1);
        assert_eq!(manifest.limits.test_timeout_secs, 30);
        assert_eq!(manifest.limits.memory_mb, 512);
        assert_eq!(manifest.stages.len(), 2);
        assert_eq!(manifest.stages[0].tests, "stage1_parse");
        assert_eq!(manifest.stages[0].weight, 20.0);
        assert_eq!(manifest.stages[1].weight, 12.5);
        assert_eq!(manifest.stage("top").unwrap().hint, "Use a heap.");
        assert_eq!(manifest.stage_ids(), "parse, top");
    }

    #[test]
    fn limits_default_when_absent() {
        let text = GOOD.replace("test_timeout_secs = 30", "").replace("memory_mb = 512", "");
        let manifest = parse(&text).unwrap();
        assert_eq!(manifest.limits.test_timeout_secs, 60);
        assert_eq!(manifest.limits.memory_mb, 2048);
    }

    #[test]
    fn parses_the_real_logstat_manifest() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/01-logstat/lab.toml");
        if path.exists() {
            let manifest = Manifest::load(&path).unwrap();
            assert_eq!(manifest.name, "logstat");
        }
    }

    #[test]
    fn missing_field_names_the_field_and_the_file() {
        let err = error_of(&GOOD.replace("reference = \"logstat-ref\"", ""));
        assert!(err.contains("labs/01-logstat/lab.toml"), "{err}");
        assert!(err.contains("reference"), "{err}");
    }

    #[test]
    fn bad_toml_is_an_error() {
        assert!(error_of("name = ").contains("lab.toml"));
    }

    #[test]
    fn rejects_duplicate_stage_ids() {
        let err = error_of(&GOOD.replace("id = \"top\"", "id = \"parse\""));
        assert!(err.contains("two stages have the id \"parse\""), "{err}");
    }

    #[test]
    fn rejects_duplicate_targets() {
        let err = error_of(&GOOD.replace("stage2_top", "stage1_parse"));
        assert!(err.contains("stage1_parse"), "{err}");
    }

    #[test]
    fn rejects_ids_unfit_for_a_csv_column() {
        let err = error_of(&GOOD.replace("id = \"top\"", "id = \"top, n\""));
        assert!(err.contains("stage id"), "{err}");
    }

    #[test]
    fn rejects_negative_weight() {
        let err = error_of(&GOOD.replace("weight = 20", "weight = -1"));
        assert!(err.contains("weight"), "{err}");
    }

    #[test]
    fn rejects_no_stages() {
        let text = GOOD.split("[[stages]]").next().unwrap();
        assert!(error_of(text).contains("stages"));
    }

    #[test]
    fn files_default_to_none_declared() {
        let manifest = parse(GOOD).unwrap();
        assert!(manifest.files.given.is_empty() && manifest.files.reference_only.is_empty());
    }

    #[test]
    fn parses_the_files_table() {
        let text = format!(
            "{GOOD}\n[files]\ngiven = [\"cli.rs\", \"http/mod.rs\"]\nreference_only = [\"bound.rs\"]\n"
        );
        let manifest = parse(&text).unwrap();
        assert!(manifest.files.is_given("http/mod.rs"));
        assert!(!manifest.files.is_given("bound.rs"));
        assert_eq!(manifest.files.reference_only, ["bound.rs"]);
    }

    #[test]
    fn rejects_files_outside_src_or_listed_twice() {
        for bad in ["\"../Cargo.toml\"", "\"/etc/passwd.rs\"", "\"cli\"", "\"\""] {
            let err = error_of(&format!("{GOOD}\n[files]\ngiven = [{bad}]\n"));
            assert!(err.contains("[files] given"), "{bad}: {err}");
        }
        let err = error_of(&format!("{GOOD}\n[files]\ngiven = [\"a.rs\"]\nlab_only = [\"a.rs\"]\n"));
        assert!(err.contains("listed twice"), "{err}");
        let err = error_of(&format!("{GOOD}\n[files]\nextra = []\n"));
        assert!(err.contains("extra"), "{err}");
    }

    #[test]
    fn missing_file_is_a_manifest_error() {
        let err = Manifest::load(Path::new("/nonexistent/lab.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/lab.toml"));
    }
}
