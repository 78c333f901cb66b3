//! Custom monitors: a monitoring script is a package, a manifest ([`Manifest`]: the script's name,
//! the metrics it prints, how often it runs and how long it may take) and the script itself. The
//! platform checks a package against the monitoring-script standard ([`check_package`]) before
//! anything is stored, keeps every version in the records
//! ([`crate::platform::Platform::upload_script`]), and makes one version the one the hosts run
//! ([`crate::platform::Platform::activate_script`]): a rollout, or a rollback. On a host, a
//! version is installed whole, its checksum checked, and read back as one of lab 08's plugins
//! ([`install()`], [`installed`]). A version reaches the hosts through the control system: a
//! rollout is a signed command that starts the platform's installer on each host of a target
//! ([`crate::platform::Platform::rollout_script`], [`Distribution`]), which fetches the script,
//! checks it against the signed SHA-256 and installs it ([`receive()`]); the host's agent runs the
//! current versions as its collectors ([`spawn_runner`]).
//!
//! The standard, in full:
//!
//! 1. **The manifest** parses, knows no field it does not list, and names the script
//!    (`[a-z0-9][a-z0-9_.-]*`, at most 64 bytes), between 1 and [`MAX_METRICS`] metrics (lab 08's
//!    metric names), an interval from 10 s to an hour, and a timeout from 1 s to 30 s and at most
//!    half the interval.
//! 2. **The script** is text that starts with `#!/`, an interpreter named by its absolute path, and
//!    is at most [`MAX_SCRIPT_BYTES`].
//! 3. **A dry run** on the platform, with an empty environment (but `PATH`), its own empty working
//!    directory as `HOME` and `TMPDIR`, no standard input, the manifest's timeout and
//!    [`MAX_OUTPUT_BYTES`] of output: it exits 0; what it prints is lab 08's plugin format; it prints
//!    every metric the manifest declares and no other; and it leaves nothing behind in its directory.

pub mod install;
pub mod manifest;
pub mod publish;
pub mod receive;
pub mod rollout;
pub mod runner;
pub mod standard;

pub use install::{InstallError, Installed, activate, install, installed};
pub use manifest::{MAX_METRICS, Manifest};
pub use publish::Published;
pub use receive::{Received, receive};
pub use rollout::{Distribution, Rollout};
pub use runner::spawn_runner;
pub use standard::{Checked, MAX_OUTPUT_BYTES, MAX_SCRIPT_BYTES, Violation, check_package, check_script};
