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
    todo!(
        "stage 3: the manifest's name; an installed copy with this SHA-256 is only activated (fetched: None); else GET `from` with lab 03's client (a 200, at most MAX_SCRIPT_BYTES, FETCH_TIMEOUT), then install() it, replacing a copy whose checksum was wrong"
    )
}
