//! `cargo lab export DIR`: the class template an instructor hands out. It is the course workspace
//! without the reference solutions: the labs, the harness, the datasets and the book, with the root
//! manifest's members and the lock file fixed so that it builds as it is, and the book's quotations
//! of the references replaced by a line saying they are left out. `cargo lab` and `cargo lab test`
//! work in it, and `cargo lab grade` in the full course grades the submissions made from it.
//!
//! One kind of reference stays: a later lab builds on an earlier lab's reference crate (lab 08's
//! servers run on lab 07's event loop), named in the root manifest's `[workspace.dependencies]` by
//! a path under `solutions/`. Without it the later lab could not build, so the template keeps it and
//! says so.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};

use crate::output;
use crate::workspace::Workspace;

/// What stays out of the template: the references, and the course's own CI.
const LEFT_OUT: &[&str] = &["solutions/", ".ci/"];

/// What stands in the book where a page quoted a reference.
const QUOTE_LEFT_OUT: &str =
    "// The reference solution's code is left out of this class's copy of the course.";

/// Writes the class template to `dest`, which must not exist or be empty.
///
/// # Errors
///
/// `dest` exists and is not empty; a file cannot be read or written; the rewritten root manifest
/// does not parse; cargo cannot bring the lock file in line with the smaller workspace.
pub fn run(ws: &Workspace, dest: &Path) -> anyhow::Result<ExitCode> {
    if dest.exists() && std::fs::read_dir(dest).map_or(true, |mut entries| entries.next().is_some()) {
        bail!("{} already exists and is not empty: export writes a new folder", dest.display());
    }
    let files = course_files(&ws.root)?;
    let root_manifest = std::fs::read_to_string(ws.root.join("Cargo.toml"))
        .with_context(|| format!("cannot read {}", ws.root.join("Cargo.toml").display()))?;
    let kept = references_built_on(&root_manifest)?;
    let mut copied = 0;
    for relative in &files {
        let text = relative.to_string_lossy();
        let is_kept = kept.iter().any(|dir| text.starts_with(dir.as_str()));
        if !is_kept && LEFT_OUT.iter().any(|prefix| text.starts_with(prefix)) {
            continue;
        }
        let from = ws.root.join(relative);
        let to = dest.join(relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let is_book_page = text.starts_with("book/") && text.ends_with(".md");
        if text == "Cargo.toml" {
            let manifest = std::fs::read_to_string(&from)?;
            std::fs::write(&to, without_references(&manifest)?)?;
        } else if text == "README.md" {
            let readme = std::fs::read_to_string(&from)?;
            std::fs::write(&to, format!("{TEMPLATE_NOTE}\n{readme}"))?;
        } else if is_book_page {
            std::fs::write(&to, without_quotes_of_references(&std::fs::read_to_string(&from)?))?;
        } else {
            std::fs::copy(&from, &to).with_context(|| format!("cannot copy {}", from.display()))?;
        }
        copied += 1;
    }
    fix_lock_file(dest)?;
    let kept_note = match kept.is_empty() {
        true => String::new(),
        false => format!(
            "It keeps {}: later labs build on these references, so students can read them.\n",
            kept.iter().map(|dir| dir.trim_end_matches('/')).collect::<Vec<_>>().join(", ")
        ),
    };
    output::print(&format!(
        "Exported the class template to {} ({copied} files, without solutions/ and .ci/).\n{kept_note}\
         In it, `cargo lab` shows the labs and `cargo lab test <lab>` tests one. Grade what students \
         make of it from this course: `cargo lab grade <lab> --class <folder of checkouts> --out grades.csv`.\n",
        dest.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The note put at the top of the template's README.
const TEMPLATE_NOTE: &str = "> This is a class copy of the course, made by `cargo lab export`: the reference solutions \
(`solutions/`) are left out, and so are the book's quotations of them. Everything else works as the \
README says: `cargo lab` shows where you stand and `cargo lab test <lab>` tests your crate.\n";

/// The course's files: what git tracks, or, outside a git checkout, every file but the build output
/// and hidden folders other than `.cargo`.
fn course_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let listed = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    if let Ok(listed) = listed
        && listed.status.success()
    {
        let text = String::from_utf8(listed.stdout).context("git listed a path that is not UTF-8")?;
        // A file deleted but not yet committed is still listed; it cannot be copied.
        return Ok(text
            .split('\0')
            .filter(|path| !path.is_empty() && root.join(path).is_file())
            .map(PathBuf::from)
            .collect());
    }
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in std::fs::read_dir(root.join(&relative))?.filter_map(Result::ok) {
            let name = entry.file_name();
            let path = relative.join(&name);
            let hidden = name.to_string_lossy().starts_with('.') && name != ".cargo";
            if hidden || path == Path::new("target") {
                continue;
            }
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The folders (as `solutions/07-nbnet/`) of the references that the root manifest's
/// `[workspace.dependencies]` name by path: the ones later labs build on.
fn references_built_on(manifest: &str) -> anyhow::Result<Vec<String>> {
    let table: toml::Table = manifest.parse().context("the root Cargo.toml does not parse")?;
    let dependencies = table
        .get("workspace")
        .and_then(|workspace| workspace.get("dependencies"))
        .and_then(toml::Value::as_table);
    let mut kept: Vec<String> = dependencies
        .into_iter()
        .flat_map(|dependencies| dependencies.values())
        .filter_map(|dependency| dependency.get("path").and_then(toml::Value::as_str))
        .filter(|path| path.starts_with("solutions/"))
        .map(|path| format!("{}/", path.trim_end_matches('/')))
        .collect();
    kept.sort();
    kept.dedup();
    Ok(kept)
}

/// The root manifest without the workspace members under `solutions/`, written one a line or inline.
/// A dependency's `path` under `solutions/` stays: that reference is kept.
fn without_references(manifest: &str) -> anyhow::Result<String> {
    let mut text = String::with_capacity(manifest.len());
    for line in manifest.lines() {
        let names_a_dependency = line.contains("path") && line.contains('{');
        let kept = if names_a_dependency { line.to_owned() } else { without_reference_entries(line) };
        if kept.trim().is_empty() && !line.trim().is_empty() {
            continue;
        }
        text.push_str(&kept);
        text.push('\n');
    }
    let table: toml::Table = text.parse().context("the exported Cargo.toml does not parse")?;
    let workspace = table.get("workspace").and_then(toml::Value::as_table);
    for key in ["members", "default-members"] {
        let entries = workspace.and_then(|ws| ws.get(key)).and_then(toml::Value::as_array);
        let names_a_reference =
            |entry: &toml::Value| entry.as_str().is_some_and(|e| e.starts_with("solutions"));
        if entries.is_some_and(|entries| entries.iter().any(names_a_reference)) {
            bail!("the root Cargo.toml lists solutions in [workspace] {key} in a way export cannot remove");
        }
    }
    Ok(text)
}

/// `line` without its `"solutions/…"` strings and the comma that separates each from its neighbour.
fn without_reference_entries(line: &str) -> String {
    let mut line = line.to_owned();
    while let Some(start) = line.find("\"solutions/") {
        let Some(length) = line[start + 1..].find('"') else { break };
        let mut end = start + length + 2;
        let after = &line[end..];
        let trimmed = after.trim_start();
        if let Some(rest) = trimmed.strip_prefix(',') {
            end += after.len() - rest.trim_start().len();
            line.replace_range(start..end, "");
        } else {
            // The last entry: take the comma before it instead.
            let before = line[..start].trim_end();
            let from = before.strip_suffix(',').map_or(start, str::len);
            line.replace_range(from..end, "");
        }
    }
    line
}

/// A book page with every `{{#include}}` of a file under `solutions/` replaced by a line saying so.
fn without_quotes_of_references(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for line in page.split_inclusive('\n') {
        let quotes_reference = line.contains("{{#include") && line.contains("solutions/");
        if quotes_reference {
            out.push_str(QUOTE_LEFT_OUT);
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Lets cargo drop the references' packages from the lock file now, so that a student's first build
/// does not change it; every other package keeps its locked version. Offline first (the registry's
/// index is cached wherever the course was built), online when that is not enough.
fn fix_lock_file(dest: &Path) -> anyhow::Result<()> {
    if !dest.join("Cargo.lock").is_file() {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let update = |offline: bool| -> anyhow::Result<bool> {
        let mut command = Command::new(&cargo);
        command.args(["update", "--workspace", "--quiet"]).current_dir(dest).stdin(Stdio::null());
        if offline {
            command.arg("--offline").stderr(Stdio::null());
        }
        let status = command.status().context("cannot run cargo update to fix the template's lock file")?;
        Ok(status.success())
    };
    if !update(true)? && !update(false)? {
        bail!("cargo update failed in {}: the template's lock file may be stale", dest.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_reference_members() {
        let manifest = "[workspace]\nmembers = [\n    \"labs/*\",\n    \"solutions/*\",\n    \"solutions/06-rpc/peers\",\n    \"harness/lab\",\n]\ndefault-members = [\n    \"solutions/*\",\n    \"harness/lab\",\n]\n";
        let text = without_references(manifest).unwrap();
        assert!(!text.contains("solutions"), "{text}");
        assert!(text.contains("\"labs/*\",\n    \"harness/lab\","), "{text}");
    }

    #[test]
    fn drops_inline_reference_members() {
        let text = without_references("[workspace]\nmembers = [\"labs/*\", \"solutions/*\"]\n").unwrap();
        assert_eq!(text, "[workspace]\nmembers = [\"labs/*\"]\n");
        let text =
            without_references("[workspace]\nmembers = [\"solutions/*\", \"labs/*\", \"solutions/x\"]\n")
                .unwrap();
        assert_eq!(text, "[workspace]\nmembers = [\"labs/*\"]\n");
    }

    #[test]
    fn keeps_the_references_a_lab_builds_on() {
        let manifest = "[workspace]\nmembers = [\"labs/*\", \"solutions/*\"]\n\n[workspace.dependencies]\nclap = \"4\"\nnbnet-ref = { path = \"solutions/07-nbnet\" }\ntestkit = { path = \"harness/testkit\" }\n";
        assert_eq!(references_built_on(manifest).unwrap(), ["solutions/07-nbnet/"]);
        let text = without_references(manifest).unwrap();
        assert!(text.contains("members = [\"labs/*\"]\n"), "{text}");
        assert!(text.contains("nbnet-ref = { path = \"solutions/07-nbnet\" }"), "{text}");
    }

    #[test]
    fn replaces_quotes_of_references_only() {
        let page = "```rust\n{{#include ../../solutions/01-x/src/run.rs:run}}\n```\n{{#include ../../labs/01-x/src/cli.rs}}\n";
        let text = without_quotes_of_references(page);
        assert_eq!(
            text,
            format!("```rust\n{QUOTE_LEFT_OUT}\n```\n{{{{#include ../../labs/01-x/src/cli.rs}}}}\n")
        );
    }
}
