//! The files under a lab's `src/` and its reference's: the same set, but for the extras `lab.toml`
//! declares, and the given files byte for byte the same.

use std::collections::BTreeSet;
use std::path::Path;

use crate::manifest::Files;

use super::{Findings, Tree};

/// The `.rs` files under `src`, as paths relative to it with `/` separators, sorted.
///
/// # Errors
///
/// A directory that cannot be read.
pub fn rust_files(src: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs")
                && let Ok(relative) = path.strip_prefix(src)
            {
                let parts: Vec<_> = relative.iter().map(|part| part.to_string_lossy()).collect();
                files.insert(parts.join("/"));
            }
        }
    }
    Ok(files)
}

/// Compares the two file sets and the given files; returns the files both trees have.
pub fn check(
    lab: &Tree,
    reference: &Tree,
    lab_files: &BTreeSet<String>,
    reference_files: &BTreeSet<String>,
    declared: &Files,
    findings: &mut Findings,
) -> BTreeSet<String> {
    let lab_place = |file: &str| lab.place(file);
    let reference_place = |file: &str| reference.place(file);
    for file in reference_files.difference(lab_files) {
        if !declared.reference_only.contains(file) {
            findings.add(
                reference_place(file),
                "is only in the reference: add it to the lab, or list it in lab.toml's [files] reference_only",
            );
        }
    }
    for file in lab_files.difference(reference_files) {
        if !declared.lab_only.contains(file) {
            findings.add(
                lab_place(file),
                "is only in the lab: add it to the reference, or list it in lab.toml's [files] lab_only",
            );
        }
    }
    for file in &declared.reference_only {
        if lab_files.contains(file) || !reference_files.contains(file) {
            findings.add(
                reference_place(file),
                "is listed in [files] reference_only, but it is not a reference-only file",
            );
        }
    }
    for file in &declared.lab_only {
        if reference_files.contains(file) || !lab_files.contains(file) {
            findings.add(lab_place(file), "is listed in [files] lab_only, but it is not a lab-only file");
        }
    }
    let shared: BTreeSet<String> = lab_files.intersection(reference_files).cloned().collect();
    for file in &declared.given {
        if !shared.contains(file) {
            findings.add(
                lab_place(file),
                "is listed in [files] given, but the lab and the reference do not both have it",
            );
            continue;
        }
        let (Ok(lab), Ok(reference)) =
            (std::fs::read(lab.src().join(file)), std::fs::read(reference.src().join(file)))
        else {
            findings.add(lab_place(file), "cannot be read");
            continue;
        };
        if let Some(line) = first_difference(&lab, &reference) {
            findings.add(
                format!("{}:{line}", lab_place(file)),
                format!(
                    "is a given file, so it must be byte-identical to {}, but they differ from this line on",
                    reference_place(file)
                ),
            );
        }
    }
    shared
}

/// The first line (1-based) on which `a` and `b` differ, or `None` when they are the same.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    Some(1 + a[..same].iter().filter(|&&byte| byte == b'\n').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_names_the_line() {
        assert_eq!(first_difference(b"a\nb\nc\n", b"a\nb\nc\n"), None);
        assert_eq!(first_difference(b"a\nb\nc\n", b"a\nB\nc\n"), Some(2));
        assert_eq!(first_difference(b"a\n", b"a\nmore\n"), Some(2));
        assert_eq!(first_difference(b"x", b"y"), Some(1));
    }

    #[test]
    fn lists_nested_rust_files_only() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("http")).unwrap();
        for file in ["lib.rs", "http/mod.rs", "notes.txt"] {
            std::fs::write(tmp.path().join(file), "").unwrap();
        }
        let files: Vec<String> = rust_files(tmp.path()).unwrap().into_iter().collect();
        assert_eq!(files, ["http/mod.rs", "lib.rs"]);
    }
}
