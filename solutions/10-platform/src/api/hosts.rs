//! `GET /api/hosts` and `GET /api/hosts/{name}`: the hosts the records know and those connected
//! to the control master, with their tags and whether they are connected now, as the
//! [`crate::directory::Directory`] keeps them.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Answer, Caller, ok};
use crate::platform::{Platform, Refusal};

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

/// `GET /api/hosts?offset=N&limit=N`: a page of hosts by name, how many there are, and how many
/// are connected.
pub async fn list(
    State(platform): State<Arc<Platform>>,
    _caller: Caller,
    Query(page): Query<Page>,
) -> Response {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        let refusal =
            Refusal::Invalid { field: "limit".into(), reason: format!("is not from 1 to {MAX_PAGE}") };
        return Answer::from(refusal).into_response();
    }
    match platform.directory.fleet().await {
        Ok(fleet) => {
            // The page is the hosts' JSON, made once per refresh of the directory, joined.
            let shown: Vec<&str> =
                fleet.json.iter().skip(page.offset.unwrap_or(0)).take(limit).map(String::as_str).collect();
            let body = format!(
                "{{\"status\":\"success\",\"data\":{{\"total\":{},\"connected\":{},\"hosts\":[{}]}}}}",
                fleet.hosts.len(),
                fleet.connected,
                shown.join(",")
            );
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(err) => Answer::from(Refusal::from(err)).into_response(),
    }
}

/// `GET /api/hosts/{name}`: one host.
pub async fn one(State(platform): State<Arc<Platform>>, _caller: Caller, Path(name): Path<String>) -> Answer {
    match platform.directory.fleet().await {
        Ok(fleet) => match fleet.host(&name) {
            Some(host) => ok(host),
            None => Refusal::NotFound(format!("no host {name:?}")).into(),
        },
        Err(err) => Refusal::from(err).into(),
    }
}
