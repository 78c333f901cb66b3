//! `cargo lab clean`: frees what the harness keeps under `<target>/lab`: the cached results behind the
//! status table, the grading workspace and its build, and the benchmarks' files. Cargo's own builds are
//! `cargo clean`'s.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::output;
use crate::workspace::Workspace;

/// What `cargo lab clean` frees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything under `<target>/lab`.
    All,
    /// Only the grading workspace and its build (`<target>/lab/grade`), the largest part.
    Grading,
}

/// Removes the harness's files and says how much it freed.
///
/// # Errors
///
/// A folder that exists but cannot be removed, or stdout being closed.
pub fn run(ws: &Workspace, scope: Scope) -> anyhow::Result<ExitCode> {
    let dir = match scope {
        Scope::All => ws.state_dir(),
        Scope::Grading => ws.state_dir().join("grade"),
    };
    if !dir.exists() {
        output::print(&format!("Nothing to clean: {} does not exist.\n", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let bytes = size_of(&dir);
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    output::print(&format!("Removed {} ({:.1} MiB).\n", dir.display(), bytes as f64 / (1024.0 * 1024.0)))?;
    Ok(ExitCode::SUCCESS)
}

/// The bytes of the files under `dir` (what can be read of them; links are not followed).
fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().filter_map(Result::ok) {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(_) => total += entry.metadata().map_or(0, |meta| meta.len()),
                Err(_) => {}
            }
        }
    }
    total
}
