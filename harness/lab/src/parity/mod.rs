//! The parity check of `cargo lab verify`: a lab's student crate and its reference are one crate with
//! two sets of function bodies, and the book quotes the reference as it is.
//!
//! For each lab it checks, and names the file and item of every difference:
//! - [`tree`]: the same `.rs` files under `src/`, but for the extras `lab.toml`'s `[files]` declares,
//!   and its `given` files byte-identical;
//! - [`api`]: in every other shared file, the same public items with the same signatures and doc
//!   comments (parsed with `syn`: formatting and function bodies do not count);
//! - [`cargo`]: the same dependencies, and one set of graded test targets named alike by `tests/`,
//!   the stages and the reference's `[[test]]` list (and the same for benchmarks);
//! - [`anchors`]: no book anchor in a skeleton, and every anchor of the reference quoted by a page;
//! - [`shape`]: the skeleton has every lab's shape (given main, cli and error; `Config::try_from`,
//!   `run`, `Outcome` and `Error` with their exit codes; the skeleton's one `allow` line).
//!
//! [`check_book`] checks, once for the whole book, that every `{{#include}}` resolves.

mod anchors;
mod api;
mod cargo;
mod shape;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::workspace::{Lab, Workspace};

use api::PublicApi;

/// One difference, at a place a reader can open: `labs/06-rpc/src/frame.rs:42`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file (and line, or item) the finding is about, relative to the workspace root.
    pub place: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// The findings of a check, in the order found.
#[derive(Debug, Default)]
pub struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, place: impl Into<String>, message: impl Into<String>) {
        self.0.push(Finding { place: place.into(), message: message.into() });
    }

    /// The findings, in the order found.
    pub fn into_vec(self) -> Vec<Finding> {
        self.0
    }
}

/// One of the two packages of a lab.
#[derive(Debug, Clone)]
struct Tree {
    /// The package's directory.
    dir: PathBuf,
    /// The directory relative to the workspace root, for messages.
    shown: String,
}

impl Tree {
    fn new(root: &Path, dir: &Path) -> Tree {
        let shown = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
        Tree { dir: dir.to_path_buf(), shown }
    }

    fn src(&self) -> PathBuf {
        self.dir.join("src")
    }

    /// A file under `src/`, as messages name it.
    fn place(&self, file: &str) -> String {
        format!("{}/src/{file}", self.shown)
    }
}

/// Checks that `lab` matches its reference: files, public items, manifests and anchors.
///
/// # Errors
///
/// The reference package does not exist, or a `src/` folder cannot be listed.
pub fn check_lab(ws: &Workspace, lab: &Lab) -> anyhow::Result<Vec<Finding>> {
    let reference_package = ws.reference(lab)?;
    let lab_tree = Tree::new(&ws.root, &lab.dir);
    let reference = Tree::new(&ws.root, &reference_package.dir);
    let mut findings = Findings::default();

    let lab_files = tree::rust_files(&lab_tree.src())?;
    let reference_files = tree::rust_files(&reference.src())?;
    let declared = &lab.manifest.files;
    let shared = tree::check(&lab_tree, &reference, &lab_files, &reference_files, declared, &mut findings);

    let compared: Vec<&String> = shared.iter().filter(|file| !declared.is_given(file)).collect();
    let mut apis = BTreeMap::new();
    for file in &compared {
        let (Some(lab_api), Some(reference_api)) =
            (parse(&lab_tree, file, &mut findings), parse(&reference, file, &mut findings))
        else {
            continue;
        };
        apis.insert(file.as_str(), (lab_api, reference_api));
    }
    // An impl counts when its type is public somewhere in the crate, whichever file defines it.
    let public_types: BTreeSet<&str> = apis
        .values()
        .flat_map(|(lab_api, reference_api)| lab_api.types.iter().chain(&reference_api.types))
        .map(String::as_str)
        .collect();
    for (file, (lab_api, reference_api)) in &apis {
        compare(&lab_tree, &reference, file, lab_api, reference_api, &public_types, &mut findings);
    }

    cargo::check(&lab.manifest, &lab_tree, &reference, &mut findings);
    shape::check(&lab_tree, &lab_files, declared, &mut findings);
    let includes = anchors::book_includes(&ws.root);
    anchors::check_lab(&lab_tree, &reference, &lab_files, &reference_files, &includes, &mut findings);
    Ok(findings.into_vec())
}

