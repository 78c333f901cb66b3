//! The two packages' manifests: the same `[dependencies]` (grading builds a student's `src/` with the
//! lab's), and one set of graded test targets, named alike by the lab's `tests/`, its `lab.toml` stages
//! and the reference's `[[test]]` list; the same for the benchmarks.

use std::collections::BTreeSet;
use std::path::Path;

use crate::manifest::Manifest;

use super::{Findings, Tree};

/// Checks the two `Cargo.toml`s against each other and against the lab's manifest and test files.
pub fn check(manifest: &Manifest, lab: &Tree, reference: &Tree, findings: &mut Findings) {
    let (Some(lab_toml), Some(reference_toml)) = (read(lab, findings), read(reference, findings)) else {
        return;
    };
    for table in ["dependencies", "build-dependencies", "features"] {
        compare_table(table, &lab_toml, &reference_toml, lab, findings);
    }

    let test_files = stems(&lab.dir.join("tests"));
    let stage_targets: BTreeSet<String> = manifest.stages.iter().map(|stage| stage.tests.clone()).collect();
    for file in test_files.difference(&stage_targets) {
        findings.add(format!("{}/tests/{file}.rs", lab.shown), "is a test file no stage of lab.toml names");
    }
    for target in stage_targets.difference(&test_files) {
        findings.add(
            format!("{}/lab.toml", lab.shown),
            format!("a stage names the test target {target:?}, which has no tests/{target}.rs"),
        );
    }
    compare_targets("test", &test_files, &reference_toml, lab, reference, findings);
    compare_targets("bench", &stems(&lab.dir.join("benches")), &reference_toml, lab, reference, findings);
}

fn read(tree: &Tree, findings: &mut Findings) -> Option<toml::Table> {
    let shown = format!("{}/Cargo.toml", tree.shown);
    match std::fs::read_to_string(tree.dir.join("Cargo.toml")).map(|text| text.parse::<toml::Table>()) {
        Ok(Ok(table)) => Some(table),
        Ok(Err(err)) => {
            findings.add(shown, format!("does not parse: {}", err.message()));
            None
        }
        Err(err) => {
            findings.add(shown, format!("cannot be read: {err}"));
            None
        }
    }
}

fn compare_table(
    name: &str,
    lab: &toml::Table,
    reference: &toml::Table,
    tree: &Tree,
    findings: &mut Findings,
) {
    let empty = toml::Table::new();
    let lab_table = lab.get(name).and_then(toml::Value::as_table).unwrap_or(&empty);
    let reference_table = reference.get(name).and_then(toml::Value::as_table).unwrap_or(&empty);
    let keys: BTreeSet<&String> = lab_table.keys().chain(reference_table.keys()).collect();
    for key in keys {
        let place = format!("{}/Cargo.toml", tree.shown);
        match (lab_table.get(key), reference_table.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                findings.add(place, format!("[{name}] {key} is {a} here and {b} in the reference"))
            }
            (Some(_), None) => findings.add(place, format!("[{name}] {key} is not in the reference's")),
            (None, _) => findings.add(place, format!("[{name}] lacks {key}, which the reference's has")),
        }
    }
}

/// The reference's `[[test]]` (or `[[bench]]`) list must name exactly the lab's files, by path.
fn compare_targets(
    kind: &str,
    lab_files: &BTreeSet<String>,
    reference_toml: &toml::Table,
    lab: &Tree,
    reference: &Tree,
    findings: &mut Findings,
) {
    let place = format!("{}/Cargo.toml", reference.shown);
    let folder = if kind == "test" { "tests" } else { "benches" };
    let mut listed = BTreeSet::new();
    let targets =
        reference_toml.get(kind).and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for target in targets {
        let name = target.get("name").and_then(toml::Value::as_str).unwrap_or_default();
        let path = target.get("path").and_then(toml::Value::as_str).unwrap_or_default();
        let wanted = lab.dir.join(folder).join(format!("{name}.rs"));
        if !same_file(&reference.dir.join(path), &wanted) {
            findings.add(
                place.clone(),
                format!(
                    "[[{kind}]] {name:?} must be compiled from {}/{folder}/{name}.rs, not {path:?}",
                    lab.shown
                ),
            );
        }
        listed.insert(name.to_owned());
    }
    for missing in lab_files.difference(&listed) {
        findings.add(place.clone(), format!("has no [[{kind}]] for the lab's {folder}/{missing}.rs"));
    }
    for extra in listed.difference(lab_files) {
        findings.add(place.clone(), format!("[[{kind}]] {extra:?} is not a file of the lab's {folder}/"));
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// The stems of the `.rs` files directly in `dir` (its sub-folders are modules, not targets).
fn stems(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect()
}
