//! Releases: a service's versions, packaged with their `start`, `stop` and `status` hooks and the
//! SHA-256 of every file ([`ReleaseManifest`], [`check_release`]), rolled out to the hosts in
//! batches (a canary first, then a count or a share of the hosts at a time, within a failure
//! budget: [`Strategy`], [`plan_batches`]), each host running the deploy routine ([`deploy()`]):
//! download, verify, stop, back up, switch, start, status, and back to the previous version when
//! the new one does not come up healthy.

pub mod deploy;
pub mod deployment;
pub mod manifest;
pub mod pack;
pub mod package;
pub mod plan;
pub mod publish;

pub use deploy::{DeployReport, DeployRequest, Failure, Restored, Step, current_version, deploy};
pub use deployment::DeploymentRequest;
pub use manifest::{Hooks, ReleaseManifest, check_path, is_name, is_version};
pub use pack::{PackFile, pack_dir, pack_files, write_package};
pub use package::{
    CheckedRelease, MANIFEST_FILE, MAX_FILES, MAX_PACKAGE_BYTES, MAX_UNPACKED_BYTES, UnpackError,
    check_release, unpack_release,
};
pub use plan::{HealthRule, OnFailure, Strategy, plan_batches};
