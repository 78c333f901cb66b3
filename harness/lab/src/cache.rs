//! Cached results of a lab's student crate, behind the instant progress table.
//!
//! `target/lab/results/<lab>.json` holds the last results of each stage with a fingerprint of what
//! they depend on: the contents of the lab's `src/`, `tests/`, `Cargo.toml` and `lab.toml`. When the
//! fingerprint still matches, the results still hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::score::StageScore;
use crate::suite::TestRun;
use crate::workspace::Lab;

/// The cached results of one lab.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cached {
    /// The fingerprint of the sources the results were obtained from.
    pub fingerprint: String,
    /// The compiler's errors, when the crate did not compile.
    pub compile_error: Option<String>,
    /// Results by stage id.
    pub stages: BTreeMap<String, CachedStage>,
}

/// The cached results of one stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CachedStage {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that ran.
    pub total: usize,
    /// The failing tests, in order, with their messages.
    pub failing: Vec<CachedFailure>,
}

/// A failing test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedFailure {
    /// The test's name.
    pub name: String,
    /// Why it failed.
    pub message: String,
}

impl Cached {
    /// Whether these results are for `fingerprint` and cover every stage of `lab`.
    pub fn is_fresh_for(&self, lab: &Lab, fingerprint: &str) -> bool {
        self.fingerprint == fingerprint
            && (self.compile_error.is_some()
                || lab.manifest.stages.iter().all(|stage| self.stages.contains_key(&stage.id)))
    }

    /// Records the results of a run of some stages: kept stages of the same fingerprint stay, the
    /// rest is replaced.
    pub fn record(
        previous: Option<Cached>,
        fingerprint: &str,
        compile_error: Option<&str>,
        scores: &[StageScore],
        runs: &[TestRun],
    ) -> Cached {
        let mut cached = match previous {
            Some(previous) if previous.fingerprint == fingerprint && previous.compile_error.is_none() => {
                previous
            }
            _ => Cached { fingerprint: fingerprint.to_owned(), ..Cached::default() },
        };
        if let Some(errors) = compile_error {
            cached.compile_error = Some(errors.to_owned());
            cached.stages.clear();
            return cached;
        }
        for score in scores {
            let failing = runs
                .iter()
                .filter(|run| run.stage == score.id && !run.result.outcome.passed())
                .map(|run| CachedFailure { name: run.name.clone(), message: run.result.message.clone() })
                .collect();
            cached
                .stages
                .insert(score.id.clone(), CachedStage { passed: score.passed, total: score.total, failing });
        }
        cached
    }
}

/// The cache file of the lab named `name`.
pub fn path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("results").join(format!("{name}.json"))
}

/// The cached results at `path`; `None` when missing or unreadable (a format from another version).
pub fn load(path: &Path) -> Option<Cached> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Writes `cached` to `path`, atomically.
///
/// # Errors
///
/// When the directory cannot be created or the file written.
pub fn store(path: &Path, cached: &Cached) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(cached)?;
    std::fs::write(&tmp, text).with_context(|| format!("failed to write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// A fingerprint of the contents of the lab's `src/`, `tests/`, `Cargo.toml` and `lab.toml`.
///
/// # Errors
///
/// When a file cannot be read.
pub fn fingerprint(lab: &Lab) -> std::io::Result<String> {
    let mut hash = Fnv::new();
    for part in ["Cargo.toml", "lab.toml", "src", "tests"] {
        let path = lab.dir.join(part);
        let mut files = Vec::new();
        collect_files(&path, &mut files)?;
        files.sort();
        for file in files {
            let relative = file.strip_prefix(&lab.dir).unwrap_or(&file);
            hash.write(relative.as_os_str().as_encoded_bytes());
            hash.write(&[0]);
            let contents = std::fs::read(&file)?;
            hash.write(&(contents.len() as u64).to_le_bytes());
            hash.write(&contents);
        }
    }
    Ok(format!("{:016x}", hash.0))
}

/// Every regular file at or under `path` (nothing if it does not exist).
fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    if meta.is_file() {
        files.push(path.to_path_buf());
    } else if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect_files(&entry?.path(), files)?;
        }
    }
    Ok(())
}

