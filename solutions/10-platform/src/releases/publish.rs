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
        self.require_admin(user, "release.upload", "-", now).await?;
        let bytes = package.to_vec();
        let checked = tokio::task::spawn_blocking(move || super::check_release(&bytes))
            .await
            .map_err(|err| Refusal::Internal(err.to_string()))?;
        let checked = match checked {
            Ok(checked) => checked,
            Err(violation) => {
                let detail = format!("{}: {}", violation.rule, violation.reason);
                self.audit(now, user, "release.upload", "-", "refused", &detail).await;
                return Err(Refusal::Invalid { field: violation.rule, reason: violation.reason });
            }
        };
        let manifest = &checked.manifest;
        let new = NewRelease {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            manifest: checked.manifest_text.clone(),
            sha256: checked.sha256.clone(),
            package: package.to_vec(),
            uploaded_by: user.to_string(),
            uploaded: now,
        };
        let what = format!("{} {}", manifest.name, manifest.version);
        self.records.add_release(&new).await?;
        self.audit(now, user, "release.upload", &what, "allowed", &format!("sha256 {}", checked.sha256))
            .await;
        let release = self.records.release(&manifest.name, &manifest.version).await?;
        release.ok_or_else(|| Refusal::Internal(format!("release {what} vanished")))
    }
}
