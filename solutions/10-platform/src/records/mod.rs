//! The platform's records in SQL: hosts and their tags, users and roles, alert rules, monitoring
//! scripts and their versions, command runs with every host's result, and the audit log.
//!
//! One [`Records`] is a pool of connections to one database, SQLite (embedded: a file, nothing to
//! install) or MariaDB (a server, by URL), through sqlx's `Any` driver, so every query is written
//! once. The schema is not: each backend has its own migrations (`migrations/sqlite`,
//! `migrations/mysql`), applied in order when the records are opened, and the few statements that
//! differ between the two are in [`dialect`]. Every value reaches SQL as a bound parameter, never
//! in the statement's text, and is checked first ([`check`]) so that both backends take and
//! refuse the same things.
//!
//! The time series stay in lab 08's store: a row per point would make SQL the slowest part of the
//! platform, and a relational database gives them nothing they need.

pub mod audit;
pub mod check;
pub mod dialect;
pub mod hosts;
pub mod leadership;
pub mod releases;
pub mod rules;
pub mod runs;
pub mod scripts;
pub mod sessions;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, SqlSafeStr};

pub use audit::{AuditEntry, AuditQuery, NewAudit};
pub use hosts::Host;
pub use leadership::Leader;
pub use releases::{
    Deployment, DeploymentHost, DeploymentState, HostUpdate, NewDeployment, NewRelease, Release, RunLink,
    RunPurpose,
};
pub use rules::RuleRecord;
pub use runs::{HostResult, NewRun, Run, RunState};
pub use scripts::{NewScriptVersion, Script, ScriptVersion};
pub use sessions::SessionRecord;
pub use users::{Role, User};

/// Milliseconds since the Unix epoch: every time the records keep. The caller says what time it
/// is, so a test can.
pub type Millis = i64;

/// Which database a [`Records`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded: `sqlite://PATH` or `sqlite::memory:`.
    Sqlite,
    /// MariaDB (or MySQL): `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (`mariadb://` is taken too).
    MariaDb,
}

/// The schema's version once every migration of this crate is applied.
pub const SCHEMA_VERSION: i64 = 4;

/// What can go wrong with the records, each naming the record or field at fault.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The URL names no database this crate can open.
    #[error(
        "unsupported database URL {url:?}: use sqlite://PATH, sqlite::memory: or mysql://USER:PASSWORD@HOST/DB"
    )]
    BadUrl {
        /// The URL, without its password.
        url: String,
    },
    /// A value was refused before it reached the database: the field and why.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, as `host.name` or `tags.dc`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A record with this key exists already.
    #[error("{what} {key:?} exists already")]
    Conflict {
        /// The kind of record, as `host`.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// No record has this key.
    #[error("no {what} {key:?}")]
    NotFound {
        /// The kind of record, as `host`.
        what: &'static str,
        /// The key asked for.
        key: String,
    },
    /// A migration could not be applied, or the database's schema is newer than this crate's.
    #[error("migrating the schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A leader's write refused: another server has led since with a higher fencing token, so
    /// this one was deposed (see [`Records::lead`]).
    #[error("fenced: this server led with token {token}, and a newer leader holds token {current}")]
    Fenced {
        /// This server's token.
        token: i64,
        /// The newest leader's.
        current: i64,
    },
    /// The database refused or failed a statement, or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A result whose error is a [`RecordError`].
pub type Result<T> = std::result::Result<T, RecordError>;

/// The platform's records: a pool of connections to one database whose schema is up to date.
/// Cloning shares the pool.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::collections::BTreeMap;
/// use platform::records::Records;
///
/// let records = Records::open("sqlite::memory:").await?;
/// let tags = BTreeMap::from([("dc".to_string(), "bj".to_string())]);
/// records.add_host("web1", &tags, 1_700_000_000_000).await?;
/// assert_eq!(records.hosts_tagged("dc", "bj").await?, ["web1"]);
/// # Ok::<(), platform::records::RecordError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Records {
    pool: AnyPool,
    backend: Backend,
    /// The fencing token of the leadership these records write for, once [`Records::lead`] gave
    /// one: every write checks it first. `None`: a server with no standby, which writes freely.
    fence: Option<i64>,
}

