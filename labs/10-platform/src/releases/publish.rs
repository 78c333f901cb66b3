//! A release uploaded: checked whole against the package rules before anything is stored
//! ([`super::check_release`]), then recorded, package and all, under its name and version, for
//! good: a version hosts may run is never replaced.

use crate::platform::{Platform, Refusal};
use crate::records::{Millis, NewRelease, Release};

impl Platform {
    /// Checks `package` and records it as a release, for `user`, who must manage the platform.
    /// Allowed or refused, it is audited.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`]; [`Refusal::Invalid`] naming the rule the package breaks as its field
    /// (`release.checksum`, `manifest.version`, …); [`Refusal::Conflict`] when that version is
    /// recorded already.
    pub async fn upload_release(&self, user: &str, package: &[u8], now: Millis) -> Result<Release, Refusal> {
        todo!(
            "stage 4: require_admin; check_release off the runtime (a violation: Invalid with the rule as its field, audited as refused); record it (Conflict when the version exists); audit; the release as recorded"
        )
    }
}
