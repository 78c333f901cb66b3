//! A version arriving on a host, as the installer that the platform's signed command starts
//! (`platform install-script`) receives it. A version installed already (a rollback, or a rollout
//! sent twice) is made current again without a byte fetched: a rollback must work when the
//! platform cannot be reached. Any other is fetched from the platform with lab 03's HTTP client
//! (at most [`MAX_SCRIPT_BYTES`], within deadlines) and installed only once its SHA-256 is the one
//! the signed command named: the command is what the host trusts, the download is not.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crawler::{Client, ClientConfig, Url};
use sha2::{Digest, Sha256};

use super::{InstallError, Installed, MAX_SCRIPT_BYTES, Manifest, activate, install};

/// How long the installer waits for the platform: to connect, for the answer's head, and for its
/// whole body.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A version received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The script now current.
    pub installed: Installed,
    /// How many bytes were fetched: `None` when the version was installed already.
    pub fetched: Option<usize>,
}

/// Makes `version` of the package whose manifest is `manifest` and whose script's SHA-256 is
/// `sha256` current in `dir`: at once when it is installed there with that checksum, else once
/// its script is fetched from `from` and checked.
///
/// # Errors
///
/// [`InstallError::Manifest`], [`InstallError::Fetch`] (no answer, not a 200, too large),
/// [`InstallError::Checksum`] (nothing is written then), [`InstallError::File`].
pub async fn receive(
    from: &str,
    dir: &Path,
    manifest: &str,
    sha256: &str,
    version: i64,
) -> Result<Received, InstallError> {
    let name = Manifest::parse(manifest)?.name;
    let target = dir.join(&name).join(version.to_string());
    if let Ok(script) = fs::read(target.join("script"))
        && hex::encode(Sha256::digest(&script)) == sha256
    {
        let installed = activate(dir, &name, version)?;
        return Ok(Received { installed, fetched: None });
    }
    let script = fetch(from).await?;
    let fetched = script.len();
    // A copy on the host that is not the signed one (changed by hand, or a disk's fault) is
    // replaced whole, once the right one has arrived.
    if target.exists() && hex::encode(Sha256::digest(&script)) == sha256 {
        fs::remove_dir_all(&target).map_err(|source| InstallError::File { path: target.clone(), source })?;
    }
    let installed = install(dir, manifest, &script, sha256, version)?;
    Ok(Received { installed, fetched: Some(fetched) })
}

/// The body of `GET from`, when it is a 200 of at most [`MAX_SCRIPT_BYTES`].
async fn fetch(from: &str) -> Result<Vec<u8>, InstallError> {
    let failed = |reason: String| InstallError::Fetch { url: from.to_string(), reason };
    let url = Url::parse(from).map_err(|err| failed(err.to_string()))?;
    let client = Client::new(ClientConfig {
        connect_timeout: FETCH_TIMEOUT,
        header_timeout: FETCH_TIMEOUT,
        body_timeout: FETCH_TIMEOUT,
        max_body: MAX_SCRIPT_BYTES as u64,
        max_redirects: 0,
        user_agent: concat!("platform-install/", env!("CARGO_PKG_VERSION")).to_string(),
        max_idle_per_host: 0,
    });
    let response = client.get_once(&url).await.map_err(|err| failed(err.to_string()))?;
    match response.status() {
        200 => Ok(response.body),
        status => Err(failed(format!("the platform answered {status}"))),
    }
}