impl Records {
    /// Connects to the database at `url` and applies every migration it has not had yet.
    ///
    /// A SQLite file is made when missing, and kept in write-ahead-log mode with every commit
    /// synced, so a transaction that returned is on disk even if the process is killed next.
    ///
    /// # Errors
    ///
    /// [`RecordError::BadUrl`] for a URL of another kind, [`RecordError::Database`] when the
    /// database cannot be reached, [`RecordError::Migrate`] when a migration fails or the database
    /// has one this crate does not know (it was made by a newer version).
    pub async fn open(url: &str) -> Result<Records> {
        sqlx::any::install_default_drivers();
        let (backend, url) = backend_of(url)?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = AnyConnectOptions::from_str(&url)?;
        // Every connection to an in-memory SQLite database is a database of its own: one
        // connection, kept for ever, is the only way to see one database.
        let pool_options = if in_memory {
            AnyPoolOptions::new().max_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            AnyPoolOptions::new().max_connections(8)
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    for statement in dialect::on_connect(backend) {
                        connection.execute(*statement).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        migrator(backend).run(&pool).await?;
        Ok(Records { pool, backend, fence: None })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The version of the newest migration applied.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database cannot be asked.
    pub async fn schema_version(&self) -> Result<i64> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// Closes every connection, waiting for the ones in use to be given back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for the modules that query it.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `attempt` (a whole transaction) up to eight times while it fails only because it
    /// lost a race: for a lock (an InnoDB deadlock), or for a key (it found a row missing, and
    /// another transaction added it before this one could). The database undid it, so running it
    /// again is safe, and the next attempt sees the winner's row. Any other outcome is returned as
    /// it is.
    pub(crate) async fn retrying<'a, T>(
        &self,
        attempt: impl Fn() -> Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>,
    ) -> Result<T> {
        let mut pause = Duration::from_millis(2);
        for _ in 0..7 {
            match attempt().await {
                Err(RecordError::Database(err))
                    if dialect::is_retryable(&err) || dialect::is_conflict(&err) =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => return other,
            }
        }
        attempt().await
    }

    /// A transaction that will write, begun as [`dialect::begin_write`] says; for a leader's
    /// records, only once the fence says the leadership is still this server's.
    pub(crate) async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin_with(dialect::begin_write(self.backend)).await?;
        self.check_fence(&mut tx).await?;
        Ok(tx)
    }
}

/// The backend a URL names, and the URL as sqlx takes it: `mariadb://` becomes `mysql://`, and a
/// SQLite file is made when missing.
fn backend_of(url: &str) -> Result<(Backend, String)> {
    if let Some(rest) = url.strip_prefix("mariadb://") {
        return Ok((Backend::MariaDb, format!("mysql://{rest}")));
    }
    if url.starts_with("mysql://") {
        return Ok((Backend::MariaDb, url.to_string()));
    }
    if url == "sqlite::memory:" {
        return Ok((Backend::Sqlite, url.to_string()));
    }
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
        && !path.is_empty()
    {
        let url = if path.contains("mode=") {
            format!("sqlite://{path}")
        } else if path.contains('?') {
            format!("sqlite://{path}&mode=rwc")
        } else {
            format!("sqlite://{path}?mode=rwc")
        };
        return Ok((Backend::Sqlite, url));
    }
    Err(RecordError::BadUrl { url: without_password(url) })
}

/// `url` with any password replaced by `***`, for messages.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The migrations for `backend`, embedded in the binary: one schema history per dialect, with the
/// same versions.
fn migrator(backend: Backend) -> Migrator {
    let sources: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[
            (1, "records", include_str!("migrations/sqlite/0001_records.sql")),
            (2, "sessions", include_str!("migrations/sqlite/0002_sessions.sql")),
            (3, "releases", include_str!("migrations/sqlite/0003_releases.sql")),
            (4, "leadership", include_str!("migrations/sqlite/0004_leadership.sql")),
        ],
        Backend::MariaDb => &[
            (1, "records", include_str!("migrations/mysql/0001_records.sql")),
            (2, "sessions", include_str!("migrations/mysql/0002_sessions.sql")),
            (3, "releases", include_str!("migrations/mysql/0003_releases.sql")),
            (4, "leadership", include_str!("migrations/mysql/0004_leadership.sql")),
        ],
    };
    let migrations = sources
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(*version, (*name).into(), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(backend_of("sqlite::memory:").unwrap().0, Backend::Sqlite);
        assert_eq!(backend_of("sqlite:///tmp/x.db").unwrap().1, "sqlite:///tmp/x.db?mode=rwc");
        assert_eq!(backend_of("sqlite://x.db?mode=ro").unwrap().1, "sqlite://x.db?mode=ro");
        assert_eq!(backend_of("mariadb://u:p@h/db").unwrap(), (Backend::MariaDb, "mysql://u:p@h/db".into()));
        assert!(
            matches!(backend_of("postgres://u:secret@h/db"), Err(RecordError::BadUrl { url }) if url == "postgres://u:***@h/db")
        );
        assert!(backend_of("sqlite:").is_err());
    }
}
