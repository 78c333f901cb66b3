//! Who is asking: the session named by the request's cookie, and, for a request that changes
//! anything, its CSRF token checked.
//!
//! The cookie is `HttpOnly` (no script reads it, so a page that injected one cannot steal it) and
//! `SameSite=Strict` (a browser sends it with no request another site starts). The CSRF token is
//! the second lock: a request that changes anything must also carry it in `X-CSRF-Token`, which a
//! page of another origin can neither read nor set.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use super::Answer;
use crate::auth::Session;
use crate::now_millis;
use crate::platform::{Platform, Refusal};

/// The cookie that carries the session's token.
pub const SESSION_COOKIE: &str = "platform_session";

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A logged-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The session's token, as the cookie had it.
    pub token: String,
    /// The session.
    pub session: Session,
}

impl FromRequestParts<Arc<Platform>> for Caller {
    type Rejection = Answer;

    async fn from_request_parts(parts: &mut Parts, platform: &Arc<Platform>) -> Result<Caller, Answer> {
        todo!(
            "stage 2: the session cookie's token, the platform's session for it; for a method other than GET, HEAD or OPTIONS, the X-CSRF-Token header must be the session's CSRF token, else the refusal is audited and Csrf"
        )
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    todo!("stage 2: split each Cookie header on semicolons into name=value pairs, and find the name")
}
