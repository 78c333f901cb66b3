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
        check::name("script.name", &new.name)?;
        check::text("script.manifest", &new.manifest)?;
        check::name("script.uploaded_by", &new.uploaded_by)?;
        if new.sha256.len() != 64
            || !new.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(check::invalid("script.sha256", "is not 64 lower-case hex digits"));
        }
        if new.body.len() > check::MAX_BODY {
            return Err(check::invalid("script.body", "is larger than 4 MiB"));
        }
        self.retrying(|| Box::pin(self.insert_version(new))).await
    }

    /// [`Records::add_script_version`] of a checked version, as one transaction.
    async fn insert_version(&self, new: &NewScriptVersion) -> Result<i64> {
        let mut tx = self.write().await?;
        // Lock the script's row first: from then on both backends hold it until the commit, so two
        // uploads of the same script take their numbers one after the other. Two first uploads
        // race to make the row; the loser fails on the key (or, in InnoDB, deadlocks on the gap
        // both locked) and runs again.
        sqlx::query("UPDATE scripts SET name = name WHERE name = ?")
            .bind(&new.name)
            .execute(&mut *tx)
            .await?;
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM scripts WHERE name = ?")
            .bind(&new.name)
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some(id) => id,
            None => {
                let inserted = sqlx::query("INSERT INTO scripts (name) VALUES (?)")
                    .bind(&new.name)
                    .execute(&mut *tx)
                    .await?;
                match inserted.last_insert_id() {
                    Some(id) => id,
                    None => {
                        sqlx::query_scalar("SELECT id FROM scripts WHERE name = ?")
                            .bind(&new.name)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                }
            }
        };
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM script_versions WHERE script_id = ?")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let version = newest.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO script_versions (script_id, version, manifest, sha256, body, uploaded_by, uploaded) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(version)
        .bind(&new.manifest)
        .bind(&new.sha256)
        .bind(&new.body)
        .bind(&new.uploaded_by)
        .bind(new.uploaded)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Version `version` of script `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn script_version(&self, name: &str, version: i64) -> Result<Option<ScriptVersion>> {
        let row = sqlx::query(
            "SELECT s.name, v.version, v.manifest, v.sha256, v.body, v.uploaded_by, v.uploaded \
             FROM scripts s JOIN script_versions v ON v.script_id = s.id WHERE s.name = ? AND v.version = ?",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| version_of(&row)).transpose()
    }

    /// The version numbers of script `name`, oldest first (none when there is no such script).
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn script_versions(&self, name: &str) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT v.version FROM scripts s JOIN script_versions v ON v.script_id = s.id WHERE s.name = ? ORDER BY v.version",
        )
        .bind(name)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every script, by name.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn scripts(&self) -> Result<Vec<Script>> {
        let rows = sqlx::query(
            "SELECT s.name, s.active_version, MAX(v.version) AS latest FROM scripts s \
             JOIN script_versions v ON v.script_id = s.id GROUP BY s.id, s.name, s.active_version ORDER BY s.name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Script {
                    name: row.try_get("name")?,
                    latest: row.try_get("latest")?,
                    active: row.try_get("active_version")?,
                })
            })
            .collect()
    }

    /// Makes version `version` of script `name` the one its hosts run (a rollout, or a rollback).
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when the script has no such version.
    pub async fn set_active_script(&self, name: &str, version: i64) -> Result<()> {
        let mut tx = self.write().await?;
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM scripts s JOIN script_versions v ON v.script_id = s.id WHERE s.name = ? AND v.version = ?",
        )
        .bind(name)
        .bind(version)
        .fetch_one(&mut *tx)
        .await?;
        if found == 0 {
            return Err(RecordError::NotFound { what: "script version", key: format!("{name} {version}") });
        }
        sqlx::query("UPDATE scripts SET active_version = ? WHERE name = ?")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A script version from its row.
fn version_of(row: &AnyRow) -> Result<ScriptVersion> {
    Ok(ScriptVersion {
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        manifest: row.try_get("manifest")?,
        body: row.try_get("body")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded: row.try_get("uploaded")?,
    })
}
