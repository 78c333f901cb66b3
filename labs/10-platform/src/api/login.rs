//! `POST /api/login`, `POST /api/logout` and `GET /api/me`: a session begun, ended, and shown.
//! The cookie is set here with its attributes; what a session is, and the checks, are
//! [`crate::platform::Platform::login`]'s and [`super::Caller`]'s.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Caller, SESSION_COOKIE, ok, parse_body};
use crate::now_millis;
use crate::platform::{Platform, Refusal, SESSION_LIFETIME};

/// The client's address, when the server was started with connection info; loopback otherwise
/// (a router driven in-process).
fn client_address(parts: &axum::http::Extensions) -> IpAddr {
    parts.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |info| info.0.ip())
}

/// A login.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    user: String,
    password: String,
}

/// `POST /api/login`: a session in the cookie, and its CSRF token in the body. The request must be
/// JSON, which a page of another site cannot send without the server's leave.
pub async fn login(State(platform): State<Arc<Platform>>, request: axum::extract::Request) -> Response {
    // A form on another site can post here too (a "login CSRF": the victim logged in as the
    // attacker), but only as a form's content types; JSON from another site needs a CORS
    // preflight, which this server never grants. So a login must say it is JSON.
    let json = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(
        |value| value.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"),
    );
    if !json {
        let reason = "must be application/json: a form from another site cannot send it";
        return Answer::from(Refusal::Invalid { field: "content-type".into(), reason: reason.into() })
            .into_response();
    }
    let address = client_address(request.extensions());
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(body) => body,
        Err(_) => {
            return Answer::from(Refusal::Invalid { field: "body".into(), reason: "is too large".into() })
                .into_response();
        }
    };
    let login: Login = match parse_body(&body) {
        Ok(login) => login,
        Err(refusal) => return Answer::from(refusal).into_response(),
    };
    match platform.login(&login.user, &login.password, address, now_millis()).await {
        Ok((token, session)) => {
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                SESSION_LIFETIME.as_secs()
            );
            let mut response = ok(json!({ "user": session.user, "csrf": session.csrf })).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(refusal) => Answer::from(refusal).into_response(),
    }
}

/// `POST /api/logout`: the session ends, and the cookie with it.
pub async fn logout(State(platform): State<Arc<Platform>>, caller: Caller, _body: Bytes) -> Response {
    if let Err(err) = platform.sessions.end(&caller.token).await {
        return Answer::from(Refusal::from(err)).into_response();
    }
    platform.audit(now_millis(), &caller.session.user, "logout", "", "allowed", "").await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /api/me`: who the session is, their role, and the CSRF token for the page's requests.
pub async fn me(State(platform): State<Arc<Platform>>, caller: Caller) -> Answer {
    match platform.grant(&caller.session.user).await {
        Ok(grant) => ok(json!({
            "user": caller.session.user,
            "role": grant.role(),
            "admin": grant.is_admin(),
            "targets": grant.targets(),
            "csrf": caller.session.csrf,
        })),
        Err(refusal) => refusal.into(),
    }
}
