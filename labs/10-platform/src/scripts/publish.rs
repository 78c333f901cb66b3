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
        todo!(
            "stage 3: admins only; check_package off the runtime's threads (spawn_blocking), a refusal audited with the rule; then the SHA-256, the next version recorded, audited"
        )
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
        todo!(
            "stage 3: admins only; set the active version in the records; audit; the script as it then stands"
        )
    }
}
