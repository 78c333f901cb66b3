//! Hosts and their tags: the machines the platform knows, by name, each with `key=value` tags
//! that targets and dashboards select on.

use std::collections::BTreeMap;

use sqlx::{Acquire, Any, QueryBuilder, Row};

use super::{Millis, RecordError, Records, Result, check, dialect};

/// A host, as the records keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its name, unique (compared byte for byte: `Web1` and `web1` are two hosts).
    pub name: String,
    /// Its tags, one value a key.
    pub tags: BTreeMap<String, String>,
    /// When it was first recorded.
    pub added: Millis,
}

impl Records {
    /// Records a new host with its tags.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name (`host.name`) or tag (`host.tags`),
    /// [`RecordError::Conflict`] when a host of that name exists.
    pub async fn add_host(&self, name: &str, tags: &BTreeMap<String, String>, added: Millis) -> Result<Host> {
        check::name("host.name", name)?;
        check_tags(tags)?;
        let mut tx = self.write().await?;
        let inserted = sqlx::query("INSERT INTO hosts (name, added) VALUES (?, ?)")
            .bind(name)
            .bind(added)
            .execute(&mut *tx)
            .await
            .map_err(|err| conflict(err, name))?;
        let id = match inserted.last_insert_id() {
            Some(id) => id,
            None => host_id(&mut tx, name).await?,
        };
        insert_tags(&mut tx, id, tags).await?;
        tx.commit().await?;
        Ok(Host { name: name.to_string(), tags: tags.clone(), added })
    }

    /// Records every host of `hosts` that is not recorded yet, with its tags, and changes the tags
    /// of those that are to the ones given, all in one transaction. Returns how many were new.
    /// This is how the platform enrols a fleet at once.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name or tag (nothing is written then).
    pub async fn upsert_hosts(&self, hosts: &[Host]) -> Result<usize> {
        for host in hosts {
            check::name("host.name", &host.name)?;
            check_tags(&host.tags)?;
        }
        // In one order of names, so two enrolments of overlapping fleets take their row locks in
        // the same order; InnoDB's gap locks can still deadlock them, and then one runs again.
        // The whole transaction runs again, rather than each insert keeping an existing row:
        // the read of an id that follows such an insert would need a locking read on MariaDB,
        // and enrolments are rare enough that a rerun costs nothing anyone sees.
        let mut sorted: Vec<&Host> = hosts.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        self.retrying(|| Box::pin(self.upsert_sorted(&sorted))).await
    }

    /// [`Records::upsert_hosts`] of checked hosts, in order, as one transaction.
    async fn upsert_sorted(&self, hosts: &[&Host]) -> Result<usize> {
        let mut tx = self.write().await?;
        let mut new = 0;
        for host in hosts {
            let id = match recorded_id(&mut tx, &host.name).await? {
                Some(id) => {
                    sqlx::query("DELETE FROM host_tags WHERE host_id = ?").bind(id).execute(&mut *tx).await?;
                    id
                }
                None => {
                    new += 1;
                    let inserted = sqlx::query("INSERT INTO hosts (name, added) VALUES (?, ?)")
                        .bind(&host.name)
                        .bind(host.added)
                        .execute(&mut *tx)
                        .await?;
                    match inserted.last_insert_id() {
                        Some(id) => id,
                        None => host_id(&mut tx, &host.name).await?,
                    }
                }
            };
            insert_tags(&mut tx, id, &host.tags).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// The host called `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn host(&self, name: &str) -> Result<Option<Host>> {
        let row = sqlx::query("SELECT id, added FROM hosts WHERE name = ?")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let rows = sqlx::query("SELECT tag_key, tag_value FROM host_tags WHERE host_id = ?")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        let tags = rows
            .iter()
            .map(|row| Ok((row.try_get("tag_key")?, row.try_get("tag_value")?)))
            .collect::<Result<_>>()?;
        Ok(Some(Host { name: name.to_string(), tags, added: row.try_get("added")? }))
    }

    /// Every host, by name, with its tags.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn hosts(&self) -> Result<Vec<Host>> {
        // One query for every host and tag, ordered so each host's tags follow it: not a query
        // per host.
        let rows = sqlx::query(
            "SELECT h.name, h.added, t.tag_key, t.tag_value FROM hosts h \
             LEFT JOIN host_tags t ON t.host_id = h.id ORDER BY h.name, t.tag_key",
        )
        .fetch_all(self.pool())
        .await?;
        let mut hosts: Vec<Host> = Vec::new();
        for row in rows {
            let name: String = row.try_get("name")?;
            if hosts.last().is_none_or(|host| host.name != name) {
                hosts.push(Host { name, tags: BTreeMap::new(), added: row.try_get("added")? });
            }
            let key: Option<String> = row.try_get("tag_key")?;
            let value: Option<String> = row.try_get("tag_value")?;
            if let (Some(key), Some(value), Some(host)) = (key, value, hosts.last_mut()) {
                host.tags.insert(key, value);
            }
        }
        Ok(hosts)
    }

