//! Stage 2, one API: passwords, sessions and CSRF tokens, the limit on wrong passwords, roles
//! checked on the server for every route, commands run through lab 09's master with every host's
//! result recorded, refusals audited, fields named, and text that is never SQL.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use axum::http::{Method, StatusCode, header};
use common::{Client, PASSWORD, TestPlatform, databases};
use platform::auth::password::{check_new_password, generate_password, hash_password, verify_password};
use platform::auth::session::token_hash;
use platform::auth::{Grant, LoginLimiter};
use platform::records::{
    AuditQuery, NewRun, RecordError, Records, Role, SCHEMA_VERSION, SessionRecord, User,
};
use serde_json::{Value, json};
use testkit::test;

const STAGING: &[(&str, &str)] = &[("env", "staging")];
const PRODUCTION: &[(&str, &str)] = &[("env", "prod")];

async fn platform_with_two_staging_hosts() -> TestPlatform {
    TestPlatform::start(&[("web1", STAGING), ("web2", STAGING)]).await
}

async fn audit_of(records: &Records, user: &str) -> Vec<(String, String, String)> {
    let query = AuditQuery { user: Some(user.into()), limit: 1_000, ..AuditQuery::default() };
    let entries = records.audit_log(&query).await.unwrap();
    entries.into_iter().map(|e| (e.entry.action, e.entry.outcome, e.entry.detail)).collect()
}

