//! `GET /api/hosts` and `GET /api/hosts/{name}`: the hosts the records know and those connected
//! to the control master, with their tags and whether they are connected now.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::{Answer, Caller, ok};
use crate::platform::{Platform, Refusal};

/// A host, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Whether its agent is connected to the control master now.
    pub connected: bool,
}

/// The page of hosts asked for.
#[derive(Debug, Deserialize)]
pub struct Page {
    offset: Option<usize>,
    limit: Option<usize>,
}

/// The most hosts one page holds, and how many when not asked.
pub const MAX_PAGE: usize = 1_000;
/// How many hosts a page holds when not asked.
pub const DEFAULT_PAGE: usize = 100;

/// Every host, by name: those recorded, and those connected without a record (with the tags
/// they said).
///
/// # Errors
///
/// A [`Refusal`] when the records cannot be read.
pub async fn all_hosts(platform: &Platform) -> Result<Vec<HostView>, Refusal> {
    let connected = platform.commands.as_ref().map(|commands| commands.connected()).unwrap_or_default();
    let mut hosts: Vec<HostView> = platform
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
    let recorded: BTreeSet<String> = hosts.iter().map(|host| host.name.clone()).collect();
    hosts.extend(
        connected.into_iter().filter(|(name, _)| !recorded.contains(name)).map(|(name, tags)| HostView {
            name,
            tags,
            connected: true,
        }),
    );
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(hosts)
}

/// `GET /api/hosts?offset=N&limit=N`: a page of hosts by name, and how many there are.
pub async fn list(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Query(page): Query<Page>,
) -> Answer {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Refusal::Invalid { field: "limit".into(), reason: format!("is not from 1 to {MAX_PAGE}") }
            .into();
    }
    match all_hosts(&platform).await {
        Ok(hosts) => {
            let total = hosts.len();
            let page: Vec<HostView> = hosts.into_iter().skip(page.offset.unwrap_or(0)).take(limit).collect();
            ok(serde_json::json!({ "total": total, "hosts": page }))
        }
        Err(refusal) => refusal.into(),
    }
}

/// `GET /api/hosts/{name}`: one host.
pub async fn one(State(platform): State<Arc<Platform>>, _caller: Caller, Path(name): Path<String>) -> Answer {
    match all_hosts(&platform).await {
        Ok(hosts) => match hosts.into_iter().find(|host| host.name == name) {
            Some(host) => ok(host),
            None => Refusal::NotFound(format!("no host {name:?}")).into(),
        },
        Err(refusal) => refusal.into(),
    }
}