    /// The names of the hosts whose tag `key` is `value`, sorted.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn hosts_tagged(&self, key: &str, value: &str) -> Result<Vec<String>> {
        let names = sqlx::query_scalar(
            "SELECT h.name FROM hosts h JOIN host_tags t ON t.host_id = h.id \
             WHERE t.tag_key = ? AND t.tag_value = ? ORDER BY h.name",
        )
        .bind(key)
        .bind(value)
        .fetch_all(self.pool())
        .await?;
        Ok(names)
    }

    /// Replaces the tags of host `name` with `tags`.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad tag, [`RecordError::NotFound`] when no host has that
    /// name.
    pub async fn set_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        check_tags(tags)?;
        let mut tx = self.write().await?;
        let id = host_id(&mut tx, name).await?;
        sqlx::query("DELETE FROM host_tags WHERE host_id = ?").bind(id).execute(&mut *tx).await?;
        insert_tags(&mut tx, id, tags).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets host `name` and its tags (its past runs keep its name).
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when no host has that name.
    pub async fn remove_host(&self, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM hosts WHERE name = ?").bind(name).execute(&mut *tx).await?;
        tx.commit().await?;
        if deleted.rows_affected() == 0 {
            return Err(RecordError::NotFound { what: "host", key: name.to_string() });
        }
        Ok(())
    }
}

/// Checks every tag's key and value.
fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (key, value) in tags {
        check::name("host.tags", key)?;
        if value.chars().count() > check::MAX_NAME || value.chars().any(char::is_control) {
            return Err(check::invalid(
                &format!("host.tags.{key}"),
                "is longer than 255 characters or holds a control character",
            ));
        }
    }
    Ok(())
}

/// The id of host `name`, inside a transaction.
async fn host_id(tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str) -> Result<i64> {
    recorded_id(tx, name).await?.ok_or_else(|| RecordError::NotFound { what: "host", key: name.to_string() })
}

/// The id of the host called `name`, if it is recorded.
async fn recorded_id(tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM hosts WHERE name = ?")
        .bind(name)
        .fetch_optional(tx.acquire().await?)
        .await?)
}

/// Writes the tags of host `id`, in as few statements as the parameter limit allows.
async fn insert_tags(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    tags: &BTreeMap<String, String>,
) -> Result<()> {
    let tags: Vec<(&String, &String)> = tags.iter().collect();
    for chunk in dialect::batches(&tags, 3, |(key, value)| key.len() + value.len()) {
        let mut insert = QueryBuilder::<Any>::new("INSERT INTO host_tags (host_id, tag_key, tag_value) ");
        insert.push_values(chunk, |mut row, (key, value)| {
            row.push_bind(id).push_bind(key.as_str()).push_bind(value.as_str());
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// A unique violation on insert, as the [`RecordError::Conflict`] it is.
fn conflict(err: sqlx::Error, name: &str) -> RecordError {
    if dialect::is_conflict(&err) {
        RecordError::Conflict { what: "host", key: name.to_string() }
    } else {
        RecordError::Database(err)
    }
}
