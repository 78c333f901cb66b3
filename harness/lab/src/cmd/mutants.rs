//! `cargo lab mutants <lab>`: mutation testing of a lab's reference against the lab's graded tests,
//! through `cargo-mutants`. The given files are left out (they are the course's, not graded code);
//! the results go to `<target>/lab/mutants/<lab>/mutants.out`, where a second run with `--iterate`
//! retests only the mutants that were not caught.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::output;
use crate::workspace::Workspace;

/// The arguments to pass to `cargo mutants` for `lab`, then `extra` (the user's own, after `--`).
///
/// # Errors
///
/// An unknown lab or a missing reference.
pub fn arguments(ws: &Workspace, lab: &str, extra: &[OsString]) -> anyhow::Result<Vec<OsString>> {
    let lab = ws.lab(lab)?;
    let reference = ws.reference(lab)?;
    let relative = reference.dir.strip_prefix(&ws.root).unwrap_or(&reference.dir);
    let mut args: Vec<OsString> = vec!["mutants".into(), "-p".into(), reference.name.clone().into()];
    for given in &lab.manifest.files.given {
        args.push("--exclude".into());
        args.push(relative.join("src").join(given).into_os_string());
    }
    args.push("--output".into());
    args.push(ws.state_dir().join("mutants").join(&lab.dir_name).into_os_string());
    // In source order, so that two runs list their mutants alike.
    args.push("--no-shuffle".into());
    args.extend(extra.iter().cloned());
    Ok(args)
}

/// Runs `cargo mutants` over `lab`'s reference and returns its exit code.
///
/// # Errors
///
/// An unknown lab, a missing reference, or cargo-mutants not installed.
pub fn run(ws: &Workspace, lab: &str, extra: &[OsString]) -> anyhow::Result<ExitCode> {
    let args = arguments(ws, lab, extra)?;
    let shown: Vec<String> = args.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
    output::print(&format!("cargo {}\n", shown.join(" ")))?;
    let installed = Command::new("cargo").args(["mutants", "--version"]).output();
    if !installed.is_ok_and(|out| out.status.success()) {
        anyhow::bail!("cargo-mutants is not installed: `cargo install --locked cargo-mutants` installs it");
    }
    // cargo-mutants makes its output directory but not the one above it, which a fresh clone
    // does not have yet.
    let out = ws.state_dir().join("mutants");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let status = Command::new("cargo")
        .args(&args)
        .current_dir(&ws.root)
        .status()
        .context("cannot run cargo mutants")?;
    // cargo-mutants exits 2 when some mutant was missed, 3 on timeouts: pass its code on.
    Ok(ExitCode::from(status.code().map_or(1, |code| u8::try_from(code).unwrap_or(1))))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_given_files_are_left_out_and_the_user_s_arguments_come_last() {
        let ws = Workspace::discover(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the course");
        let args = arguments(&ws, "superd", &["--iterate".into()]).expect("superd is a lab");
        let args: Vec<String> = args.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
        assert_eq!(args[..3], ["mutants", "-p", "superd-ref"], "the package mutated");
        assert!(
            args.windows(2).any(|pair| pair == ["--exclude", "solutions/05-daemon/src/main.rs"]),
            "main.rs, a given file, is left out: {args:?}"
        );
        assert_eq!(args.last().map(String::as_str), Some("--iterate"), "the user's argument is last");
        assert!(arguments(&ws, "no-such-lab", &[]).is_err(), "an unknown lab is an error");
    }
}
