//! What every request reads, kept in memory for a moment: the hosts as the API and the dashboard
//! show them (the records' hosts with their tags, and whether each is connected to the control
//! master now), and whether a user may still be logged in. Read from the records at most once a
//! [`Directory::ttl`] each, by one request while the others wait for it, so a thousand requests a
//! second cost one query a second, not a thousand.
//!
//! What this costs is staleness: a host added, or a user disabled, shows within a second. Both are
//! also dropped at once when the platform itself makes the change.
//!
//! The parts are the stages' work; this file only keeps them near, so it is given.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::commands::Commands;
use crate::records::{RecordError, Records};

/// How long what was read stays good.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// A host, as the API and the dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Whether its agent is connected to the control master now.
    pub connected: bool,
}

/// Every host at one moment, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fleet {
    /// The hosts, sorted by name.
    pub hosts: Vec<HostView>,
    /// How many are connected.
    pub connected: usize,
    /// Each host as JSON, in the same order: a page of the host list is these joined, not
    /// serialised again for every request.
    pub json: Vec<String>,
}

impl Fleet {
    /// The host called `name`.
    pub fn host(&self, name: &str) -> Option<&HostView> {
        self.hosts.binary_search_by(|host| host.name.as_str().cmp(name)).ok().map(|at| &self.hosts[at])
    }
}

/// The cached views.
#[derive(Debug)]
pub struct Directory {
    records: Records,
    commands: Option<Commands>,
    fleet: Mutex<Option<(Instant, Arc<Fleet>)>>,
    refreshing: tokio::sync::Mutex<()>,
    users: Mutex<HashMap<String, (Instant, bool)>>,
}

impl Directory {
    /// Views of `records` and of the master behind `commands`.
    pub fn new(records: Records, commands: Option<Commands>) -> Directory {
        Directory {
            records,
            commands,
            fleet: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            users: Mutex::new(HashMap::new()),
        }
    }

    /// How long a view stays good.
    pub fn ttl(&self) -> Duration {
        FRESH_FOR
    }

    /// Every host: those recorded, and those connected without a record (with the tags they
    /// said), sorted by name.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be read.
    pub async fn fleet(&self) -> Result<Arc<Fleet>, RecordError> {
        if let Some(fleet) = self.fresh_fleet() {
            return Ok(fleet);
        }
        // One request reads; the others wait for it and take what it read.
        let _refreshing = self.refreshing.lock().await;
        if let Some(fleet) = self.fresh_fleet() {
            return Ok(fleet);
        }
        let fleet = Arc::new(self.read_fleet().await?);
        *self.fleet.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), Arc::clone(&fleet)));
        Ok(fleet)
    }

    /// Whether `user` exists and is not disabled.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the records cannot be read.
    pub async fn is_active(&self, user: &str) -> Result<bool, RecordError> {
        let cached = self.users.lock().unwrap_or_else(PoisonError::into_inner).get(user).copied();
        if let Some((at, active)) = cached
            && at.elapsed() < FRESH_FOR
        {
            return Ok(active);
        }
        let active = self.records.user(user).await?.is_some_and(|record| !record.disabled);
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if users.len() >= 100_000 {
            users.clear();
        }
        users.insert(user.to_string(), (Instant::now(), active));
        Ok(active)
    }

    /// Drops what is kept: the next read goes to the records.
    pub fn forget(&self) {
        *self.fleet.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.users.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The fleet kept, if it is still good.
    fn fresh_fleet(&self) -> Option<Arc<Fleet>> {
        let kept = self.fleet.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref().filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, fleet)| Arc::clone(fleet))
    }

    /// The fleet, read now.
    async fn read_fleet(&self) -> Result<Fleet, RecordError> {
        let connected = self.commands.as_ref().map(Commands::connected).unwrap_or_default();
        let mut hosts: Vec<HostView> = self
            .records
            .hosts()
            .await?
            .into_iter()
            .map(|host| HostView {
                connected: connected.contains_key(&host.name),
                name: host.name,
                tags: host.tags,
            })
            .collect();
        let recorded: BTreeSet<&str> = hosts.iter().map(|host| host.name.as_str()).collect();
        let unrecorded: Vec<HostView> = connected
            .iter()
            .filter(|(name, _)| !recorded.contains(name.as_str()))
            .map(|(name, tags)| HostView { name: name.clone(), tags: tags.clone(), connected: true })
            .collect();
        hosts.extend(unrecorded);
        hosts.sort_by(|a, b| a.name.cmp(&b.name));
        let connected = hosts.iter().filter(|host| host.connected).count();
        let json = hosts.iter().map(|host| serde_json::to_string(host).unwrap_or_default()).collect();
        Ok(Fleet { hosts, connected, json })
    }
}
