//! A version sent to the hosts through the control system. A rollout is a command like any other
//! (a run, recorded with every host's result, allowed by the user's role and audited): the
//! platform's installer, started on each host of the target, with what it needs in its signed
//! arguments: the version, its whole manifest and its script's SHA-256, and where to fetch the
//! script. The script itself does not travel in the command (it may be larger than a frame of
//! lab 09's protocol): the host fetches it from the platform and installs it only if its
//! checksum is the signed one ([`super::receive()`]). Rolling back is rolling out an older version,
//! which hosts still have.

use std::path::PathBuf;
use std::time::Duration;

use crate::commands::RunRequest;
use crate::platform::{Platform, Refusal};
use crate::records::{Millis, Script, ScriptVersion};

/// How long the installer may take on a host: a fetch and a few renames.
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How the platform's scripts reach its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// The `platform` program on the hosts (each host's agent must allow it).
    pub installer: PathBuf,
    /// Where the hosts keep their scripts.
    pub scripts_dir: PathBuf,
    /// Where the hosts keep their services' releases (a relative path is relative to each host's
    /// agent's working directory).
    pub releases_dir: PathBuf,
    /// The platform's address as the hosts reach it, as `http://10.0.0.1:8080`.
    pub url: String,
}

impl Distribution {
    /// The command that makes `version` current on the hosts of `target`:
    /// `INSTALLER install-script --from URL --dir DIR --version N --sha256 HEX --manifest TEXT`,
    /// where URL is the package's route, `/packages/{name}/{version}/{sha256}`.
    pub fn install_request(&self, version: &ScriptVersion, target: &str) -> RunRequest {
        let name = version.name.as_str();
        let from = format!(
            "{}/packages/{name}/{}/{}",
            self.url.trim_end_matches('/'),
            version.version,
            version.sha256
        );
        let args = [
            "install-script",
            "--from",
            &from,
            "--dir",
            &self.scripts_dir.to_string_lossy(),
            "--version",
            &version.version.to_string(),
            "--sha256",
            &version.sha256,
            "--manifest",
            &version.manifest,
        ];
        RunRequest {
            target: target.to_string(),
            program: self.installer.to_string_lossy().into_owned(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            batch: None,
            timeout: INSTALL_TIMEOUT,
            link: None,
        }
    }
}

/// A rollout started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// The run that installs it, host by host.
    pub run: i64,
    /// The script as it then stands: the version rolled out is its active one.
    pub script: Script,
}

impl Platform {
    /// Rolls `version` of script `name` out to the hosts of `target` (an older one: a rollback)
    /// and makes it the active one, for `user`, who must manage the platform. The installs are a
    /// run: each host's result is recorded as for any command.
    ///
    /// # Errors
    ///
    /// [`Refusal::Denied`], [`Refusal::NotFound`] for no such version, [`Refusal::NoControl`]
    /// when the platform has no control master or no [`Distribution`], and what
    /// [`Platform::run`] refuses (a bad target among them).
    pub async fn rollout_script(
        &self,
        user: &str,
        name: &str,
        version: i64,
        target: &str,
        now: Millis,
    ) -> Result<Rollout, Refusal> {
        self.require_admin(user, "script", name, now).await?;
        let distribution = self.distribution.as_ref().ok_or(Refusal::NoControl)?;
        let record = self.records.script_version(name, version).await?;
        let record =
            record.ok_or_else(|| Refusal::NotFound(format!("script {name:?} has no version {version}")))?;
        let run = self.run(user, &distribution.install_request(&record, target), now).await?;
        // Marked active once the command is out, so a refused target changes nothing; both steps
        // are audited (the run, and the version made active).
        let script = self.activate_script(user, name, version, now).await?;
        Ok(Rollout { run, script })
    }
}
