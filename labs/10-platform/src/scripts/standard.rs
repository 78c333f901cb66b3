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
    todo!(
        "stage 3: the manifest, the script's form, then a dry run in a new directory under `scratch`: lab 08's run_plugin through `env -i -C DIR` with PATH, HOME and TMPDIR set, the manifest's timeout, MAX_OUTPUT_BYTES; exit 0, lab 08's plugin format, exactly the declared metrics, nothing left in its directory"
    )
}

/// Checks a script's form: at most [`MAX_SCRIPT_BYTES`], starting with `#!/` and an interpreter.
///
/// # Errors
///
/// A [`Violation`] of `script.size` or `script.interpreter`.
pub fn check_script(script: &[u8]) -> Result<(), Violation> {
    todo!("stage 3: 1 to MAX_SCRIPT_BYTES, and a first line `#!/...`")
}
