//! Scripts as the platform takes them: an upload checked against the standard before anything is
//! stored, then kept as a new version; a version made the one the hosts run. Both are for users
//! who manage the platform, and both are audited, refusals too.

use sha2::{Digest, Sha256};

use super::{Violation, check_package};
use crate::platform::{Platform, Refusal};
use crate::records::{Millis, NewScriptVersion, Script};

/// A version stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The script's name, from its manifest.
    pub name: String,
    /// Its number: 1 for a script's first, one more for each after.
    pub version: i64,
    /// The script's SHA-256, in lower-case hex.
    pub sha256: String,
}

impl From<Violation> for Refusal {
    fn from(violation: Violation) -> Refusal {
        Refusal::Invalid { field: violation.rule, reason: violation.reason }
    }
}

impl Platform {
    /// Checks a package (`manifest`, `script`) against the monitoring-script standard, then
    /// records it as the script's next version, for `user`, who must manage the platform. The
    /// dry run runs off the async runtime's threads.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::Invalid`] naming the rule broken (`script.size`,
    /// `run.timeout`, ...), or the records' failure.
    pub async fn upload_script(
        &self,
        user: &str,
        manifest: &str,
        script: &[u8],
        now: Millis,
    ) -> Result<Published, Refusal> {
        self.require_admin(user, "script", "upload", now).await?;
        let (manifest_text, body) = (manifest.to_string(), script.to_vec());
        let checked =
            tokio::task::spawn_blocking(move || check_package(&manifest_text, &body, &std::env::temp_dir()))
                .await
                .map_err(|err| Refusal::Internal(err.to_string()))?;
        let checked = match checked {
            Ok(checked) => checked,
            Err(violation) => {
                self.audit(now, user, "script", "upload", "refused", &violation.to_string()).await;
                return Err(violation.into());
            }
        };
        let sha256 = hex::encode(Sha256::digest(script));
        let name = checked.manifest.name.clone();
        let new = NewScriptVersion {
            name: name.clone(),
            manifest: manifest.to_string(),
            body: script.to_vec(),
            sha256: sha256.clone(),
            uploaded_by: user.to_string(),
            uploaded: now,
        };
        let version = self.records.add_script_version(&new).await?;
        let detail = format!("version {version}, sha256 {sha256}, dry run {} ms", checked.took.as_millis());
        self.audit(now, user, "script", &name, "allowed", &detail).await;
        Ok(Published { name, version, sha256 })
    }

    /// Makes `version` of script `name` the one its hosts run (a newer one: a rollout; an older
    /// one: a rollback), for `user`, who must manage the platform. Returns the script as it then
    /// stands.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`] for no such script or version.
    pub async fn activate_script(
        &self,
        user: &str,
        name: &str,
        version: i64,
        now: Millis,
    ) -> Result<Script, Refusal> {
        self.require_admin(user, "script", name, now).await?;
        self.records.set_active_script(name, version).await?;
        let script = self.records.scripts().await?.into_iter().find(|script| script.name == name);
        let script = script.ok_or_else(|| Refusal::NotFound(format!("no script {name:?}")))?;
        self.audit(now, user, "script", name, "allowed", &format!("version {version} active")).await;
        Ok(script)
    }
}
