//! The shape every lab's binary and crate share, so that a reader of one lab knows the next: the book's
//! "The shape of a lab" (instructors' chapter) in checks. Only the skeleton is read; the parity check
//! holds the reference to the same items. A lab without a binary (no `src/main.rs`) has no shape to
//! check. For the others:
//!
//! - `main.rs`, `cli.rs` and `error.rs` are given files;
//! - `Config` is made from the command line by `impl TryFrom<Cli> for Config`;
//! - the library has a public `run`, whose `Outcome` has `exit_code()`;
//! - `Error` has `exit_code()` and `is_broken_pipe()`;
//! - the skeleton's `lib.rs` carries the one `allow` line every skeleton has.

use std::collections::BTreeSet;

use crate::manifest::Files;

use super::api::PublicApi;
use super::{Findings, Tree};

/// The line every skeleton's `lib.rs` carries, under its comment, while its bodies are `todo!()`.
pub const SKELETON_ALLOW: &str = "#![allow(unused_variables, unused_imports, dead_code)]";

/// Checks the skeleton in `lab` against the shape, given its `.rs` files and the declared given ones.
pub fn check(lab: &Tree, files: &BTreeSet<String>, declared: &Files, findings: &mut Findings) {
    if !files.contains("main.rs") {
        return;
    }
    for given in ["main.rs", "cli.rs", "error.rs"] {
        if files.contains(given) && !declared.is_given(given) {
            findings.add(
                lab.place(given),
                "every lab's main.rs, cli.rs and error.rs are given: list it in lab.toml's [files] given",
            );
        }
    }
    let mut keys = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(lab.src().join(file)) else { continue };
        if file == "lib.rs" && !text.lines().any(|line| line.trim() == SKELETON_ALLOW) {
            findings.add(
                lab.place(file),
                format!("the skeleton's lib.rs lacks every skeleton's `{SKELETON_ALLOW}` line"),
            );
        }
        // A file that does not parse is reported by the parity check itself.
        if let Ok(api) = PublicApi::parse(&text) {
            keys.extend(
                api.items.into_values().filter(|item| item.public).map(|item| without_module(&item.key)),
            );
        }
    }
    let wanted = [
        (
            "impl TryFrom < Cli > for Config",
            "`impl TryFrom<Cli> for Config`: the command line becomes a validated Config",
        ),
        ("fn run", "a public `run(&config, …)`: what main calls"),
        ("impl Outcome::fn exit_code", "`Outcome::exit_code()`: how a run that could finish ends"),
        ("impl Error::fn exit_code", "`Error::exit_code()`: how a run that failed ends"),
        ("impl Error::fn is_broken_pipe", "`Error::is_broken_pipe()`: a closed stdout is a success"),
    ];
    for (key, what) in wanted {
        if !keys.contains(key) {
            findings.add(
                format!("{}/src", lab.shown),
                format!("the crate lacks {what} (see the instructors' chapter, \"The shape of a lab\")"),
            );
        }
    }
}

/// `mod a::fn run` → `fn run`: where in the crate an item lives does not matter here.
fn without_module(key: &str) -> String {
    let mut rest = key;
    while let Some(inner) = rest.strip_prefix("mod ").and_then(|r| r.split_once("::").map(|(_, inner)| inner))
    {
        rest = inner;
    }
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_of_an_item_does_not_matter() {
        assert_eq!(without_module("mod a::mod b::fn run"), "fn run");
        assert_eq!(without_module("impl Error::fn exit_code"), "impl Error::fn exit_code");
    }
}
