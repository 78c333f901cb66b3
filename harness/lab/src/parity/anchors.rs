//! The book's quotations of code: every `{{#include FILE:ANCHOR}}` in `book/src` resolves to a file
//! with that anchor, every anchor in a reference is quoted by some page, and no skeleton carries an
//! anchor (the book quotes the reference; an anchor in a skeleton is a leftover of a copy).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Findings, Tree};

/// One `{{#include …}}` of a book page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The page, relative to the workspace root, and the line of the include.
    pub page: String,
    /// The line of the page.
    pub line: usize,
    /// The included file, resolved against the page's folder.
    pub file: PathBuf,
    /// The file as the page writes it.
    pub written: String,
    /// The anchor, when the include names one (not a line range).
    pub anchor: Option<String>,
}

/// Every include of every page under `book/src` of the workspace at `root`.
pub fn book_includes(root: &Path) -> Vec<Include> {
    let mut includes = Vec::new();
    let mut pending = vec![root.join("book/src")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                let page = path.strip_prefix(root).unwrap_or(&path).display().to_string();
                let folder = path.parent().unwrap_or(root);
                includes.extend(parse_includes(&text, &page, folder));
            }
        }
    }
    includes.sort_by(|a, b| (&a.page, a.line).cmp(&(&b.page, b.line)));
    includes
}

/// The includes in one page's `text`.
fn parse_includes(text: &str, page: &str, folder: &Path) -> Vec<Include> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let escaped = rest[..start].ends_with('\\');
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let body = after[..end].trim();
            rest = &after[end + 2..];
            let Some(argument) =
                body.strip_prefix("include ").or_else(|| body.strip_prefix("rustdoc_include "))
            else {
                continue;
            };
            if escaped {
                continue;
            }
            let argument = argument.trim();
            let (written, selector) = argument.split_once(':').unwrap_or((argument, ""));
            let is_range = selector.is_empty()
                || selector.split(':').all(|part| part.chars().all(|c| c.is_ascii_digit()));
            found.push(Include {
                page: page.to_owned(),
                line: index + 1,
                file: folder.join(written),
                written: written.to_owned(),
                anchor: (!is_range).then(|| selector.to_owned()),
            });
        }
    }
    found
}

/// The anchors a source file defines, with the line of each `ANCHOR:`.
pub fn anchors_in(text: &str) -> BTreeMap<String, usize> {
    let mut anchors = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(at) = line.find("ANCHOR:") {
            let name: String = line[at + "ANCHOR:".len()..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            anchors.entry(name).or_insert(index + 1);
        }
    }
    anchors
}

/// Whether `text` closes the anchor `name` (`ANCHOR_END: name`).
fn closes(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        line.find("ANCHOR_END:").is_some_and(|at| {
            let rest = line[at + "ANCHOR_END:".len()..].trim_start();
            rest.strip_prefix(name).is_some_and(|after| {
                !after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
            })
        })
    })
}

/// Every include resolves: the file exists, and has the anchor it names, opened and closed.
pub fn check_includes(includes: &[Include], findings: &mut Findings) {
    for include in includes {
        let place = format!("{}:{}", include.page, include.line);
        let Ok(text) = std::fs::read_to_string(&include.file) else {
            findings.add(place, format!("includes {}, which does not exist", include.written));
            continue;
        };
        if let Some(anchor) = &include.anchor
            && (!anchors_in(&text).contains_key(anchor) || !closes(&text, anchor))
        {
            findings.add(
                place,
                format!(
                    "includes {}:{anchor}, but that file has no `ANCHOR: {anchor}` … `ANCHOR_END: {anchor}`",
                    include.written
                ),
            );
        }
    }
}

/// No anchor in the skeleton's files; every anchor of the reference's quoted by some page.
pub fn check_lab(
    lab: &Tree,
    reference: &Tree,
    files: &BTreeSet<String>,
    reference_files: &BTreeSet<String>,
    includes: &[Include],
    findings: &mut Findings,
) {
    for file in files {
        let Ok(text) = std::fs::read_to_string(lab.src().join(file)) else { continue };
        for (anchor, line) in anchors_in(&text) {
            findings.add(
                format!("{}:{line}", lab.place(file)),
                format!("the skeleton carries the book anchor {anchor:?}: the book quotes the reference, so remove it"),
            );
        }
    }
    let quoted: BTreeSet<(PathBuf, &str)> = includes
        .iter()
        .filter_map(|include| Some((include.file.canonicalize().ok()?, include.anchor.as_deref()?)))
        .collect();
    for file in reference_files {
        let path = reference.src().join(file);
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let canonical = path.canonicalize().unwrap_or(path);
        for (anchor, line) in anchors_in(&text) {
            if !quoted.contains(&(canonical.clone(), anchor.as_str())) {
                findings.add(
                    format!("{}:{line}", reference.place(file)),
                    format!("the anchor {anchor:?} is quoted by no page of the book: quote it or remove it"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_anchors_ranges_and_escapes() {
        let text = "a {{#include ../../s/x.rs:run}} b\n\\{{#include nope.rs}}\n{{#include y.rs:2:10}} {{#rustdoc_include z.rs}}\n{{#title T}}";
        let found = parse_includes(text, "book/src/p.md", Path::new("/b/src"));
        let summary: Vec<(usize, &str, Option<&str>)> =
            found.iter().map(|i| (i.line, i.written.as_str(), i.anchor.as_deref())).collect();
        assert_eq!(summary, [(1, "../../s/x.rs", Some("run")), (3, "y.rs", None), (3, "z.rs", None)]);
        assert_eq!(found[0].file, Path::new("/b/src/../../s/x.rs"));
    }

    #[test]
    fn finds_anchors_and_their_ends() {
        let text = "// ANCHOR: run\nfn run() {}\n// ANCHOR_END: run\n    // ANCHOR: open-file\n";
        let anchors = anchors_in(text);
        assert_eq!(
            anchors.into_iter().collect::<Vec<_>>(),
            [("open-file".to_owned(), 4), ("run".to_owned(), 1)]
        );
        assert!(closes(text, "run"));
        assert!(!closes(text, "open-file"));
        assert!(!closes("// ANCHOR_END: running", "run"));
    }
}