/// Checks that every `{{#include}}` of the book resolves to a file and an anchor that exist.
pub fn check_book(ws: &Workspace) -> Vec<Finding> {
    let mut findings = Findings::default();
    anchors::check_includes(&anchors::book_includes(&ws.root), &mut findings);
    findings.into_vec()
}

fn parse(tree: &Tree, file: &str, findings: &mut Findings) -> Option<PublicApi> {
    let text = match std::fs::read_to_string(tree.src().join(file)) {
        Ok(text) => text,
        Err(err) => {
            findings.add(tree.place(file), format!("cannot be read: {err}"));
            return None;
        }
    };
    match PublicApi::parse(&text) {
        Ok(api) => Some(api),
        Err(err) => {
            let line = err.span().start().line;
            findings.add(format!("{}:{line}", tree.place(file)), format!("does not parse: {err}"));
            None
        }
    }
}

fn compare(
    lab: &Tree,
    reference: &Tree,
    file: &str,
    lab_api: &PublicApi,
    reference_api: &PublicApi,
    public_types: &BTreeSet<&str>,
    findings: &mut Findings,
) {
    // An item only one side has is that side's own design, unless it is public.
    let is_public = |item: &api::ApiItem| {
        item.public && item.self_type.as_deref().is_none_or(|ty| public_types.contains(ty))
    };
    if lab_api.module_docs != reference_api.module_docs {
        findings.add(
            lab.place(file),
            format!(
                "the module doc (//!) differs from the reference's{}",
                first_line_apart(&lab_api.module_docs, &reference_api.module_docs)
            ),
        );
    }
    let keys: BTreeSet<&String> = lab_api.items.keys().chain(reference_api.items.keys()).collect();
    for key in keys {
        match (lab_api.items.get(key), reference_api.items.get(key)) {
            (None, None) => {}
            (Some(item), None) | (None, Some(item)) if !is_public(item) => {}
            (Some(item), None) => findings.add(
                format!("{}:{}", lab.place(file), item.line),
                format!("`{key}` is public in the lab but not in the reference"),
            ),
            (None, Some(item)) => findings.add(
                format!("{}:{}", reference.place(file), item.line),
                format!("`{key}` is public in the reference but not in the lab"),
            ),
            (Some(ours), Some(theirs)) => {
                let place = format!("{}:{}", lab.place(file), ours.line);
                if ours.signature != theirs.signature {
                    findings.add(
                        place.clone(),
                        format!(
                            "`{key}` differs from the reference's ({}:{}):\n  lab:       {}\n  reference: {}",
                            reference.place(file),
                            theirs.line,
                            ours.signature,
                            theirs.signature
                        ),
                    );
                }
                if ours.docs != theirs.docs {
                    findings.add(
                        place,
                        format!(
                            "the doc comment of `{key}` differs from the reference's ({}:{}){}",
                            reference.place(file),
                            theirs.line,
                            first_line_apart(&ours.docs, &theirs.docs)
                        ),
                    );
                }
            }
        }
    }
}

/// `:\n  lab:       <line>\n  reference: <line>` for the first line on which two doc texts differ.
fn first_line_apart(ours: &str, theirs: &str) -> String {
    let mut lab_lines = ours.lines();
    let mut reference_lines = theirs.lines();
    loop {
        match (lab_lines.next(), reference_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return String::new(),
            (a, b) => {
                return format!(
                    ":\n  lab:       {}\n  reference: {}",
                    a.unwrap_or("(ends here)").trim(),
                    b.unwrap_or("(ends here)").trim()
                );
            }
        }
    }
}