/// 64-bit FNV-1a: stable across Rust releases (unlike `DefaultHasher`) and plenty to notice an edit.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::runner::{Finished, Outcome};
    use std::time::Duration;

    fn lab(dir: &Path) -> Lab {
        let text = "name = \"x\"\nreference = \"x-ref\"\nnumber = 1\ntitle = \"t\"\n\
                    [[stages]]\nid = \"a\"\ntitle = \"A\"\ntests = \"ta\"\nweight = 1\nhint = \"h\"\nbook = \"b\"\n\
                    [[stages]]\nid = \"b\"\ntitle = \"B\"\ntests = \"tb\"\nweight = 1\nhint = \"h\"\nbook = \"b\"\n";
        std::fs::write(dir.join("lab.toml"), text).unwrap();
        let manifest = Manifest::parse(text, Path::new("lab.toml")).unwrap();
        Lab { dir: dir.to_path_buf(), dir_name: "01-x".into(), manifest }
    }

    fn score(id: &str, passed: usize, total: usize) -> StageScore {
        StageScore { id: id.into(), title: id.into(), score: 0.0, max: 1.0, passed, total, timeouts: 0 }
    }

    #[test]
    fn fingerprint_follows_sources_only() {
        let tmp = tempfile::tempdir().unwrap();
        let lab = lab(tmp.path());
        std::fs::create_dir_all(tmp.path().join("src/nested")).unwrap();
        std::fs::write(tmp.path().join("src/lib.rs"), "fn a() {}").unwrap();
        let first = fingerprint(&lab).unwrap();
        assert_eq!(first, fingerprint(&lab).unwrap());
        std::fs::write(tmp.path().join("README.md"), "notes").unwrap();
        assert_eq!(first, fingerprint(&lab).unwrap(), "README is not a source");
        std::fs::write(tmp.path().join("src/nested/m.rs"), "").unwrap();
        let second = fingerprint(&lab).unwrap();
        assert_ne!(first, second, "a new empty file counts");
        std::fs::write(tmp.path().join("src/lib.rs"), "fn b() {}").unwrap();
        assert_ne!(second, fingerprint(&lab).unwrap());
    }

    #[test]
    fn fresh_only_with_the_same_fingerprint_and_every_stage() {
        let tmp = tempfile::tempdir().unwrap();
        let lab = lab(tmp.path());
        let partial = Cached::record(None, "f1", None, &[score("a", 1, 1)], &[]);
        assert!(!partial.is_fresh_for(&lab, "f1"));
        let full = Cached::record(Some(partial), "f1", None, &[score("b", 0, 2)], &[]);
        assert!(full.is_fresh_for(&lab, "f1"));
        assert!(!full.is_fresh_for(&lab, "f2"));
        assert_eq!(full.stages["a"].passed, 1);
        let replaced = Cached::record(Some(full), "f2", None, &[score("b", 2, 2)], &[]);
        assert!(!replaced.stages.contains_key("a"), "results of other sources are dropped");
    }

    #[test]
    fn a_compile_error_is_fresh_for_every_stage() {
        let tmp = tempfile::tempdir().unwrap();
        let lab = lab(tmp.path());
        let cached = Cached::record(None, "f", Some("error[E0308]"), &[], &[]);
        assert!(cached.is_fresh_for(&lab, "f"));
    }

    #[test]
    fn keeps_failures_and_round_trips_through_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let run = TestRun {
            stage: "a".into(),
            name: "breaks".into(),
            result: Finished { outcome: Outcome::Failed, duration: Duration::ZERO, message: "boom".into() },
        };
        let cached = Cached::record(None, "f", None, &[score("a", 0, 1)], &[run]);
        assert_eq!(
            cached.stages["a"].failing,
            [CachedFailure { name: "breaks".into(), message: "boom".into() }]
        );
        let file = path(tmp.path(), "x");
        store(&file, &cached).unwrap();
        assert_eq!(load(&file), Some(cached));
        std::fs::write(&file, "{\"old\": 1}").unwrap();
        assert_eq!(load(&file), None);
    }
}
