//! `cargo lab list`: the labs, one line each; with `--packages`, their student packages' names alone,
//! one a line, for scripts (CI builds the skeletons with them instead of reading `lab.toml` itself).

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::output;
use crate::workspace::Workspace;

/// What `cargo lab list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// A line per lab: number, package, reference, folder, title.
    Labs,
    /// The student packages' names, one a line.
    Packages,
    /// The reference packages' names, one a line.
    References,
}

/// Prints the labs; exit 1 when a lab's manifest is broken (it is named on stderr).
///
/// # Errors
///
/// Stdout being closed.
pub fn run(ws: &Workspace, listing: Listing) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    for lab in &ws.labs {
        let manifest = &lab.manifest;
        let _ = match listing {
            Listing::Packages => writeln!(out, "{}", manifest.name),
            Listing::References => writeln!(out, "{}", manifest.reference),
            Listing::Labs => writeln!(
                out,
                "{:>2}  {:<12} {:<16} labs/{:<16} {}",
                manifest.number, manifest.name, manifest.reference, lab.dir_name, manifest.title
            ),
        };
    }
    output::print(&out)?;
    for broken in &ws.broken {
        eprintln!("cargo lab: {broken}");
    }
    Ok(if ws.broken.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
