//! Monitoring scripts and their versions. Every version uploaded is kept as it came (its manifest,
//! its body and the body's SHA-256); a script's active version is the one its hosts run, and
//! rolling back is pointing it at an older one.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Millis, RecordError, Records, Result, check};

/// A script: its name, its newest version and the one its hosts run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Its name, unique.
    pub name: String,
    /// Its newest version.
    pub latest: i64,
    /// The version its hosts run, if one was made active.
    pub active: Option<i64>,
}

/// A version of a script to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScriptVersion {
    /// The script's name.
    pub name: String,
    /// Its manifest, as uploaded.
    pub manifest: String,
    /// The executable.
    pub body: Vec<u8>,
    /// The body's SHA-256, in lower-case hex.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded: Millis,
}

/// A recorded version of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptVersion {
    /// The script's name.
    pub name: String,
    /// Its version: 1 for the first uploaded, then one more for each.
    pub version: i64,
    /// Its manifest, as uploaded.
    pub manifest: String,
    /// The executable.
    pub body: Vec<u8>,
    /// The body's SHA-256, in lower-case hex.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded: Millis,
}

impl Records {
    /// Records a new version of script `new.name` (making the script if it is the first) and
    /// returns its number: one more than the newest, even when two uploads race.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name (`script.name`), manifest (`script.manifest`),
    /// checksum that is not 64 lower-case hex digits (`script.sha256`), or a body over
    /// [`check::MAX_BODY`] (`script.body`).
    pub async fn add_script_version(&self, new: &NewScriptVersion) -> Result<i64> {
        todo!(
            "stage 1: check every field first; in one write transaction take a lock on the script's row, make it if missing, and insert the version one more than the newest"
        )
    }

    /// Version `version` of script `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn script_version(&self, name: &str, version: i64) -> Result<Option<ScriptVersion>> {
        todo!("stage 1: a join of scripts and script_versions on the name and the version")
    }

    /// The version numbers of script `name`, oldest first (none when there is no such script).
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn script_versions(&self, name: &str) -> Result<Vec<i64>> {
        todo!("stage 1: the version numbers of the script, oldest first")
    }

    /// Every script, by name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn scripts(&self) -> Result<Vec<Script>> {
        todo!("stage 1: every script with its newest version and its active one, by name")
    }

    /// Makes version `version` of script `name` the one its hosts run (a rollout, or a rollback).
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when the script has no such version.
    pub async fn set_active_script(&self, name: &str, version: i64) -> Result<()> {
        todo!("stage 1: NotFound unless the script has that version; then point active_version at it")
    }
}