fn error_of(body: &Value) -> String {
    body["error"].as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------------------------
// The second migration

#[test(tokio)]
async fn the_second_migration_adds_sessions_and_jobs() {
    for common::TestDb { name, records, .. } in databases().await {
        assert_eq!(records.schema_version().await.unwrap(), SCHEMA_VERSION, "{name}");
        const { assert!(SCHEMA_VERSION >= 2, "the second migration, and any after it") };
        let user = User {
            name: "ada".into(),
            role: "admin".into(),
            password_hash: "$x".into(),
            created: 1,
            disabled: false,
        };
        let admin = Role { name: "admin".into(), commands: vec![], targets: "*".into(), admin: true };
        records.put_role(&admin).await.unwrap();
        records.add_user(&user).await.unwrap();
        let session = SessionRecord {
            token_hash: "ab".repeat(32),
            user: "ada".into(),
            csrf: "c".repeat(64),
            created: 10,
            expires: 20,
        };
        records.add_session(&session).await.unwrap();
        assert_eq!(records.session(&session.token_hash, 19).await.unwrap(), Some(session.clone()), "{name}");
        assert_eq!(records.session(&session.token_hash, 20).await.unwrap(), None, "{name}: expired");
        let err = records
            .add_session(&SessionRecord {
                user: "eve".into(),
                token_hash: "cd".repeat(32),
                ..session.clone()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        let err = records
            .add_session(&SessionRecord { token_hash: "AB".repeat(32), ..session.clone() })
            .await
            .unwrap_err();
        assert!(matches!(err, RecordError::Invalid { .. }), "{name}: {err:?}");
        assert_eq!(records.delete_expired_sessions(20).await.unwrap(), 1, "{name}");
        records.add_session(&session).await.unwrap();
        assert!(records.delete_session(&session.token_hash).await.unwrap(), "{name}: there was one");
        records.add_session(&session).await.unwrap();
        assert_eq!(records.delete_sessions_of("ada").await.unwrap(), 1, "{name}");
        assert!(!records.delete_session(&session.token_hash).await.unwrap(), "{name}");

        let run = records
            .start_run(&NewRun {
                user: "ada".into(),
                target: "*".into(),
                command: vec!["/bin/true".into()],
                hosts: vec![],
                started: 1,
            })
            .await
            .unwrap();
        assert_eq!(records.run_job(run).await.unwrap(), None, "{name}");
        records.set_run_job(run, u64::MAX - 7).await.unwrap();
        assert_eq!(records.run_job(run).await.unwrap(), Some(u64::MAX - 7), "{name}: the whole u64");
        assert!(
            matches!(records.set_run_job(run, 1).await.unwrap_err(), RecordError::Conflict { .. }),
            "{name}"
        );
        assert!(
            matches!(records.set_run_job(run + 1, 1).await.unwrap_err(), RecordError::NotFound { .. }),
            "{name}"
        );
        records.add_run_hosts(run, &["b".into(), "a".into()]).await.unwrap();
        records.add_run_hosts(run, &["a".into(), "c".into()]).await.unwrap();
        assert_eq!(records.run(run).await.unwrap().unwrap().hosts, 3, "{name}");
        assert_eq!(records.missing_hosts(run).await.unwrap(), ["a", "b", "c"], "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Passwords and the limit on wrong ones

#[test]
fn passwords_are_hashed_with_argon2id_salted_and_checked() {
    let first = hash_password(PASSWORD).unwrap();
    let second = hash_password(PASSWORD).unwrap();
    assert!(first.starts_with("$argon2id$"), "{first}");
    assert_ne!(first, second, "each hash has its own salt");
    assert!(verify_password(PASSWORD, &first) && verify_password(PASSWORD, &second));
    assert!(!verify_password("correct horse battery!", &first));
    assert!(!verify_password(PASSWORD, "not a hash"));
    assert!(!verify_password(PASSWORD, ""));
    assert!(!first.contains(PASSWORD));
    // Up to 1,024 bytes, and not one more.
    let longest = "p".repeat(1024);
    assert!(verify_password(&longest, &hash_password(&longest).unwrap()));
    assert!(hash_password(&"p".repeat(1025)).is_err());
    let hash_of_longer = hash_password(&longest).unwrap();
    assert!(!verify_password(&"p".repeat(1025), &hash_of_longer));
}

#[test]
fn new_passwords_are_checked_and_generated_ones_pass() {
    assert!(check_new_password("ada", "short").is_err());
    assert!(check_new_password("administrator", "Administrator").is_err());
    assert!(check_new_password("ada", &"x".repeat(1025)).is_err());
    assert!(check_new_password("ada", "ten chars!").is_ok());
    assert!(check_new_password("ada", &"x".repeat(1024)).is_ok());
    let generated = generate_password();
    assert_eq!(generated.chars().count(), 20);
    assert!(check_new_password("ada", &generated).is_ok());
    assert_ne!(generated, generate_password());
    assert!(generated.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)), "{generated}");
    let seen: std::collections::BTreeSet<char> =
        (0..20).flat_map(|_| generate_password().chars().collect::<Vec<_>>()).collect();
    assert!(seen.len() > 40, "the whole alphabet is used: {seen:?}");
}

#[test]
fn wrong_passwords_are_counted_in_a_sliding_window() {
    let limiter = LoginLimiter::new(60_000, 3, 5);
    let here = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let there = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    for at in [1_000, 2_000, 3_000] {
        assert_eq!(limiter.check("ada", here, at), Ok(()));
        limiter.failed("ada", here, at);
    }
    // Three failures for ada: refused until the first leaves the window, from any address.
    assert_eq!(limiter.check("ada", there, 4_000), Err(57_000));
    assert_eq!(limiter.check("ada", here, 60_999), Err(1));
    assert_eq!(limiter.check("ada", here, 61_000), Ok(()));
    assert_eq!(limiter.check("bob", here, 4_000), Ok(()));
    // Five failures from one address, whoever they were for: that address waits.
    let limiter = LoginLimiter::new(60_000, 3, 5);
    for (at, user) in [(1_000, "u1"), (2_000, "u2"), (3_000, "u3"), (4_000, "u4"), (5_000, "ada")] {
        limiter.failed(user, here, at);
    }
    assert_eq!(limiter.check("carl", here, 6_000), Err(55_000));
    assert_eq!(limiter.check("carl", there, 6_000), Ok(()));
    // A login that succeeded forgets its user's failures, and only its own attempt of its
    // address's.
    limiter.failed("ada", there, 5_500);
    assert_eq!(limiter.attempt("ada", there, 5_600), Ok(()), "an attempt is checked, then counted");
    assert!(limiter.check("ada", there, 6_000).is_err());
    limiter.succeeded("ada", there, 5_600);
    assert_eq!(limiter.check("ada", there, 6_000), Ok(()));
    assert!(limiter.check("ada", here, 6_000).is_err());
    for at in [7_000, 7_001, 7_002] {
        assert_eq!(limiter.attempt("dan", there, at), Ok(()));
    }
    assert_eq!(limiter.attempt("dan", there, 7_003), Err(59_997), "attempts count before they fail");
    // Old failures leave the window; three new ones within it still count.
    let limiter = LoginLimiter::new(60_000, 3, 100);
    limiter.failed("bob", here, 1_000);
    for at in [100_000, 100_001, 100_002] {
        limiter.failed("bob", here, at);
    }
    assert_eq!(limiter.check("bob", here, 100_003), Err(59_997));
}

// ---------------------------------------------------------------------------------------------
// Logging in, sessions, CSRF

#[test(tokio)]
async fn a_login_sets_a_strict_http_only_cookie_and_gives_a_csrf_token() {
    let test = TestPlatform::start(&[]).await;
    let (status, headers, body) = test.try_login("ada", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("platform_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let csrf = body["data"]["csrf"].as_str().unwrap();
    assert!(csrf.len() >= 32, "{csrf}");
    // What a form on another site can send (a login CSRF) is refused, whatever its body.
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"] {
        let body = json!({ "user": "ada", "password": PASSWORD }).to_string();
        let request = axum::http::Request::post("/api/login")
            .header(header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .unwrap();
        let response = tower::ServiceExt::oneshot(test.app.clone(), request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a login sent as {content_type}");
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "a session from a {content_type} login"
        );
    }
    let client = test.login("ada").await;
    let (status, me) = test.get("/api/me", &client).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["data"]["user"].as_str(), me["data"]["role"].as_str(), me["data"]["admin"].as_bool()),
        (Some("ada"), Some("admin"), Some(true))
    );
    assert_eq!(me["data"]["csrf"].as_str(), Some(client.csrf.as_str()));
    // Two logins, two sessions.
    assert_ne!(client.token, test.login("ada").await.token);
    let (_, me) = test.get("/api/me", &test.login("otto").await).await;
    assert_eq!(
        (me["data"]["role"].as_str(), me["data"]["admin"].as_bool()),
        (Some("operator"), Some(false)),
        "{me}"
    );
    assert_eq!(me["data"]["targets"].as_str(), Some("tag:env=staging"));
}

#[test(tokio)]
async fn sessions_end_when_they_expire_or_their_user_is_logged_out_everywhere() {
    let test = TestPlatform::start(&[]).await;
    let sessions = platform::auth::Sessions::new(test.records.clone(), 1_000);
    let (otto, session) = sessions.begin("otto", 10_000).await.unwrap();
    assert_eq!(session.expires, 11_000);
    assert_eq!(sessions.find(&otto, 10_999).await.unwrap(), Some(session.clone()));
    assert_eq!(sessions.find(&otto, 11_000).await.unwrap(), None, "expired, though it is in memory");
    let (second, _) = sessions.begin("otto", 20_000).await.unwrap();
    let (third, _) = sessions.begin("otto", 20_000).await.unwrap();
    let (vera, _) = sessions.begin("vera", 20_000).await.unwrap();
    sessions.end_all_of("otto").await.unwrap();
    assert_eq!(sessions.find(&second, 20_001).await.unwrap(), None);
    assert_eq!(sessions.find(&third, 20_001).await.unwrap(), None);
    assert!(sessions.find(&vera, 20_001).await.unwrap().is_some(), "another user's session goes on");
    // Gone from the records too: a second platform over them does not find them.
    let other = platform::auth::Sessions::new(test.records.clone(), 1_000);
    assert_eq!(other.find(&second, 20_001).await.unwrap(), None);
    assert!(other.find(&vera, 20_001).await.unwrap().is_some());
    assert_eq!(sessions.find("short", 20_001).await.unwrap(), None);
}

#[test(tokio)]
async fn the_records_keep_a_session_by_the_hash_of_its_token() {
    let test = TestPlatform::start(&[]).await;
    let client = test.login("otto").await;
    let now = platform::now_millis();
    assert!(
        test.records.session(&client.token, now).await.unwrap().is_none(),
        "the token itself is not a key"
    );
    let kept =
        test.records.session(&token_hash(&client.token), now).await.unwrap().expect("kept by its hash");
    assert_eq!((kept.user.as_str(), kept.csrf.as_str()), ("otto", client.csrf.as_str()));
    let lifetime = platform::platform::SESSION_LIFETIME.as_millis() as i64;
    assert_eq!(kept.expires - kept.created, lifetime, "a session lasts SESSION_LIFETIME from login");
    assert!((kept.created - now).abs() < 60_000, "it began at login: {} ms from now", kept.created - now);
}

#[test(tokio)]
async fn a_wrong_password_and_an_unknown_user_are_refused_alike_and_audited() {
    let test = TestPlatform::start(&[]).await;
    let (wrong, _, wrong_body) = test.try_login("ada", "not the password").await;
    let (unknown, _, unknown_body) = test.try_login("nobody", PASSWORD).await;
    assert_eq!((wrong, unknown), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(error_of(&wrong_body), error_of(&unknown_body), "the answer does not tell which was wrong");
    let (status, _, _) = test.try_login("vera", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let audited = audit_of(&test.records, "ada").await;
    assert_eq!(
        audited.iter().filter(|(action, outcome, _)| action == "login" && outcome == "refused").count(),
        1,
        "{audited:?}"
    );
    assert_eq!(audit_of(&test.records, "nobody").await.len(), 1);
    assert!(audit_of(&test.records, "vera").await.iter().any(|(a, o, _)| a == "login" && o == "allowed"));
}

#[test(tokio)]
async fn wrong_passwords_are_limited_then_refused_before_the_password_is_checked() {
    let test = TestPlatform::start(&[]).await;
    for _ in 0..5 {
        let (status, _, _) = test.try_login("otto", "guess guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The sixth try, even with the right password, waits.
    let (status, headers, body) = test.try_login("otto", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    // Another user is not held up by otto's guesser.
    let (status, _, _) = test.try_login("vera", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let audited = audit_of(&test.records, "otto").await;
    assert!(
        audited.iter().any(|(_, outcome, detail)| outcome == "refused" && detail.contains("too many")),
        "{audited:?}"
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn guesses_sent_together_are_limited_too() {
    let test = std::sync::Arc::new(TestPlatform::start(&[]).await);
    let guesses: Vec<_> = (0..12)
        .map(|n| {
            let test = std::sync::Arc::clone(&test);
            tokio::spawn(async move { test.try_login("otto", &format!("guess number {n}")).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses.iter().filter(|status| **status == StatusCode::UNAUTHORIZED).count();
    let limited = statuses.iter().filter(|status| **status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, limited), (5, 7), "{statuses:?}");
}

#[test(tokio)]
async fn every_route_needs_a_session() {
    let test = TestPlatform::start(&[]).await;
    let routes = [
        (Method::GET, "/api/me"),
        (Method::GET, "/api/hosts"),
        (Method::GET, "/api/hosts/web1"),
        (Method::GET, "/api/runs"),
        (Method::POST, "/api/runs"),
        (Method::GET, "/api/runs/1"),
        (Method::GET, "/api/users"),
        (Method::POST, "/api/users"),
        (Method::GET, "/api/roles"),
        (Method::PUT, "/api/roles/admin"),
        (Method::GET, "/api/audit"),
        (Method::POST, "/api/logout"),
        (Method::PATCH, "/api/users/otto"),
        (Method::GET, "/api/hosts/web1/metrics"),
        (Method::GET, "/api/query?host=web1&metric=cpu.busy"),
        (Method::GET, "/api/alerts"),
        (Method::GET, "/api/rules"),
        (Method::POST, "/api/rules"),
        (Method::DELETE, "/api/rules/1"),
        (Method::GET, "/api/silences"),
        (Method::POST, "/api/silences"),
        (Method::DELETE, "/api/silences/1"),
        (Method::GET, "/api/scripts"),
        (Method::POST, "/api/scripts"),
        (Method::GET, "/api/scripts/queue_depth"),
        (Method::PUT, "/api/scripts/queue_depth/active"),
    ];
    let forged = Client { token: "f".repeat(64), csrf: "f".repeat(64) };
    for (method, path) in routes {
        for client in [None, Some(&forged)] {
            let (status, _, body) = test.send(method.clone(), path, client, true, Some(json!({}))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {client:?}: {body}");
        }
    }
}

#[test(tokio)]
async fn a_change_without_the_csrf_token_is_refused_and_audited() {
    let test = platform_with_two_staging_hosts().await;
    let ada = test.login("ada").await;
    let wrong = Client { csrf: "0".repeat(ada.csrf.len()), ..ada.clone() };
    let changes = [
        (Method::POST, "/api/runs", json!({ "target": "web1", "program": "/bin/echo" })),
        (
            Method::POST,
            "/api/users",
            json!({ "name": "eve", "role": "viewer", "password": "a long password" }),
        ),
        (Method::PUT, "/api/roles/viewer", json!({ "commands": ["/**"], "targets": "*" })),
        (Method::PATCH, "/api/users/otto", json!({ "disabled": true })),
        (Method::POST, "/api/logout", json!({})),
    ];
    for (method, path, body) in changes {
        let (status, _, answer) =
            test.send(method.clone(), path, Some(&ada), false, Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} without the token: {answer}");
        let (status, _, answer) = test.send(method.clone(), path, Some(&wrong), true, Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} with a wrong token: {answer}");
    }
    assert!(test.records.runs(10).await.unwrap().is_empty(), "no run was started");
    assert!(test.records.user("eve").await.unwrap().is_none(), "no user was added");
    assert!(test.records.role("viewer").await.unwrap().unwrap().commands.is_empty(), "no role was changed");
    assert!(!test.records.user("otto").await.unwrap().unwrap().disabled, "no user was changed");
    let (status, _) = test.get("/api/me", &ada).await;
    assert_eq!(status, StatusCode::OK, "the session was not ended");
    assert!(
        audit_of(&test.records, "ada")
            .await
            .iter()
            .any(|(action, outcome, _)| action == "csrf" && outcome == "refused")
    );
}

#[test(tokio)]
async fn a_session_ends_at_logout_and_outlives_a_restart() {
    let mut test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    let otto = test.login("otto").await;
    test.restarted();
    let (status, me) = test.get("/api/me", &ada).await;
    assert_eq!(status, StatusCode::OK, "sessions are in the records, not only in memory: {me}");
    let (status, _, _) = test.send(Method::POST, "/api/logout", Some(&ada), true, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = test.get("/api/me", &ada).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = test.get("/api/me", &otto).await;
    assert_eq!(status, StatusCode::OK, "another session goes on");
}

#[test(tokio)]
async fn a_disabled_user_is_logged_out_and_cannot_log_in() {
    let test = TestPlatform::start(&[]).await;
    let otto = test.login("otto").await;
    let mut user = test.records.user("otto").await.unwrap().unwrap();
    user.disabled = true;
    test.records.update_user(&user).await.unwrap();
    let (status, _) = test.get("/api/me", &otto).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = test.get("/api/hosts", &otto).await;
    assert_ne!(status, StatusCode::OK, "no route serves a disabled user");
    let (status, _, _) = test.try_login("otto", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test(tokio)]
async fn an_admin_changes_a_user_and_a_disabled_user_or_a_new_password_ends_their_sessions() {
    let test = platform_with_two_staging_hosts().await;
    let ada = test.login("ada").await;
    let patch = |name: &str, body: Value| {
        let path = format!("/api/users/{name}");
        let ada = ada.clone();
        let test = &test;
        async move {
            let (status, _, body) = test.send(Method::PATCH, &path, Some(&ada), true, Some(body)).await;
            (status, body)
        }
    };
    let otto = test.login("otto").await;
    let (status, body) = patch("otto", json!({ "disabled": true })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = test.get("/api/hosts", &otto).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a disabled user's session goes on");
    assert!(test.records.user("otto").await.unwrap().unwrap().disabled);
    let (status, _, _) = test.try_login("otto", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) =
        patch("otto", json!({ "disabled": false, "password": "a brand new password" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = test.try_login("otto", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password still works");
    let (status, _, _) = test.try_login("otto", "a brand new password").await;
    assert_eq!(status, StatusCode::OK, "the new password does not work");

    // A new password ends the sessions begun with the old one; a new role takes effect at once.
    let vera = test.login("vera").await;
    let (status, body) = patch("vera", json!({ "role": "operator" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        test.post("/api/runs", &vera, json!({ "target": "web1", "program": "/bin/echo" })).await;
    assert_eq!(status, StatusCode::CREATED, "the new role was not applied: {body}");
    let (status, _) = patch("vera", json!({ "password": "another long password" })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = test.get("/api/me", &vera).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a session begun with the old password goes on");

    for (name, body, expected, field) in [
        ("nobody", json!({ "disabled": true }), StatusCode::NOT_FOUND, ""),
        ("otto", json!({ "role": "nobody" }), StatusCode::NOT_FOUND, ""),
        ("otto", json!({ "password": "short" }), StatusCode::BAD_REQUEST, "password"),
        ("otto", json!({ "colour": "blue" }), StatusCode::BAD_REQUEST, "colour"),
    ] {
        let (status, answer) = patch(name, body.clone()).await;
        assert_eq!(status, expected, "{name} {body}: {answer}");
        assert!(error_of(&answer).contains(field), "{name} {body}: {answer}");
    }
    assert_eq!(
        test.records.user("otto").await.unwrap().unwrap().role,
        "operator",
        "a refused change was kept"
    );

    let otto = test.login_with("otto", "a brand new password").await;
    let (status, _, _) = test
        .send(Method::PATCH, "/api/users/vera", Some(&otto), true, Some(json!({ "disabled": true })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!test.records.user("vera").await.unwrap().unwrap().disabled);
    let audited = audit_of(&test.records, "otto").await;
    assert!(audited.iter().any(|(a, o, _)| a == "user.change" && o == "refused"), "{audited:?}");
    let audited = audit_of(&test.records, "ada").await;
    assert_eq!(
        audited.iter().filter(|(a, o, _)| a == "user.change" && o == "allowed").count(),
        4,
        "{audited:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Roles

#[test]
fn a_grant_allows_its_programs_on_its_hosts_only() {
    let role = Role {
        name: "ops".into(),
        commands: vec!["/usr/bin/*".into(), "/bin/echo".into()],
        targets: "web* and tag:env=staging".into(),
        admin: false,
    };
    let grant = Grant::of(&role).unwrap();
    let staging = TestPlatform::tags(STAGING);
    let production = TestPlatform::tags(PRODUCTION);
    assert!(grant.allows("/usr/bin/uptime", "web1", &staging));
    assert!(grant.allows("/bin/echo", "web2", &staging));
    assert!(!grant.allows("/usr/bin/x/evil", "web1", &staging), "* stops at /");
    assert!(!grant.allows("/bin/sh", "web1", &staging));
    assert!(!grant.allows("/usr/bin/uptime", "web1", &production));
    assert!(!grant.allows("/usr/bin/uptime", "db1", &staging));
    let hosts = [("web1", &staging), ("web2", &production), ("db1", &staging)];
    let denial = grant.check_run("/bin/echo", hosts).unwrap_err();
    assert_eq!(
        denial,
        platform::auth::Denial::Hosts { role: "ops".into(), hosts: vec!["web2".into(), "db1".into()] }
    );
    assert!(grant.check_admin().is_err());
    assert!(Grant::of(&Role { targets: "web[".into(), ..role.clone() }).is_err());
    assert!(Grant::of(&Role { commands: vec!["/bin/[".into()], ..role }).is_err());
}

#[test(tokio)]
async fn a_user_without_the_role_cannot_run_a_command_through_any_route() {
    let test = TestPlatform::start(&[("web1", STAGING), ("db1", PRODUCTION)]).await;
    let vera = test.login("vera").await;
    let otto = test.login("otto").await;
    let refused = [
        (&vera, json!({ "target": "web1", "program": "/bin/echo", "args": ["hi"] }), "no program at all"),
        (&otto, json!({ "target": "web1", "program": "/usr/bin/id" }), "a program outside the role"),
        (&otto, json!({ "target": "*", "program": "/bin/echo" }), "a host outside the role"),
        (&otto, json!({ "target": "db1", "program": "/bin/echo" }), "only hosts outside the role"),
        (
            &otto,
            json!({ "target": "web1 or tag:env=prod", "program": "/bin/echo" }),
            "a target that reaches out",
        ),
    ];
    for (client, body, why) in refused {
        let (status, answer) = test.post("/api/runs", client, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}: {answer}");
    }
    for (client, path, body) in [
        (&otto, "/api/users", json!({ "name": "eve", "role": "admin", "password": "a long password" })),
        (&vera, "/api/users", json!({ "name": "eve", "role": "admin", "password": "a long password" })),
    ] {
        let (status, answer) = test.post(path, client, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    let (status, _, _) = test
        .send(
            Method::PUT,
            "/api/roles/viewer",
            Some(&otto),
            true,
            Some(json!({ "commands": ["/**"], "targets": "*" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in ["/api/users", "/api/roles", "/api/audit"] {
        let (status, _) = test.get(path, &otto).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(test.records.runs(10).await.unwrap().is_empty(), "nothing ran");
    assert!(test.records.user("eve").await.unwrap().is_none());
    let refusals = |entries: Vec<(String, String, String)>| {
        entries.into_iter().filter(|(_, outcome, _)| outcome == "refused").count()
    };
    assert_eq!(refusals(audit_of(&test.records, "vera").await), 2, "every refusal is audited");
    assert_eq!(refusals(audit_of(&test.records, "otto").await), 9);
}

#[test(tokio)]
async fn an_allowed_command_runs_on_every_host_and_each_result_is_recorded() {
    let test = TestPlatform::start(&[("web1", STAGING), ("web2", STAGING), ("db1", PRODUCTION)]).await;
    let otto = test.login("otto").await;
    let (status, body) = test
        .post(
            "/api/runs",
            &otto,
            json!({ "target": "tag:env=staging", "program": "/bin/echo", "args": ["hello", "there"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let run = body["data"]["run"].as_i64().unwrap();
    let shown = test.wait_for_run(run, &otto).await;
    assert_eq!(shown["run"]["state"], "complete", "{shown}");
    assert_eq!(shown["run"]["user"], "otto");
    assert_eq!(shown["run"]["command"], json!(["/bin/echo", "hello", "there"]));
    assert_eq!(shown["run"]["hosts"], 2);
    let results = shown["results"].as_array().unwrap();
    let hosts: Vec<&str> = results.iter().map(|r| r["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, ["web1", "web2"]);
    for result in results {
        assert_eq!(
            (result["status"].as_str(), result["exit_code"].as_i64()),
            (Some("done"), Some(0)),
            "{result}"
        );
        assert_eq!(result["output"], "hello there\n");
    }
    assert!(shown["missing"].as_array().unwrap().is_empty());
    // What was signed is the user's target within the role's.
    let recorded = test.records.run(run).await.unwrap().unwrap();
    assert!(
        recorded.target.contains("tag:env=staging") && recorded.target.contains(" and "),
        "{}",
        recorded.target
    );
    assert!(
        audit_of(&test.records, "otto")
            .await
            .iter()
            .any(|(action, outcome, _)| action == "run" && outcome == "allowed")
    );
    let (status, listed) = test.get("/api/runs", &otto).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["data"][0]["id"], run);
}

#[test(tokio)]
async fn a_host_that_refuses_says_why_in_its_result() {
    let test = TestPlatform::start(&[("web1", STAGING), ("web2", STAGING)]).await;
    // The admin's role allows any program; the agents allow only /bin/sh and /bin/echo.
    let ada = test.login("ada").await;
    let (status, body) =
        test.post("/api/runs", &ada, json!({ "target": "web1", "program": "/usr/bin/id" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let shown = test.wait_for_run(body["data"]["run"].as_i64().unwrap(), &ada).await;
    let result = &shown["results"][0];
    assert_eq!(
        (result["host"].as_str(), result["status"].as_str()),
        (Some("web1"), Some("refused")),
        "{shown}"
    );
    assert!(result["exit_code"].is_null(), "{result}");
    assert!(
        result["output"].as_str().unwrap().contains("/usr/bin/id"),
        "the refusal's reason is kept: {result}"
    );
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_one_runs_one_host_at_a_time() {
    let test = platform_with_two_staging_hosts().await;
    let marks = test.dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let otto = test.login("otto").await;
    // Each host leaves a mark, waits up to a second for the other's, and says how many it saw:
    // hosts run together see 2 each; one at a time, the first sees 1 and the second 2.
    let script = format!(
        "touch {dir}/$$; i=0; while [ $(ls {dir} | wc -l) -lt 2 ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done; ls {dir} | wc -l",
        dir = marks.display()
    );
    let body =
        json!({ "target": "tag:env=staging", "program": "/bin/sh", "args": ["-c", script], "batch": "1" });
    let (status, answer) = test.post("/api/runs", &otto, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let shown = test.wait_for_run(answer["data"]["run"].as_i64().unwrap(), &otto).await;
    assert_eq!(shown["run"]["state"], "complete", "{shown}");
    let mut seen: Vec<String> = shown["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["output"].as_str().unwrap().trim().to_string())
        .collect();
    seen.sort();
    assert_eq!(seen, ["1", "2"], "the batch of one was kept: {shown}");
}

#[test(tokio)]
async fn hosts_are_listed_with_their_tags_and_whether_connected() {
    let test = TestPlatform::start(&[("web2", STAGING), ("web1", STAGING)]).await;
    test.records.add_host("db9", &TestPlatform::tags(PRODUCTION), 1).await.unwrap();
    let vera = test.login("vera").await;
    let (status, body) = test.get("/api/hosts", &vera).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["total"], 3);
    let hosts = body["data"]["hosts"].as_array().unwrap();
    let shown: Vec<(&str, bool)> =
        hosts.iter().map(|h| (h["name"].as_str().unwrap(), h["connected"].as_bool().unwrap())).collect();
    assert_eq!(shown, [("db9", false), ("web1", true), ("web2", true)]);
    assert_eq!(hosts[1]["tags"], json!({ "env": "staging" }));
    let (_, page) = test.get("/api/hosts?offset=1&limit=1", &vera).await;
    assert_eq!(page["data"]["hosts"][0]["name"], "web1");
    let (status, page) = test.get("/api/hosts?limit=0", &vera).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&page).starts_with("limit"), "{page}");
    let (status, one) = test.get("/api/hosts/web2", &vera).await;
    assert_eq!((status, one["data"]["connected"].as_bool()), (StatusCode::OK, Some(true)));
    let (status, _) = test.get("/api/hosts/nowhere", &vera).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test(tokio)]
async fn admins_manage_users_and_roles() {
    let test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    let (status, body) = test
        .post("/api/users", &ada, json!({ "name": "eve", "role": "viewer", "password": "a long password" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, _) = test.try_login("eve", "a long password").await;
    assert_eq!(status, StatusCode::OK, "the new user logs in");
    let stored = test.records.user("eve").await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"), "{}", stored.password_hash);
    let cases = [
        (json!({ "name": "eve", "role": "viewer", "password": "a long password" }), StatusCode::CONFLICT, ""),
        (
            json!({ "name": "fay", "role": "nobody", "password": "a long password" }),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            json!({ "name": "fay", "role": "viewer", "password": "short" }),
            StatusCode::BAD_REQUEST,
            "password",
        ),
        (
            json!({ "name": " fay", "role": "viewer", "password": "a long password" }),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (json!({ "name": "fay", "role": "viewer" }), StatusCode::BAD_REQUEST, ""),
        (json!({ "name": "fay", "role": "viewer", "password": 12 }), StatusCode::BAD_REQUEST, "password"),
    ];
    for (body, expected, field) in cases {
        let (status, answer) = test.post("/api/users", &ada, body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(error_of(&answer).starts_with(field), "{body}: the error names {field:?}: {answer}");
    }
    let (status, _, answer) = test
        .send(
            Method::PUT,
            "/api/roles/deploy",
            Some(&ada),
            true,
            Some(json!({ "commands": ["/opt/deploy/*"], "targets": "tag:env=staging" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _, answer) = test
        .send(
            Method::PUT,
            "/api/roles/deploy",
            Some(&ada),
            true,
            Some(json!({ "commands": [], "targets": "web[" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(error_of(&answer).starts_with("targets"), "{answer}");
    let (_, roles) = test.get("/api/roles", &ada).await;
    assert!(
        roles["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "deploy" && r["commands"] == json!(["/opt/deploy/*"]))
    );
    let (_, users) = test.get("/api/users", &ada).await;
    assert!(!users.to_string().contains("argon2"), "no hash leaves the platform: {users}");
    let (status, audit) = test.get("/api/audit?user=ada&action=user.add", &ada).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit["data"][0]["target"], "eve", "{audit}");
}

#[test(tokio)]
async fn a_bad_request_names_its_field() {
    let test = platform_with_two_staging_hosts().await;
    let otto = test.login("otto").await;
    let cases = [
        (json!({ "target": "web[", "program": "/bin/echo" }), "target"),
        (json!({ "target": "web1", "program": "echo" }), "program"),
        (json!({ "target": "web1", "program": "/bin/echo", "timeout_secs": "soon" }), "timeout_secs"),
        (json!({ "target": "web1", "program": "/bin/echo", "timeout_secs": 0 }), "timeout"),
        (json!({ "target": "web1", "program": "/bin/echo", "timeout_secs": 3601 }), "timeout"),
        (json!({ "target": "web1", "program": "/bin/echo", "args": [1] }), "args"),
        (json!({ "target": "web1", "program": "/bin/echo", "batch": "lots" }), "batch"),
        (json!({ "target": "web1", "program": "/bin/echo", "colour": "red" }), "colour"),
        (json!({ "program": "/bin/echo" }), "body"),
    ];
    for (body, field) in cases {
        let (status, answer) = test.post("/api/runs", &otto, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(error_of(&answer).starts_with(field), "{body}: the error names {field}: {answer}");
    }
    let (status, answer) = test.get("/api/runs/seven", &otto).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&answer).starts_with("id"), "{answer}");
    let (status, _, answer) =
        test.send(Method::POST, "/api/login", None, false, Some(json!({ "user": "ada" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

#[test(tokio)]
async fn text_in_every_field_is_a_value_never_sql() {
    let test = platform_with_two_staging_hosts().await;
    let ada = test.login("ada").await;
    let payloads = [
        "' OR '1'='1",
        "'; DROP TABLE users; --",
        "\" OR \"\"=\"",
        "ada'--",
        "1; DELETE FROM sessions",
        "%' OR name LIKE '%",
    ];
    for (n, payload) in payloads.into_iter().enumerate() {
        let (status, _, _) = test.try_login(payload, payload).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "login {payload:?}");
        // Under each user's limit of wrong passwords.
        let user = ["otto", "vera"][n % 2];
        let (status, _, _) = test.try_login(user, payload).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "password {payload:?}");
        for body in [
            json!({ "target": payload, "program": "/bin/echo" }),
            json!({ "target": "web1", "program": payload }),
            json!({ "target": "web1", "program": "/bin/echo", "args": [payload] }),
        ] {
            let (status, answer) = test.post("/api/runs", &ada, body.clone()).await;
            assert!(status.is_client_error() || status == StatusCode::CREATED, "{body}: {status} {answer}");
        }
        for body in [
            json!({ "name": payload, "role": "viewer", "password": "a long password" }),
            json!({ "name": "x", "role": payload, "password": "a long password" }),
            json!({ "name": "y", "role": "viewer", "password": format!("{payload}{payload}{payload}") }),
        ] {
            let (status, answer) = test.post("/api/users", &ada, body.clone()).await;
            assert!(status.is_client_error() || status == StatusCode::CREATED, "{body}: {status} {answer}");
        }
        let encoded: String = payload.bytes().map(|b| format!("%{b:02X}")).collect();
        for path in [
            format!("/api/hosts/{encoded}"),
            format!("/api/audit?user={encoded}&action={encoded}"),
            format!("/api/runs/{encoded}"),
        ] {
            let (status, answer) = test.get(&path, &ada).await;
            assert!(status.is_success() || status.is_client_error(), "{path}: {status} {answer}");
        }
        let (status, _, answer) = test
            .send(
                Method::PUT,
                &format!("/api/roles/{encoded}"),
                Some(&ada),
                true,
                Some(json!({ "commands": [payload], "targets": "*" })),
            )
            .await;
        assert!(status.is_success() || status.is_client_error(), "{status} {answer}");
    }
    // Everything is still there, and the names were taken as names.
    assert_eq!(test.records.user("ada").await.unwrap().unwrap().role, "admin");
    assert!(test.records.user("'; DROP TABLE users; --").await.unwrap().is_some());
    let (status, _) = test.get("/api/me", &ada).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = test.try_login("vera", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// A platform that stops mid-run

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_platform_records_the_results_it_missed() {
    let mut test = platform_with_two_staging_hosts().await;
    let gate = test.dir.path().join("gate");
    let otto = test.login("otto").await;
    let script = format!("while [ ! -e {} ]; do sleep 0.02; done; echo through", gate.display());
    let (status, body) = test
        .post(
            "/api/runs",
            &otto,
            json!({ "target": "tag:env=staging", "program": "/bin/sh", "args": ["-c", script] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let run = body["data"]["run"].as_i64().unwrap();
    assert_eq!(
        test.records.missing_hosts(run).await.unwrap(),
        ["web1", "web2"],
        "the hosts are recorded before any result"
    );
    // The platform stops while the hosts still run the command; the master and agents go on.
    let restarted = test.restarted();
    std::fs::write(&gate, b"").unwrap();
    let (followed, ended) =
        restarted.commands.as_ref().unwrap().recover(platform::now_millis()).await.unwrap();
    assert_eq!((followed, ended), (1, 0));
    let otto = test.login("otto").await;
    let shown = test.wait_for_run(run, &otto).await;
    assert_eq!(shown["run"]["state"], "complete", "{shown}");
    assert!(shown["results"].as_array().unwrap().iter().all(|r| r["output"] == "through\n"), "{shown}");
}

#[test(tokio)]
async fn a_run_whose_job_is_gone_ends_incomplete_with_its_hosts_listed() {
    let mut test = platform_with_two_staging_hosts().await;
    let records = test.records.clone();
    let run = records
        .start_run(&NewRun {
            user: "otto".into(),
            target: "*".into(),
            command: vec!["/bin/echo".into()],
            hosts: vec!["web1".into(), "web2".into()],
            started: 1,
        })
        .await
        .unwrap();
    records.set_run_job(run, 424_242).await.unwrap();
    records
        .record_results(
            run,
            &[platform::records::HostResult {
                host: "web1".into(),
                status: "done".into(),
                exit_code: Some(0),
                output: String::new(),
                ended: 2,
            }],
        )
        .await
        .unwrap();
    let restarted = test.restarted();
    let (followed, ended) =
        restarted.commands.as_ref().unwrap().recover(platform::now_millis()).await.unwrap();
    assert_eq!((followed, ended), (0, 1));
    let shown = records.run(run).await.unwrap().unwrap();
    assert_eq!(shown.state, platform::records::RunState::Incomplete);
    assert_eq!(records.missing_hosts(run).await.unwrap(), ["web2"]);
}

// ---------------------------------------------------------------------------------------------
// The dashboard

#[test(tokio)]
async fn the_dashboard_sends_strangers_to_login_and_escapes_what_it_shows() {
    let test = TestPlatform::start(&[("web1", STAGING)]).await;
    test.records
        .add_host("<script>alert(1)</script>", &TestPlatform::tags(&[("note", "\"><b>")]), 1)
        .await
        .unwrap();
    for path in ["/hosts", "/runs", "/runs/1", "/hosts/web1"] {
        let (status, headers, _) = test.send(Method::GET, path, None, false, None).await;
        assert!(status.is_redirection(), "{path}: {status}");
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/login", "{path}");
    }
    let vera = test.login("vera").await;
    let request = axum::http::Request::builder()
        .uri("/hosts")
        .header(header::COOKIE, format!("{}={}", platform::api::SESSION_COOKIE, vera.token))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(test.app.clone(), request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    let page = String::from_utf8_lossy(&bytes);
    assert!(page.contains("web1") && page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(!page.contains("<script>alert(1)"), "a host's name is text, never markup");
    assert!(!page.contains("\"><b>"), "nor is a tag's value");
    assert!(page.contains(&vera.csrf), "the page carries the session's CSRF token for its forms");
}

// ---------------------------------------------------------------------------------------------
// Monitoring: lab 08's pipeline behind the same API, its rules kept in the records

/// `host`'s `metric` at `value`, `ago` milliseconds ago.
fn point(host: &str, metric: &str, value: f64, ago: i64) -> monitor::Point {
    monitor::Point {
        host: host.into(),
        metric: metric.into(),
        tags: Default::default(),
        timestamp: platform::now_millis() - ago,
        value,
        kind: monitor::Kind::Gauge,
    }
}

fn rule_ids(console: &monitor::web::Console) -> Vec<u64> {
    console.rules().iter().map(|rule| rule.id).collect()
}

#[test(tokio)]
async fn a_rule_is_checked_recorded_and_given_to_the_judge() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_monitoring().await;
    let ada = test.login("ada").await;
    let note = "'); DROP TABLE rules; --";
    let rule = json!({ "id": 7, "expr": "cpu.busy all(#2) > 90", "priority": 1, "note": note });
    let (status, body) = test.post("/api/rules", &ada, rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["priority"], 1, "{body}");
    let recorded = test.records.rules().await.unwrap();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(
        (recorded[0].id, recorded[0].expr.as_str(), recorded[0].note.as_str()),
        (7, "cpu.busy all(#2) > 90", note)
    );
    assert_eq!(
        test.console().rule(7).map(|rule| rule.expr),
        Some("cpu.busy all(#2) > 90".to_string()),
        "the judge was not given the rule"
    );
    assert_eq!(
        test.console().rule(7).and_then(|rule| rule.note),
        Some(note.to_string()),
        "the judge lost the note"
    );
    let (status, listed) = test.get("/api/rules", &test.login("vera").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["data"][0]["id"], 7, "{listed}");

    // Refused before anything is written, each refusal naming its field.
    for (rule, field) in [
        (json!({ "id": 8, "expr": "cpu.busy >> 3" }), "expr"),
        (json!({ "id": 8, "expr": "cpu.busy all(#2) > 90", "priority": 9 }), "priority"),
        (json!({ "id": -8, "expr": "cpu.busy all(#2) > 90" }), "id"),
    ] {
        let (status, body) = test.post("/api/rules", &ada, rule.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}: {body}");
        assert!(error_of(&body).starts_with(field), "{rule}: the refusal does not name {field}: {body}");
    }
    assert_eq!(test.records.rules().await.unwrap().len(), 1, "a refused rule was recorded");
    assert_eq!(rule_ids(&test.console()), [7], "a refused rule reached the judge");

    // A rule with a number in use replaces it, in the records and in the judge.
    let (status, body) =
        test.post("/api/rules", &ada, json!({ "id": 7, "expr": "cpu.busy max(#3) > 95" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let recorded = test.records.rules().await.unwrap();
    assert_eq!(recorded.iter().map(|r| r.expr.as_str()).collect::<Vec<_>>(), ["cpu.busy max(#3) > 95"]);
    assert_eq!(test.console().rule(7).map(|rule| rule.expr), Some("cpu.busy max(#3) > 95".to_string()));

    let (status, body) = test.delete("/api/rules/7", &ada).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(test.records.rules().await.unwrap().is_empty());
    assert!(rule_ids(&test.console()).is_empty(), "a deleted rule stayed in the judge");
    let (status, _) = test.delete("/api/rules/7", &ada).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test(tokio)]
async fn only_an_admin_changes_rules_and_silences_and_every_refusal_is_audited() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_monitoring().await;
    let ada = test.login("ada").await;
    let (status, body) =
        test.post("/api/rules", &ada, json!({ "id": 1, "expr": "cpu.busy all(#2) > 90" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let silence = json!({ "matchers": "host=web1", "minutes": 30, "comment": "maintenance" });
    let (status, body) = test.post("/api/silences", &ada, silence.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_u64().unwrap();

    for user in ["otto", "vera"] {
        let client = test.login(user).await;
        let (status, body) =
            test.post("/api/rules", &client, json!({ "id": 2, "expr": "mem.used all(#2) > 1" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} added a rule: {body}");
        let (status, _) = test.delete("/api/rules/1", &client).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} deleted a rule");
        let (status, _) = test.post("/api/silences", &client, silence.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} added a silence");
        let (status, _) = test.delete(&format!("/api/silences/{id}"), &client).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} deleted a silence");
        let (status, _) = test.get("/api/rules", &client).await;
        assert_eq!(status, StatusCode::OK, "{user} may see the rules");
        let audited = audit_of(&test.records, user).await;
        for action in ["rule", "silence"] {
            let refused = audited.iter().filter(|(a, o, _)| a == action && o == "refused").count();
            assert_eq!(refused, 2, "{user}'s refused {action} changes are not each audited: {audited:?}");
        }
    }
    assert_eq!(test.records.rules().await.unwrap().len(), 1);
    assert_eq!(rule_ids(&test.console()), [1]);
    assert_eq!(test.console().silences().len(), 1);
    let audited = audit_of(&test.records, "ada").await;
    assert!(audited.iter().any(|(a, o, _)| a == "rule" && o == "allowed"), "{audited:?}");
    assert!(audited.iter().any(|(a, o, _)| a == "silence" && o == "allowed"), "{audited:?}");
}

#[test(tokio)]
async fn the_judge_is_given_the_recorded_rules_at_a_start() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_monitoring().await;
    // What an earlier run left: two rules recorded, one written by hand that does not parse, and
    // a rule the judge has that the records no longer do.
    for (id, expr) in [(1, "cpu.busy all(#3) > 90"), (2, "mem.used min(#2) > 70"), (3, "not a rule")] {
        let rule = platform::records::RuleRecord { id, expr: expr.into(), priority: 2, note: String::new() };
        test.records.put_rule(&rule).await.unwrap();
    }
    let stale = monitor::judge::RuleSpec {
        id: 5,
        expr: "load.1min all(#2) > 9".into(),
        priority: None,
        max_alerts: None,
        min_interval: None,
        note: None,
    };
    test.console().put_rule(stale, false).unwrap();

    let platform = test.restarted();
    let pushed = platform.push_rules().await.unwrap();
    assert_eq!(pushed, 2, "the rules that parse");
    assert_eq!(rule_ids(&test.console()), [1, 2], "the judge's rules are not the records'");
    assert_eq!(test.console().rule(2).map(|rule| rule.expr), Some("mem.used min(#2) > 70".to_string()));
    // Pushed again, nothing changes.
    assert_eq!(platform.push_rules().await.unwrap(), 2);
    assert_eq!(rule_ids(&test.console()), [1, 2]);
}

#[test(tokio)]
async fn a_hosts_points_are_its_metrics_and_a_broken_rule_fires_an_alert() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_monitoring().await;
    let hosts: Vec<platform::records::Host> = ["web1", "web2"]
        .iter()
        .map(|name| platform::records::Host { name: name.to_string(), tags: Default::default(), added: 1 })
        .collect();
    test.records.upsert_hosts(&hosts).await.unwrap();
    let ada = test.login("ada").await;
    let (status, body) = test
        .post("/api/rules", &ada, json!({ "id": 1, "expr": "cpu.busy all(#2) > 90", "priority": 1 }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let points = vec![
        point("web1", "cpu.busy", 95.0, 20_000),
        point("web1", "cpu.busy", 97.0, 10_000),
        point("web1", "mem.used", 4e9, 10_000),
        point("web2", "cpu.busy", 12.0, 10_000),
    ];
    test.send_points(points).await;

    let vera = test.login("vera").await;
    let deadline = tokio::time::Instant::now() + testkit::DEFAULT_DEADLINE;
    let (metrics, alerts) = loop {
        let (status, metrics) = test.get("/api/hosts/web1/metrics", &vera).await;
        assert_eq!(status, StatusCode::OK, "{metrics}");
        let (status, alerts) = test.get("/api/alerts", &vera).await;
        assert_eq!(status, StatusCode::OK, "{alerts}");
        let seen = metrics["data"]["series"].as_array().is_some_and(|series| series.len() == 2);
        let fired = alerts["data"].as_array().is_some_and(|alerts| !alerts.is_empty());
        if seen && fired {
            break (metrics, alerts);
        }
        assert!(tokio::time::Instant::now() < deadline, "no metrics or no alert in time: {metrics} {alerts}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let cpu =
        metrics["data"]["series"].as_array().unwrap().iter().find(|s| s["metric"] == "cpu.busy").cloned();
    assert_eq!(cpu.map(|s| s["latest"]["value"].clone()), Some(json!(97.0)), "{metrics}");
    let alert = &alerts["data"][0];
    assert_eq!((alert["rule"].as_u64(), alert["status"].as_str()), (Some(1), Some("PROBLEM")), "{alerts}");
    assert_eq!(alert["series"]["host"], "web1", "{alerts}");
    assert_eq!(alerts["data"].as_array().unwrap().len(), 1, "web2 is not hot: {alerts}");

    let (status, range) = test.get("/api/query?host=web1&metric=cpu.busy&range=5m", &vera).await;
    assert_eq!(status, StatusCode::OK, "{range}");
    assert_eq!(range["data"]["points"].as_array().map(Vec::len), Some(2), "{range}");
    let (status, page) = test.page("/hosts/web1", &vera).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<svg") && page.contains("cpu.busy") && page.contains("PROBLEM"), "{page}");
}

#[test(tokio)]
async fn a_silence_is_numbered_and_one_that_cannot_match_is_refused() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_monitoring().await;
    let ada = test.login("ada").await;
    let (status, body) = test
        .post(
            "/api/silences",
            &ada,
            json!({ "matchers": "host=web1", "minutes": 30, "comment": "disk swap" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_u64().unwrap();
    assert!(
        body["data"]["ends"].as_i64().unwrap() - body["data"]["starts"].as_i64().unwrap() == 30 * 60_000,
        "{body}"
    );
    let (_, listed) = test.get("/api/silences", &ada).await;
    assert_eq!(listed["data"][0]["comment"], "disk swap", "{listed}");
    for (silence, field) in [
        (json!({ "matchers": "host web1", "minutes": 30 }), "matchers"),
        (json!({ "matchers": "host=web1", "minutes": 0 }), "ends"),
        (json!({ "matchers": "host=web1" }), "minutes"),
    ] {
        let (status, body) = test.post("/api/silences", &ada, silence.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{silence}: {body}");
        assert!(error_of(&body).contains(field), "{silence}: the refusal does not name {field}: {body}");
    }
    assert_eq!(test.console().silences().len(), 1);
    let (status, _) = test.delete(&format!("/api/silences/{id}"), &ada).await;
    assert_eq!(status, StatusCode::OK);
    assert!(test.console().silences().is_empty());
    let (status, _) = test.delete(&format!("/api/silences/{id}"), &ada).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test(tokio)]
async fn without_monitoring_its_routes_answer_unavailable() {
    let test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    for path in ["/api/alerts", "/api/silences", "/api/hosts/web1/metrics"] {
        let (status, body) = test.get(path, &ada).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
    }
    let (status, body) =
        test.post("/api/rules", &ada, json!({ "id": 1, "expr": "cpu.busy all(#2) > 90" })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(test.records.rules().await.unwrap().is_empty(), "a rule no judge takes was recorded");
}
