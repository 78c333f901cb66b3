//! Releases and their rollouts. A release is kept whole (its package, as checked, and its
//! manifest and SHA-256); a rollout ("deployment") keeps its strategy, the batch in hand and each
//! host's state, step, earlier version and output, and the runs it started, so its history is
//! here and a restarted platform can take it up where it stood.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, QueryBuilder, Row};

use super::{Millis, RecordError, Records, Result, check, dialect};

/// The most bytes in a release's package: MariaDB's `max_allowed_packet` is 16 MiB by default, and
/// a statement carries the package whole.
pub const MAX_PACKAGE: usize = 8 << 20;

/// A release to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    /// The service.
    pub name: String,
    /// The version.
    pub version: String,
    /// Its manifest, as in the package.
    pub manifest: String,
    /// The package's SHA-256, in lower-case hex.
    pub sha256: String,
    /// The package.
    pub package: Vec<u8>,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded: Millis,
}

/// A recorded release (without its package: [`Records::release_package`] reads that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Its id.
    pub id: i64,
    /// The service.
    pub name: String,
    /// The version.
    pub version: String,
    /// Its manifest.
    pub manifest: String,
    /// The package's SHA-256, in lower-case hex.
    pub sha256: String,
    /// The package's size in bytes.
    pub size: i64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded: Millis,
}

/// How a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentState {
    /// Batches are going out.
    Running,
    /// Stopped between batches until resumed.
    Paused,
    /// Every host has the release.
    Succeeded,
    /// Stopped by a failure (the failed batch put back as its strategy says).
    Failed,
    /// Stopped by a failure, and every host it changed put back.
    RolledBack,
}

impl DeploymentState {
    /// The state as the records spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Running => "running",
            DeploymentState::Paused => "paused",
            DeploymentState::Succeeded => "succeeded",
            DeploymentState::Failed => "failed",
            DeploymentState::RolledBack => "rolled_back",
        }
    }

    /// The state spelled `text`, if any.
    pub fn parse(text: &str) -> Option<DeploymentState> {
        [
            DeploymentState::Running,
            DeploymentState::Paused,
            DeploymentState::Succeeded,
            DeploymentState::Failed,
            DeploymentState::RolledBack,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }

    /// Whether the rollout has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, DeploymentState::Running | DeploymentState::Paused)
    }
}

/// A rollout to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeployment {
    /// The release rolled out.
    pub release_id: i64,
    /// Who started it.
    pub user: String,
    /// The target expression it was started on.
    pub target: String,
    /// Its strategy, as JSON.
    pub strategy: String,
    /// Its hosts, batch by batch, in order.
    pub batches: Vec<Vec<String>>,
    /// When it started.
    pub started: Millis,
}

/// A recorded rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Its id.
    pub id: i64,
    /// The release rolled out.
    pub release_id: i64,
    /// The release's service.
    pub name: String,
    /// The release's version.
    pub version: String,
    /// Who started it.
    pub user: String,
    /// The target expression.
    pub target: String,
    /// Its strategy, as JSON.
    pub strategy: String,
    /// How it stands.
    pub state: DeploymentState,
    /// The batch in hand (0 is the first; past the last once every batch is done).
    pub batch: i64,
    /// Why it ended as it did, or why it is paused.
    pub detail: String,
    /// When it started.
    pub started: Millis,
    /// When it ended.
    pub ended: Option<Millis>,
}

/// A host of a rollout, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentHost {
    /// The host.
    pub host: String,
    /// Its batch (0 is the first).
    pub batch: i64,
    /// Its place in the rollout's order.
    pub position: i64,
    /// `pending`, `deploying`, `done`, `failed`, `lost`, `rolled_back`, `kept` or `skipped`.
    pub state: String,
    /// The last step it reached (`-` before any).
    pub step: String,
    /// The version it ran before, once known.
    pub previous: Option<String>,
    /// What its deploy (and rollback) printed.
    pub output: String,
    /// When it last changed.
    pub updated: Millis,
}

