//! The monitoring-script standard, checked before a package is stored: the manifest, the script's
//! form, and a dry run that must print what the manifest declares, within its timeout, and leave
//! nothing behind. The dry run is lab 08's plugin runner (its own process group, killed whole at
//! the timeout, its output capped), wrapped in `env` so the script starts with an empty
//! environment in a directory of its own.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use monitor::collect::plugin::{PluginSpec, run_plugin};
use monitor::collect::{CollectError, parse_plugin_output};

use super::Manifest;

/// The largest script accepted.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// The most a script may print in one run.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// A rule of the standard that a package breaks, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {reason}")]
pub struct Violation {
    /// The rule: `manifest`, `manifest.FIELD`, `script.size`, `script.interpreter`,
    /// `run.start`, `run.timeout`, `run.exit`, `run.output`, `run.undeclared`, `run.missing` or
    /// `run.side_effect`.
    pub rule: String,
    /// Why, for the person who uploaded it.
    pub reason: String,
}

impl Violation {
    /// A violation of `rule`.
    pub fn new(rule: &str, reason: impl Into<String>) -> Violation {
        Violation { rule: rule.to_string(), reason: reason.into() }
    }
}

/// What a package that keeps the standard gave on its dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Its manifest.
    pub manifest: Manifest,
    /// What it printed, as samples: `(metric, value)`, in order.
    pub samples: Vec<(String, f64)>,
    /// How long the dry run took.
    pub took: Duration,
}

/// Checks a package against the standard: its manifest ([`Manifest::parse`]), its script
/// ([`check_script`]), then a dry run in a new directory under `scratch`, removed afterwards.
/// Blocking: it runs the script and waits for it, up to the manifest's timeout.
///
/// # Errors
///
/// The first [`Violation`] found.
pub fn check_package(manifest: &str, script: &[u8], scratch: &Path) -> Result<Checked, Violation> {
    let manifest = Manifest::parse(manifest)?;
    check_script(script)?;
    let dir = tempfile::Builder::new()
        .prefix("script-check-")
        .tempdir_in(scratch)
        .map_err(|err| Violation::new("run.start", format!("no directory to run it in: {err}")))?;
    let (samples, took) = dry_run(&manifest, script, dir.path())?;
    Ok(Checked { manifest, samples, took })
}

/// Checks a script's form: at most [`MAX_SCRIPT_BYTES`], starting with `#!/` and an interpreter.
///
/// # Errors
///
/// A [`Violation`] of `script.size` or `script.interpreter`.
pub fn check_script(script: &[u8]) -> Result<(), Violation> {
    if script.is_empty() || script.len() > MAX_SCRIPT_BYTES {
        return Err(Violation::new(
            "script.size",
            format!("{} bytes, not 1 to {MAX_SCRIPT_BYTES}", script.len()),
        ));
    }
    let first = script.split(|&b| b == b'\n').next().unwrap_or_default();
    let interpreter = first.strip_prefix(b"#!").map(|rest| rest.trim_ascii_start());
    match interpreter {
        Some(rest) if rest.starts_with(b"/") && rest.len() > 1 => Ok(()),
        _ => Err(Violation::new(
            "script.interpreter",
            "does not start with #! and an interpreter's absolute path",
        )),
    }
}

/// Runs the script once in `dir` (its own empty working directory, `HOME` and `TMPDIR`): the
/// samples it printed and how long it took.
fn dry_run(
    manifest: &Manifest,
    script: &[u8],
    dir: &Path,
) -> Result<(Vec<(String, f64)>, Duration), Violation> {
    let start_error = |err: std::io::Error| Violation::new("run.start", err.to_string());
    let program = dir.join(&manifest.name);
    let work = dir.join("work");
    std::fs::create_dir(&work).map_err(start_error)?;
    std::fs::write(&program, script).map_err(start_error)?;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o700)).map_err(start_error)?;
    let mut spec = PluginSpec::new("/usr/bin/env");
    let home = work.display().to_string();
    spec.args = vec![
        "-i".into(),
        "-C".into(),
        home.clone(),
        "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        format!("HOME={home}"),
        format!("TMPDIR={home}"),
        program.display().to_string(),
    ];
    spec.timeout = manifest.timeout();
    spec.max_output = MAX_OUTPUT_BYTES;
    let started = Instant::now();
    let output = run_plugin(&spec).map_err(|err| match err {
        CollectError::PluginTimeout { .. } => {
            Violation::new("run.timeout", format!("did not finish within {} s", manifest.timeout_secs))
        }
        CollectError::PluginFlood { .. } => {
            Violation::new("run.output", format!("printed more than {MAX_OUTPUT_BYTES} bytes"))
        }
        CollectError::PluginFailed { status, stderr, .. } => {
            let stderr: String = stderr.chars().take(300).collect();
            Violation::new("run.exit", format!("{status}: {stderr}"))
        }
        other => Violation::new("run.start", other.to_string()),
    })?;
    let took = started.elapsed();
    let text = String::from_utf8(output).map_err(|_| Violation::new("run.output", "is not UTF-8"))?;
    let samples = parse_plugin_output(&text).map_err(|err| Violation::new("run.output", err.to_string()))?;
    let declared: BTreeSet<&str> = manifest.metrics.iter().map(String::as_str).collect();
    if let Some(sample) = samples.iter().find(|sample| !declared.contains(sample.metric.as_str())) {
        return Err(Violation::new(
            "run.undeclared",
            format!("prints {}, which the manifest does not declare", sample.metric),
        ));
    }
    let printed: BTreeSet<&str> = samples.iter().map(|sample| sample.metric.as_str()).collect();
    let missing: Vec<&str> = declared.difference(&printed).copied().collect();
    if !missing.is_empty() {
        return Err(Violation::new("run.missing", format!("does not print {}", missing.join(", "))));
    }
    let left = std::fs::read_dir(&work).map_err(start_error)?.count();
    if left > 0 {
        return Err(Violation::new("run.side_effect", format!("left {left} files in its directory")));
    }
    Ok((samples.into_iter().map(|sample| (sample.metric, sample.value)).collect(), took))
}
