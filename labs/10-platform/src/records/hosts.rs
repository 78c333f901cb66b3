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
        todo!(
            "stage 1: check the name and tags, then in one write transaction insert the host and one host_tags row a tag; a unique violation is a Conflict"
        )
    }

    /// Records every host of `hosts` that is not recorded yet, with its tags, and changes the tags
    /// of those that are to the ones given, all in one transaction. Returns how many were new.
    /// This is how the platform enrols a fleet at once.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad name or tag (nothing is written then).
    pub async fn upsert_hosts(&self, hosts: &[Host]) -> Result<usize> {
        todo!(
            "stage 1: check everything first; then one transaction that inserts the missing hosts and replaces every host's tags; run it again when it loses a race for a lock or finds a host another enrolment just added"
        )
    }

    /// The host called `name`, if recorded.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn host(&self, name: &str) -> Result<Option<Host>> {
        todo!("stage 1: the host's row, then its tags")
    }

    /// Every host, by name, with its tags.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn hosts(&self) -> Result<Vec<Host>> {
        todo!("stage 1: one query joining hosts to their tags, ordered by name, folded into one Host a name")
    }

    /// The names of the hosts whose tag `key` is `value`, sorted.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`] when the database fails.
    pub async fn hosts_tagged(&self, key: &str, value: &str) -> Result<Vec<String>> {
        todo!("stage 1: a join of hosts and host_tags on the tag's key and value, by name")
    }

    /// Replaces the tags of host `name` with `tags`.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] for a bad tag, [`RecordError::NotFound`] when no host has that
    /// name.
    pub async fn set_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        todo!("stage 1: in one transaction: find the host or NotFound, delete its tags, insert the new ones")
    }

    /// Forgets host `name` and its tags (its past runs keep its name).
    ///
    /// # Errors
    ///
    /// [`RecordError::NotFound`] when no host has that name.
    pub async fn remove_host(&self, name: &str) -> Result<()> {
        todo!("stage 1: delete the host, its tags going with it; no row deleted is NotFound")
    }
}