/// A change to a host of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUpdate {
    /// The host.
    pub host: String,
    /// Its new state.
    pub state: String,
    /// The last step it reached.
    pub step: String,
    /// The version it ran before (`None` leaves it as it is).
    pub previous: Option<String>,
    /// Its output (replacing what was kept).
    pub output: String,
}

/// Why a run was started by a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPurpose {
    /// To deploy the release.
    Deploy,
    /// To put back what a host ran before.
    Rollback,
}

impl RunPurpose {
    /// As the records spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunPurpose::Deploy => "deploy",
            RunPurpose::Rollback => "rollback",
        }
    }
}

/// A run's place in a rollout: written before its command is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLink {
    /// The rollout.
    pub deployment: i64,
    /// Its batch.
    pub batch: i64,
    /// Why.
    pub purpose: RunPurpose,
}

const RELEASE_COLUMNS: &str =
    "id, name, version, manifest, sha256, LENGTH(package) AS size, uploaded_by, uploaded";
const DEPLOYMENT_COLUMNS: &str = "d.id, d.release_id, r.name, r.version, d.user_name, d.target, d.strategy, \
     d.state, d.batch, d.detail, d.started, d.ended";

impl Records {
    /// Records a release and returns its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad field (`release.FIELD`), [`RecordError::Conflict`] when
    /// that version of that service is recorded already (a version is never replaced: hosts may
    /// run it).
    pub async fn add_release(&self, new: &NewRelease) -> Result<i64> {
        check::name("release.name", &new.name)?;
        check::name("release.version", &new.version)?;
        check::text("release.manifest", &new.manifest)?;
        check::name("release.uploaded_by", &new.uploaded_by)?;
        if new.sha256.len() != 64
            || !new.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(check::invalid("release.sha256", "is not 64 lower-case hex digits"));
        }
        if new.package.len() > MAX_PACKAGE {
            return Err(check::invalid("release.package", "is larger than 8 MiB"));
        }
        let mut tx = self.write().await?;
        let existing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM releases WHERE name = ? AND version = ?")
                .bind(&new.name)
                .bind(&new.version)
                .fetch_one(&mut *tx)
                .await?;
        if existing > 0 {
            return Err(RecordError::Conflict {
                what: "release",
                key: format!("{} {}", new.name, new.version),
            });
        }
        let inserted = sqlx::query(
            "INSERT INTO releases (name, version, manifest, sha256, package, uploaded_by, uploaded) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&new.name)
        .bind(&new.version)
        .bind(&new.manifest)
        .bind(&new.sha256)
        .bind(&new.package)
        .bind(&new.uploaded_by)
        .bind(new.uploaded)
        .execute(&mut *tx)
        .await;
        let inserted = match inserted {
            Ok(inserted) => inserted,
            // Two uploads of one version raced past the count: the key decides.
            Err(err) if dialect::is_conflict(&err) => {
                return Err(RecordError::Conflict {
                    what: "release",
                    key: format!("{} {}", new.name, new.version),
                });
            }
            Err(err) => return Err(err.into()),
        };
        let id = match inserted.last_insert_id() {
            Some(id) => id,
            None => {
                sqlx::query_scalar("SELECT id FROM releases WHERE name = ? AND version = ?")
                    .bind(&new.name)
                    .bind(&new.version)
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Version `version` of service `name`'s release, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn release(&self, name: &str, version: &str) -> Result<Option<Release>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE name = ? AND version = ?"
        )))
        .bind(name)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| release_of(&row)).transpose()
    }

    /// The package of release `name` `version`, with its SHA-256.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn release_package(&self, name: &str, version: &str) -> Result<Option<(String, Vec<u8>)>> {
        let row = sqlx::query("SELECT sha256, package FROM releases WHERE name = ? AND version = ?")
            .bind(name)
            .bind(version)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| Ok((row.try_get("sha256")?, row.try_get("package")?))).transpose()
    }

    /// Every release, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RELEASE_COLUMNS} FROM releases ORDER BY id DESC"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(release_of).collect()
    }

    /// Records a rollout and its hosts, batch by batch, all `pending`, in one transaction; its id.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad user, target or host name, or a host in two batches;
    /// [`RecordError::NotFound`] for no such release.
    pub async fn start_deployment(&self, new: &NewDeployment) -> Result<i64> {
        check::name("deployment.user", &new.user)?;
        check::text("deployment.target", &new.target)?;
        check::text("deployment.strategy", &new.strategy)?;
        let mut hosts = Vec::new();
        for (batch, names) in new.batches.iter().enumerate() {
            for host in names {
                check::name("deployment.hosts", host)?;
                hosts.push((host.as_str(), batch as i64, hosts.len() as i64));
            }
        }
        let mut seen: Vec<&str> = hosts.iter().map(|(host, _, _)| *host).collect();
        seen.sort_unstable();
        if seen.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(check::invalid("deployment.hosts", "names a host twice"));
        }
        let mut tx = self.write().await?;
        let release: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM releases WHERE id = ?")
            .bind(new.release_id)
            .fetch_one(&mut *tx)
            .await?;
        if release == 0 {
            return Err(RecordError::NotFound { what: "release", key: new.release_id.to_string() });
        }
        let inserted = sqlx::query(
            "INSERT INTO deployments (release_id, user_name, target, strategy, state, batch, detail, started) \
             VALUES (?, ?, ?, ?, 'running', 0, '', ?)",
        )
        .bind(new.release_id)
        .bind(&new.user)
        .bind(&new.target)
        .bind(&new.strategy)
        .bind(new.started)
        .execute(&mut *tx)
        .await?;
        let id = match inserted.last_insert_id() {
            Some(id) => id,
            None => sqlx::query_scalar("SELECT MAX(id) FROM deployments").fetch_one(&mut *tx).await?,
        };
        for chunk in dialect::batches(&hosts, 9, |(host, _, _)| host.len() + 40) {
            let mut insert = QueryBuilder::<Any>::new(
                "INSERT INTO deployment_hosts (deployment_id, host, batch, position, state, step, previous, output, updated) ",
            );
            insert.push_values(chunk, |mut row, (host, batch, position)| {
                row.push_bind(id)
                    .push_bind(*host)
                    .push_bind(*batch)
                    .push_bind(*position)
                    .push_bind("pending")
                    .push_bind("-")
                    .push_bind(None::<String>)
                    .push_bind("")
                    .push_bind(new.started);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Rollout `id`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployment(&self, id: i64) -> Result<Option<Deployment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d JOIN releases r ON r.id = d.release_id WHERE d.id = ?"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| deployment_of(&row)).transpose()
    }

    /// The newest `limit` rollouts, newest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployments(&self, limit: u32) -> Result<Vec<Deployment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d JOIN releases r ON r.id = d.release_id ORDER BY d.id DESC LIMIT ?"
        )))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(deployment_of).collect()
    }

    /// The rollouts that have not ended (running or paused), oldest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn unfinished_deployments(&self) -> Result<Vec<Deployment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d JOIN releases r ON r.id = d.release_id \
             WHERE d.state IN ('running', 'paused') ORDER BY d.id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(deployment_of).collect()
    }

    /// The hosts of rollout `id`, in the rollout's order.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployment_hosts(&self, id: i64) -> Result<Vec<DeploymentHost>> {
        let rows = sqlx::query(
            "SELECT host, batch, position, state, step, previous, output, updated FROM deployment_hosts \
             WHERE deployment_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeploymentHost {
                    host: row.try_get("host")?,
                    batch: row.try_get("batch")?,
                    position: row.try_get("position")?,
                    state: row.try_get("state")?,
                    step: row.try_get("step")?,
                    previous: row.try_get("previous")?,
                    output: row.try_get("output")?,
                    updated: row.try_get("updated")?,
                })
            })
            .collect()
    }

    /// Changes hosts of rollout `id` as `updates` say, in one transaction.
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when the rollout has no such host (nothing is written then).
    pub async fn update_deployment_hosts(&self, id: i64, updates: &[HostUpdate], now: Millis) -> Result<()> {
        let mut tx = self.write().await?;
        for update in updates {
            let changed = sqlx::query(
                "UPDATE deployment_hosts SET state = ?, step = ?, previous = COALESCE(?, previous), output = ?, updated = ? \
                 WHERE deployment_id = ? AND host = ?",
            )
            .bind(&update.state)
            .bind(&update.step)
            .bind(&update.previous)
            .bind(check::output(&update.output))
            .bind(now)
            .bind(id)
            .bind(&update.host)
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(RecordError::NotFound {
                    what: "deployment host",
                    key: format!("{id} {}", update.host),
                });
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves rollout `id` from one of the states `from` to `to`, with `detail` (and `ended`, for a
    /// final state): whether it was in one of them.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn set_deployment_state(
        &self,
        id: i64,
        from: &[DeploymentState],
        to: DeploymentState,
        detail: &str,
        now: Millis,
    ) -> Result<bool> {
        let placeholders = vec!["?"; from.len().max(1)].join(", ");
        let statement = format!(
            "UPDATE deployments SET state = ?, detail = ?, ended = ? WHERE id = ? AND state IN ({placeholders})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(to.as_str())
            .bind(check::output(detail))
            .bind(to.is_final().then_some(now))
            .bind(id);
        for state in from {
            query = query.bind(state.as_str());
        }
        if from.is_empty() {
            query = query.bind("");
        }
        let mut tx = self.write().await?;
        let changed = query.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(changed > 0)
    }

    /// Makes `batch` the batch in hand of rollout `id`.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn set_deployment_batch(&self, id: i64, batch: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE deployments SET batch = ? WHERE id = ?")
            .bind(batch)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The version of service `name` each host runs, as the rollouts recorded it: the release of
    /// the newest rollout that left the host on it (`done`, `unhealthy` or `kept`), or the version
    /// one put it back to (`rolled_back`).
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployed_versions(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query(
            "SELECT h.host, r.version, h.state, h.previous FROM deployment_hosts h \
             JOIN deployments d ON d.id = h.deployment_id JOIN releases r ON r.id = d.release_id \
             WHERE r.name = ? AND h.state IN ('done', 'unhealthy', 'kept', 'rolled_back') ORDER BY d.id",
        )
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        let mut versions = BTreeMap::new();
        for row in rows {
            let host: String = row.try_get("host")?;
            let state: String = row.try_get("state")?;
            let version: Option<String> =
                if state == "rolled_back" { row.try_get("previous")? } else { Some(row.try_get("version")?) };
            match version {
                Some(version) => versions.insert(host, version),
                None => versions.remove(&host),
            };
        }
        Ok(versions)
    }

    /// Records that run `run` belongs to `link`'s rollout and batch.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails (no such run or rollout among them).
    pub async fn link_run(&self, run: i64, link: &RunLink) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO deployment_runs (run_id, deployment_id, batch, purpose) VALUES (?, ?, ?, ?)",
        )
        .bind(run)
        .bind(link.deployment)
        .bind(link.batch)
        .bind(link.purpose.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The runs rollout `id` started for `batch` with `purpose`, oldest first.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn deployment_runs(&self, id: i64, batch: i64, purpose: RunPurpose) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT run_id FROM deployment_runs WHERE deployment_id = ? AND batch = ? AND purpose = ? ORDER BY run_id",
        )
        .bind(id)
        .bind(batch)
        .bind(purpose.as_str())
        .fetch_all(self.pool())
        .await?)
    }
}

fn release_of(row: &AnyRow) -> Result<Release> {
    Ok(Release {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        manifest: row.try_get("manifest")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded: row.try_get("uploaded")?,
    })
}

fn deployment_of(row: &AnyRow) -> Result<Deployment> {
    let state: String = row.try_get("state")?;
    Ok(Deployment {
        id: row.try_get("id")?,
        release_id: row.try_get("release_id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        user: row.try_get("user_name")?,
        target: row.try_get("target")?,
        strategy: row.try_get("strategy")?,
        // The schema's CHECK admits only the states there are.
        state: DeploymentState::parse(&state).unwrap_or(DeploymentState::Failed),
        batch: row.try_get("batch")?,
        detail: row.try_get("detail")?,
        started: row.try_get("started")?,
        ended: row.try_get("ended")?,
    })
}
