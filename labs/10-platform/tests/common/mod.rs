//! What the stage tests share: the databases every storage test runs on. SQLite, in a scratch
//! file, always; MariaDB too when `PLATFORM_MARIADB_URL` names a server whose user may create
//! databases named `platform…` (CI starts one; `solutions/10-platform/mariadb.sh start DIR` starts
//! one anywhere and prints its URL). Each test gets a database of its own.

#![allow(dead_code)] // each stage's test file uses its own part of this

use std::sync::atomic::{AtomicUsize, Ordering};

use platform::records::Records;
use sqlx::Connection;
use testkit::TempDir;

/// The variable that names a MariaDB server to test on as well.
pub const MARIADB_URL: &str = "PLATFORM_MARIADB_URL";

/// A fresh database for one test.
pub struct TestDb {
    /// `sqlite` or `mariadb`, for messages.
    pub name: &'static str,
    /// The URL it was opened with.
    pub url: String,
    /// The records, opened and migrated.
    pub records: Records,
    _dir: Option<TempDir>,
}

/// A fresh, empty database on every backend there is, opened.
pub async fn databases() -> Vec<TestDb> {
    let mut databases = Vec::new();
    for (name, url, dir) in database_urls().await {
        let records =
            Records::open(&url).await.unwrap_or_else(|err| panic!("{name}: cannot open {url}: {err}"));
        databases.push(TestDb { name, url, records, _dir: dir });
    }
    databases
}

/// The URL of a fresh database on every backend there is (not opened yet), each with the
/// directory that must outlive it.
pub async fn database_urls() -> Vec<(&'static str, String, Option<TempDir>)> {
    let dir = testkit::scratch_dir();
    let sqlite = format!("sqlite://{}", dir.path().join("records.db").display());
    let mut urls = vec![("sqlite", sqlite, Some(dir))];
    if let Some(url) = mariadb_database().await {
        urls.push(("mariadb", url, None));
    }
    urls
}

/// A new, empty database on the MariaDB server `PLATFORM_MARIADB_URL` names, if it names one.
async fn mariadb_database() -> Option<String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let url = std::env::var(MARIADB_URL).ok().filter(|url| !url.is_empty())?;
    let (server, _database) =
        url.rsplit_once('/').unwrap_or_else(|| panic!("{MARIADB_URL}: no database in {url}"));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("platform_t{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("{MARIADB_URL}: cannot connect: {err}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|err| panic!("{MARIADB_URL}: cannot create a database: {err}"));
    let _ = admin.close().await;
    Some(format!("{server}/{name}"))
}
