//! What only admins may do: see, add and change users (a role, disabled, a new password), see and
//! change roles, read the audit log. Each refusal is audited by the platform.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Caller, ok, parse_body};
use crate::now_millis;
use crate::platform::{Platform, Refusal, UserChange};
use crate::records::{AuditQuery, Role};

/// A user to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    password: String,
}

/// What a role allows, as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    commands: Vec<String>,
    targets: String,
    #[serde(default)]
    admin: bool,
}

/// `GET /api/users`: every user, without their hashes.
pub async fn users(State(platform): State<Arc<Platform>>, caller: Caller) -> Answer {
    let listed = async {
        platform.require_admin(&caller.session.user, "user.list", "", now_millis()).await?;
        let users = platform.records.users().await?;
        Ok::<_, Refusal>(
            users
                .iter()
                .map(|u| json!({ "name": u.name, "role": u.role, "created": u.created, "disabled": u.disabled }))
                .collect::<Vec<_>>(),
        )
    };
    match listed.await {
        Ok(users) => ok(users),
        Err(refusal) => refusal.into(),
    }
}

/// `POST /api/users`: 201 once added.
pub async fn add_user(State(platform): State<Arc<Platform>>, caller: Caller, body: Bytes) -> Answer {
    let user: NewUser = match parse_body(&body) {
        Ok(user) => user,
        Err(refusal) => return refusal.into(),
    };
    match platform.add_user(&caller.session.user, &user.name, &user.role, &user.password, now_millis()).await
    {
        Ok(()) => Answer::Data(StatusCode::CREATED, json!({ "name": user.name, "role": user.role })),
        Err(refusal) => refusal.into(),
    }
}

/// A change to a user: each field left out stays as it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    password: Option<String>,
}

/// `PATCH /api/users/{name}`: a new role, disabled or enabled, a new password; a user disabled or
/// given a new password is logged out everywhere.
pub async fn change_user(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let body: ChangeBody = match parse_body(&body) {
        Ok(body) => body,
        Err(refusal) => return refusal.into(),
    };
    let change = UserChange { role: body.role, disabled: body.disabled, password: body.password };
    match platform.change_user(&caller.session.user, &name, &change, now_millis()).await {
        Ok(()) => ok(json!({ "name": name })),
        Err(refusal) => refusal.into(),
    }
}

/// `GET /api/roles`: every role.
pub async fn roles(State(platform): State<Arc<Platform>>, caller: Caller) -> Answer {
    let listed = async {
        platform.require_admin(&caller.session.user, "role.list", "", now_millis()).await?;
        Ok::<_, Refusal>(platform.records.roles().await?)
    };
    match listed.await {
        Ok(roles) => ok(roles
            .iter()
            .map(
                |r| json!({ "name": r.name, "commands": r.commands, "targets": r.targets, "admin": r.admin }),
            )
            .collect::<Vec<_>>()),
        Err(refusal) => refusal.into(),
    }
}

/// `PUT /api/roles/{name}`: records the role.
pub async fn put_role(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let body: RoleBody = match parse_body(&body) {
        Ok(body) => body,
        Err(refusal) => return refusal.into(),
    };
    let role = Role { name, commands: body.commands, targets: body.targets, admin: body.admin };
    match platform.put_role(&caller.session.user, &role, now_millis()).await {
        Ok(()) => ok(json!({ "name": role.name })),
        Err(refusal) => refusal.into(),
    }
}

/// The audit log's filters.
#[derive(Debug, Deserialize)]
pub struct AuditFilter {
    user: Option<String>,
    action: Option<String>,
    since: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/audit?user=…&action=…&since=…&limit=…`: the newest entries first.
pub async fn audit(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    Query(filter): Query<AuditFilter>,
) -> Answer {
    let read = async {
        platform.require_admin(&caller.session.user, "audit.read", "", now_millis()).await?;
        let query = AuditQuery {
            user: filter.user,
            action: filter.action,
            since: filter.since,
            limit: filter.limit.unwrap_or(100).min(10_000),
        };
        Ok::<_, Refusal>(platform.records.audit_log(&query).await?)
    };
    match read.await {
        Ok(entries) => ok(entries
            .iter()
            .map(|e| {
                json!({ "id": e.id, "at": e.entry.at, "user": e.entry.user, "action": e.entry.action,
                        "target": e.entry.target, "outcome": e.entry.outcome, "detail": e.entry.detail })
            })
            .collect::<Vec<_>>()),
        Err(refusal) => refusal.into(),
    }
}
