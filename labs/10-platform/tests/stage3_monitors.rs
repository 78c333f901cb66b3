//! Stage 3, custom monitors: a monitoring script is a package (a manifest and the script), checked
//! against the monitoring-script standard before anything is stored (the manifest, the script's
//! form, and a dry run that must print exactly what it declares, in time, leaving nothing behind),
//! kept as versions, one of them the one the hosts run.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use common::TestPlatform;
use platform::scripts::{Manifest, Violation, check_package, check_script};
use proptest::prelude::*;
use serde_json::{Value, json};
use testkit::test;

const MANIFEST: &str = r#"
name = "queue_depth"
description = "the mail queue, as a test makes it up"
metrics = ["queue.depth", "queue.oldest"]
interval_secs = 30
timeout_secs = 2
"#;

/// A script that keeps the standard: it prints both declared metrics.
const GOOD: &str = "#!/bin/sh\necho 'queue.depth 12'\necho 'queue.oldest 340 queue=deferred'\n";

fn rule_of(result: Result<impl std::fmt::Debug, Violation>) -> String {
    match result {
        Ok(checked) => panic!("kept the standard: {checked:?}"),
        Err(violation) => violation.rule,
    }
}

fn check(manifest: &str, script: &str) -> Result<platform::scripts::Checked, Violation> {
    let scratch = testkit::scratch_dir();
    check_package(manifest, script.as_bytes(), scratch.path())
}

fn manifest_with(line: &str) -> String {
    let key = line.split('=').next().unwrap().trim();
    let mut lines: Vec<String> =
        MANIFEST.lines().filter(|l| !l.starts_with(&format!("{key} "))).map(String::from).collect();
    lines.push(line.to_string());
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// The manifest

#[test]
fn a_manifest_is_read_and_each_bad_field_is_named() {
    let manifest = Manifest::parse(MANIFEST).unwrap();
    assert_eq!(manifest.name, "queue_depth");
    assert_eq!(manifest.metrics, ["queue.depth", "queue.oldest"]);
    assert_eq!((manifest.interval(), manifest.timeout()), (Duration::from_secs(30), Duration::from_secs(2)));
    for (line, rule) in [
        ("name = \"Queue\"", "manifest.name"),
        ("name = \"../etc\"", "manifest.name"),
        ("name = \"\"", "manifest.name"),
        (&format!("name = \"{}\"", "q".repeat(65)), "manifest.name"),
        ("metrics = []", "manifest.metrics"),
        ("metrics = [\"queue depth\"]", "manifest.metrics"),
        ("metrics = [\"9lives\"]", "manifest.metrics"),
        ("metrics = [\"a\", \"a\"]", "manifest.metrics"),
        ("interval_secs = 9", "manifest.interval_secs"),
        ("interval_secs = 3601", "manifest.interval_secs"),
        ("timeout_secs = 0", "manifest.timeout_secs"),
        ("timeout_secs = 16", "manifest.timeout_secs"),
        ("owner = \"ops\"", "manifest"),
        ("interval_secs = \"soon\"", "manifest"),
    ] {
        let text = manifest_with(line);
        assert_eq!(rule_of(Manifest::parse(&text)), rule, "{line}");
    }
    // The edges that are allowed.
    for line in [
        "interval_secs = 10",
        "interval_secs = 3600",
        "timeout_secs = 15",
        &format!("name = \"{}\"", "q".repeat(64)),
    ] {
        let text = manifest_with(line);
        let text = if line == "interval_secs = 10" {
            text.replace("timeout_secs = 2", "timeout_secs = 5")
        } else {
            text
        };
        Manifest::parse(&text).unwrap_or_else(|v| panic!("{line}: {v}"));
    }
    let many: Vec<String> = (0..=platform::scripts::MAX_METRICS).map(|i| format!("\"m{i}\"")).collect();
    assert_eq!(
        rule_of(Manifest::parse(&manifest_with(&format!("metrics = [{}]", many.join(","))))),
        "manifest.metrics"
    );
    assert!(Manifest::parse(&manifest_with(&format!("metrics = [{}]", many[1..].join(",")))).is_ok());
}

proptest! {
    #[test]
    fn any_text_is_a_manifest_or_a_violation_never_a_panic(text in "\\PC{0,300}") {
        let _ = Manifest::parse(&text);
    }

    #[test]
    fn a_manifest_with_good_fields_is_read_back_as_written(
        name in "[a-z0-9][a-z0-9_.-]{0,20}",
        metrics in proptest::collection::btree_set("[a-z_][a-z0-9_.]{0,15}", 1..6),
        interval in 10u64..=3600,
        timeout in 1u64..=30,
    ) {
        prop_assume!(timeout * 2 <= interval);
        let metrics: Vec<String> = metrics.into_iter().collect();
        let text = format!("name = {name:?}\nmetrics = {metrics:?}\ninterval_secs = {interval}\ntimeout_secs = {timeout}\n");
        let manifest = Manifest::parse(&text).unwrap();
        prop_assert_eq!(manifest.name, name);
        prop_assert_eq!(manifest.metrics, metrics);
        prop_assert_eq!((manifest.interval_secs, manifest.timeout_secs), (interval, timeout));
    }
}

// ---------------------------------------------------------------------------------------------
// The script's form, and the dry run

#[test]
fn a_script_names_its_interpreter_and_has_a_size_limit() {
    check_script(GOOD.as_bytes()).unwrap();
    check_script(b"#! /usr/bin/env python3\nprint('x 1')\n").unwrap();
    for (script, rule) in [
        (b"echo 'queue.depth 1'\n".to_vec(), "script.interpreter"),
        (b"#!sh\necho 1\n".to_vec(), "script.interpreter"),
        (b"#!\n".to_vec(), "script.interpreter"),
        (b"#!/\n".to_vec(), "script.interpreter"),
        (b"\x7fELF\x02\x01\x01".to_vec(), "script.interpreter"),
        (Vec::new(), "script.size"),
    ] {
        assert_eq!(rule_of(check_script(&script)), rule, "{:?}", String::from_utf8_lossy(&script));
    }
    let mut largest = b"#!/bin/sh\n".to_vec();
    largest.resize(platform::scripts::MAX_SCRIPT_BYTES, b'#');
    check_script(&largest).unwrap();
    largest.push(b'#');
    assert_eq!(rule_of(check_script(&largest)), "script.size");
}

#[test]
fn a_script_that_keeps_the_standard_passes_its_dry_run() {
    let checked = check(MANIFEST, GOOD).unwrap();
    assert_eq!(checked.manifest.name, "queue_depth");
    assert_eq!(checked.samples, [("queue.depth".to_string(), 12.0), ("queue.oldest".to_string(), 340.0)]);
    // Prometheus's format is lab 08's too; a script may read its own environment's PATH.
    let prometheus = "#!/bin/sh\necho '# TYPE queue_total counter'\necho \"queue_total{q=\\\"a\\\"} 3\"\ntest -n \"$PATH\" && echo 'queue.depth 1'\n";
    let manifest = manifest_with("metrics = [\"queue_total\", \"queue.depth\"]");
    check(&manifest, prometheus).unwrap();
    // A long script (100 KiB, mostly comments) printing 15 KB, a reading a line, is within the limits.
    let long = format!(
        "{}# {}\n",
        GOOD.replace("echo 'queue.depth 12'", "seq 1000 | sed 's/^/queue.depth /'"),
        "x".repeat(100 * 1024)
    );
    let checked = check(MANIFEST, &long).unwrap();
    assert_eq!(checked.samples.len(), 1001);
}

#[test]
fn each_rule_of_the_dry_run_is_named_when_broken() {
    let sleeper = "#!/bin/sh\necho 'queue.depth 1'\nsleep 30\necho 'queue.oldest 2'\n";
    for (script, rule) in [
        ("#!/bin/sh\necho 'queue.depth 1'\necho 'queue.oldest 2'\nexit 2\n", "run.exit"),
        ("#!/bin/sh\necho 'queue depth is twelve'\n", "run.output"),
        ("#!/bin/sh\nyes 'queue.depth 1' | head -c 200000\n", "run.output"),
        ("#!/bin/sh\necho 'queue.depth 1'\necho 'queue.oldest 2'\necho 'cpu.busy 5'\n", "run.undeclared"),
        ("#!/bin/sh\necho 'queue.depth 1'\n", "run.missing"),
        ("#!/bin/sh\necho 'queue.depth 1'\necho 'queue.oldest 2'\ntouch state\n", "run.side_effect"),
        (
            "#!/bin/sh\necho 'queue.depth 1'\necho 'queue.oldest 2'\nmkdir \"$TMPDIR/cache\"\n",
            "run.side_effect",
        ),
        ("#!/no/such/interpreter\necho 'queue.depth 1'\n", "run.exit"),
        (sleeper, "run.timeout"),
    ] {
        assert_eq!(rule_of(check(MANIFEST, script)), rule, "{script}");
    }
}

#[test]
fn a_script_is_run_with_an_empty_environment_in_a_directory_of_its_own() {
    // A variable of the test's own environment (cargo sets several) must not reach the script.
    let kept = ["PATH", "HOME", "TMPDIR", "PWD", "SHLVL", "_", "OLDPWD"];
    let inherited = std::env::vars()
        .map(|(name, _)| name)
        .find(|name| {
            !kept.contains(&name.as_str()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .unwrap_or_else(|| "CARGO_MANIFEST_DIR".to_string());
    let manifest = manifest_with("metrics = [\"env.count\", \"env.inherited\", \"env.home\"]");
    let script = format!(
        "#!/bin/sh\n\
         echo \"env.count $(env | grep -vc '^\\(PATH\\|HOME\\|TMPDIR\\|PWD\\|SHLVL\\|_\\|OLDPWD\\)=')\"\n\
         echo \"env.inherited ${{#{inherited}}}\"\n\
         test \"$(pwd)\" = \"$HOME\" && echo 'env.home 1' || echo 'env.home 0'\n"
    );
    let checked = check(&manifest, &script).unwrap();
    assert_eq!(
        checked.samples,
        [("env.count".to_string(), 0.0), ("env.inherited".to_string(), 0.0), ("env.home".to_string(), 1.0)],
        "{inherited} was visible, or the script did not start in its own directory",
    );
}

// ---------------------------------------------------------------------------------------------
// Through the API

fn package(manifest: &str, script: &str) -> Value {
    json!({ "manifest": manifest, "script": base64::engine::general_purpose::STANDARD.encode(script) })
}

#[test(tokio)]
async fn an_admin_uploads_versions_and_a_broken_package_is_refused_before_it_is_stored() {
    let test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    let (status, body) = test.post("/api/scripts", &ada, package(MANIFEST, GOOD)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["data"]["name"].as_str(), body["data"]["version"].as_i64()),
        (Some("queue_depth"), Some(1))
    );
    let sha = body["data"]["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(GOOD.as_bytes())));
    let stored = test.records.script_version("queue_depth", 1).await.unwrap().unwrap();
    assert_eq!((stored.body.as_slice(), stored.uploaded_by.as_str()), (GOOD.as_bytes(), "ada"));

    let second = GOOD.replace("12", "13");
    let (status, body) = test.post("/api/scripts", &ada, package(MANIFEST, &second)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["version"], 2);

    for (manifest, script, rule) in [
        (
            MANIFEST.replace("timeout_secs = 2", "timeout_secs = 20"),
            GOOD.to_string(),
            "manifest.timeout_secs",
        ),
        (MANIFEST.to_string(), "echo 'queue.depth 1'".to_string(), "script.interpreter"),
        (MANIFEST.to_string(), "#!/bin/sh\necho 'queue.depth 1'\n".to_string(), "run.missing"),
    ] {
        let (status, body) = test.post("/api/scripts", &ada, package(&manifest, &script)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{script}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(rule), "the refusal does not name {rule}: {body}");
    }
    let (status, body) =
        test.post("/api/scripts", &ada, json!({ "manifest": MANIFEST, "script": "not base64!" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        test.records.script_versions("queue_depth").await.unwrap(),
        [1, 2],
        "a refused package was stored"
    );

    let (status, listed) = test.get("/api/scripts/queue_depth", &test.login("vera").await).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["data"]["versions"][0]["version"], 2, "{listed}");
    assert_eq!(listed["data"]["versions"][1]["sha256"], sha.as_str(), "{listed}");
    assert!(
        listed["data"]["versions"][0].get("script").is_none()
            && listed["data"]["versions"][0].get("body").is_none()
    );
}

#[test(tokio)]
async fn an_upload_too_large_is_refused_before_it_is_read() {
    let test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    let huge = format!("#!/bin/sh\n{}", "#".repeat(platform::scripts::MAX_SCRIPT_BYTES));
    let (status, body) = test.post("/api/scripts", &ada, package(MANIFEST, &huge)).await;
    assert!(status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::BAD_REQUEST, "{status} {body}");
    let far_too_big = "A".repeat(2 * platform::api::scripts::MAX_UPLOAD_BYTES);
    let (status, _) =
        test.post("/api/scripts", &ada, json!({ "manifest": MANIFEST, "script": far_too_big })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(test.records.scripts().await.unwrap().is_empty());
}

#[test(tokio)]
async fn only_an_admin_uploads_or_activates_and_each_refusal_is_audited() {
    let test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    let (status, body) = test.post("/api/scripts", &ada, package(MANIFEST, GOOD)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for user in ["otto", "vera"] {
        let client = test.login(user).await;
        let (status, _) = test.post("/api/scripts", &client, package(MANIFEST, GOOD)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} uploaded a script");
        let (status, _, _) = test
            .send(
                axum::http::Method::PUT,
                "/api/scripts/queue_depth/active",
                Some(&client),
                true,
                Some(json!({ "version": 1 })),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} activated a script");
        let query =
            platform::records::AuditQuery { user: Some(user.into()), limit: 100, ..Default::default() };
        let audited = test.records.audit_log(&query).await.unwrap();
        let refused =
            audited.iter().filter(|e| e.entry.action == "script" && e.entry.outcome == "refused").count();
        assert_eq!(refused, 2, "{user}: {audited:?}");
    }
    assert_eq!(test.records.script_versions("queue_depth").await.unwrap(), [1]);
    assert_eq!(test.records.scripts().await.unwrap()[0].active, None);
}

#[test(tokio)]
async fn a_version_is_rolled_out_and_rolled_back() {
    let test = TestPlatform::start(&[]).await;
    let ada = test.login("ada").await;
    for value in ["12", "13"] {
        let (status, body) =
            test.post("/api/scripts", &ada, package(MANIFEST, &GOOD.replace("12", value))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let activate = |version: i64| {
        let ada = ada.clone();
        let test = &test;
        async move {
            let (status, _, body) = test
                .send(
                    axum::http::Method::PUT,
                    "/api/scripts/queue_depth/active",
                    Some(&ada),
                    true,
                    Some(json!({ "version": version })),
                )
                .await;
            (status, body)
        }
    };
    let (status, body) = activate(2).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["data"]["active"].as_i64(), body["data"]["latest"].as_i64()),
        (Some(2), Some(2)),
        "{body}"
    );
    let (status, body) = activate(1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["active"], 1, "a rollback");
    let (status, _) = activate(3).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = test.get("/api/scripts", &ada).await;
    assert_eq!(listed["data"][0]["active"], 1, "{listed}");
    let audited = test
        .records
        .audit_log(&platform::records::AuditQuery {
            user: Some("ada".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let allowed: Vec<_> =
        audited.iter().filter(|e| e.entry.action == "script" && e.entry.outcome == "allowed").collect();
    assert_eq!(allowed.len(), 4, "two uploads and two activations: {audited:?}");
}

// ---------------------------------------------------------------------------------------------
// Through the control system

/// `POST /api/scripts/queue_depth/rollouts` of `version` to `target`, as `client`: the status and
/// the body.
async fn roll_out(
    test: &TestPlatform,
    client: &common::Client,
    version: i64,
    target: &str,
) -> (StatusCode, Value) {
    let body = json!({ "version": version, "target": target });
    test.post("/api/scripts/queue_depth/rollouts", client, body).await
}

#[test(tokio)]
async fn a_version_reaches_the_hosts_of_its_target_through_the_control_master_and_is_rolled_back() {
    let mut test = TestPlatform::start(&[("web1", &[("env", "staging")]), ("db1", &[("env", "prod")])]).await;
    let scripts = test.with_distribution().await;
    let ada = test.login("ada").await;
    let second = GOOD.replace("12", "13");
    for script in [GOOD, second.as_str()] {
        let (status, body) = test.post("/api/scripts", &ada, package(MANIFEST, script)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for (version, script) in [(1, GOOD), (2, second.as_str()), (1, GOOD)] {
        let (status, body) = roll_out(&test, &ada, version, "tag:env=staging").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["active"], version, "{body}");
        let shown = test.wait_for_run(body["data"]["run"].as_i64().unwrap(), &ada).await;
        assert_eq!(shown["run"]["state"], "complete", "{shown}");
        let results = shown["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "only the target's host runs the installer: {shown}");
        assert_eq!(
            (results[0]["host"].as_str(), results[0]["exit_code"].as_i64()),
            (Some("web1"), Some(0)),
            "{shown}"
        );
        let installed = platform::scripts::installed(&scripts);
        assert_eq!(installed.len(), 1, "{installed:?}");
        assert_eq!(installed[0].version, version, "version {version} is not the current one on the host");
        assert_eq!(std::fs::read_to_string(&installed[0].program).unwrap(), script);
    }
    let (_, listed) = test.get("/api/scripts/queue_depth", &ada).await;
    assert_eq!(listed["data"]["active"], 1, "{listed}");

    // A target with no host, a version that does not exist, and a user who is not an admin.
    let (status, body) = roll_out(&test, &ada, 3, "tag:env=staging").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = roll_out(&test, &ada, 2, "tag:env=(").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let otto = test.login("otto").await;
    let (status, body) = roll_out(&test, &otto, 2, "tag:env=staging").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(platform::scripts::installed(&scripts)[0].version, 1, "a refused rollout changed the host");
    let (_, listed) = test.get("/api/scripts/queue_depth", &ada).await;
    assert_eq!(listed["data"]["active"], 1, "a refused rollout changed the active version: {listed}");
}

#[test(tokio)]
async fn a_package_is_served_only_for_its_checksum() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_distribution().await;
    let ada = test.login("ada").await;
    let (status, body) = test.post("/api/scripts", &ada, package(MANIFEST, GOOD)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sha = sha256_of(GOOD);
    let (status, _, served) = test.get_bytes(&format!("/packages/queue_depth/1/{sha}")).await;
    assert_eq!(
        (status, served.as_slice()),
        (StatusCode::OK, GOOD.as_bytes()),
        "the host's installer needs no session"
    );
    for wrong in [
        format!("/packages/queue_depth/1/{}", sha256_of("another")),
        format!("/packages/queue_depth/2/{sha}"),
        format!("/packages/nothing/1/{sha}"),
    ] {
        let (status, _, _) = test.get_bytes(&wrong).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{wrong}");
    }
}

/// A server that answers every request with `body`, as a platform (or something in its place)
/// that sends the wrong script: its URL.
async fn serving(body: impl Into<String>) -> String {
    let body: String = body.into();
    common::stand_in(body.into_bytes(), "/packages/queue_depth/1/x").await.url
}

#[test(tokio)]
async fn the_installer_checks_what_it_fetched_against_the_signed_checksum() {
    let dir = testkit::scratch_dir();
    let good = serving(GOOD).await;
    let received =
        platform::scripts::receive(&good, dir.path(), MANIFEST, &sha256_of(GOOD), 1).await.unwrap();
    assert_eq!(received.fetched, Some(GOOD.len()));
    assert_eq!(received.installed.version, 1);

    // Something else in the platform's place: refused, nothing written, version 1 still current.
    let tampered = serving("#!/bin/sh\necho 'queue.depth 0'\necho 'queue.oldest 0'\nrm -rf ~\n").await;
    let refused = platform::scripts::receive(&tampered, dir.path(), MANIFEST, &sha256_of(GOOD), 2).await;
    assert!(matches!(refused, Err(platform::scripts::InstallError::Checksum { .. })), "{refused:?}");
    assert!(!dir.path().join("queue_depth/2").exists(), "a refused version was written");
    assert_eq!(platform::scripts::installed(dir.path())[0].version, 1);

    // Nothing listens there: the fetch fails, and says where it tried.
    let nowhere = "http://127.0.0.1:1/packages/queue_depth/3/x";
    let failed = platform::scripts::receive(nowhere, dir.path(), MANIFEST, &sha256_of("three"), 3).await;
    assert!(matches!(failed, Err(platform::scripts::InstallError::Fetch { .. })), "{failed:?}");
}

#[test(tokio)]
async fn a_rollback_needs_no_download_and_a_damaged_copy_is_fetched_again() {
    let dir = testkit::scratch_dir();
    let second = GOOD.replace("12", "13");
    platform::scripts::install(dir.path(), MANIFEST, GOOD.as_bytes(), &sha256_of(GOOD), 1).unwrap();
    platform::scripts::install(dir.path(), MANIFEST, second.as_bytes(), &sha256_of(&second), 2).unwrap();
    // The platform cannot be reached: version 1 is on the host, so it is made current all the same.
    let nowhere = "http://127.0.0.1:1/packages/queue_depth/1/x";
    let received =
        platform::scripts::receive(nowhere, dir.path(), MANIFEST, &sha256_of(GOOD), 1).await.unwrap();
    assert_eq!((received.fetched, received.installed.version), (None, 1));

    // Version 2's copy on the host was changed: it is fetched again, and the signed one installed.
    std::fs::write(dir.path().join("queue_depth/2/script"), "#!/bin/sh\necho changed\n").unwrap();
    let url = serving(second.clone()).await;
    let received =
        platform::scripts::receive(&url, dir.path(), MANIFEST, &sha256_of(&second), 2).await.unwrap();
    assert_eq!((received.fetched, received.installed.version), (Some(second.len()), 2));
    assert_eq!(std::fs::read_to_string(&received.installed.program).unwrap(), second);
}

// ---------------------------------------------------------------------------------------------
// On a host

fn sha256_of(script: &str) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(script.as_bytes()))
}

#[test]
fn a_version_is_installed_whole_after_its_checksum_and_runs_as_a_plugin() {
    let dir = testkit::scratch_dir();
    let installed =
        platform::scripts::install(dir.path(), MANIFEST, GOOD.as_bytes(), &sha256_of(GOOD), 1).unwrap();
    assert_eq!((installed.manifest.name.as_str(), installed.version), ("queue_depth", 1));
    assert_eq!(std::fs::read(&installed.program).unwrap(), GOOD.as_bytes());
    let listed = platform::scripts::installed(dir.path());
    assert_eq!(listed, std::slice::from_ref(&installed));

    // Lab 08's plugin runner runs it as the agent will, with the manifest's interval and timeout.
    let plugin = installed.plugin();
    assert_eq!((plugin.interval, plugin.timeout), (Duration::from_secs(30), Duration::from_secs(2)));
    let output = monitor::collect::plugin::run_plugin(&plugin).unwrap();
    let samples = monitor::collect::parse_plugin_output(std::str::from_utf8(&output).unwrap()).unwrap();
    assert_eq!(
        samples.iter().map(|s| s.metric.as_str()).collect::<Vec<_>>(),
        ["queue.depth", "queue.oldest"]
    );

    // A script that is not the one the platform recorded is refused, and nothing changes.
    let tampered = GOOD.replace("12", "99");
    let refused = platform::scripts::install(dir.path(), MANIFEST, tampered.as_bytes(), &sha256_of(GOOD), 2);
    assert!(matches!(refused, Err(platform::scripts::InstallError::Checksum { .. })), "{refused:?}");
    assert!(!dir.path().join("queue_depth/2").exists(), "a refused version was written");
    assert_eq!(platform::scripts::installed(dir.path())[0].version, 1);
}

#[test]
fn a_new_version_is_rolled_out_and_an_old_one_rolled_back_on_the_host() {
    let dir = testkit::scratch_dir();
    let second = GOOD.replace("12", "13");
    platform::scripts::install(dir.path(), MANIFEST, GOOD.as_bytes(), &sha256_of(GOOD), 1).unwrap();
    let two =
        platform::scripts::install(dir.path(), MANIFEST, second.as_bytes(), &sha256_of(&second), 2).unwrap();
    assert_eq!(platform::scripts::installed(dir.path()), std::slice::from_ref(&two));
    assert_eq!(std::fs::read_to_string(&two.program).unwrap(), second);

    let one = platform::scripts::activate(dir.path(), "queue_depth", 1).unwrap();
    assert_eq!(one.version, 1);
    assert_eq!(std::fs::read_to_string(&one.program).unwrap(), GOOD, "the rollback runs the old script");
    assert_eq!(platform::scripts::installed(dir.path())[0].version, 1);
    let missing = platform::scripts::activate(dir.path(), "queue_depth", 3);
    assert!(matches!(missing, Err(platform::scripts::InstallError::NotInstalled { .. })), "{missing:?}");
    // Installing a version that is there again makes it current, without writing it again.
    let again =
        platform::scripts::install(dir.path(), MANIFEST, second.as_bytes(), &sha256_of(&second), 2).unwrap();
    assert_eq!(again, two);
}

/// Waits for a batch of points with one for which `matches` holds (`what`, in the message when
/// none comes), taking every batch the runner hands on meanwhile: that batch, and that point.
fn wait_for_point(
    points: &std::sync::mpsc::Receiver<Vec<monitor::Point>>,
    what: &str,
    matches: impl Fn(&monitor::Point) -> bool,
) -> (Vec<monitor::Point>, monitor::Point) {
    let deadline = std::time::Instant::now() + testkit::DEFAULT_DEADLINE;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match points.recv_timeout(left) {
            Ok(batch) => {
                if let Some(point) = batch.iter().find(|point| matches(point)).cloned() {
                    return (batch, point);
                }
                seen.extend(batch.into_iter().map(|p| format!("{} {} {}", p.host, p.metric, p.value)));
            }
            Err(_) => break,
        }
    }
    panic!("no point with {what}; seen: {seen:?}");
}

#[test]
fn the_current_scripts_run_as_the_hosts_collectors_and_a_new_version_at_once() {
    let dir = testkit::scratch_dir();
    platform::scripts::install(dir.path(), MANIFEST, GOOD.as_bytes(), &sha256_of(GOOD), 1).unwrap();
    let (sink, points) = std::sync::mpsc::sync_channel(64);
    let shutdown = monitor::Shutdown::new();
    let runner =
        platform::scripts::spawn_runner(dir.path().to_path_buf(), "web1".into(), sink, shutdown.clone())
            .unwrap();
    let depth = |value: f64| {
        move |p: &monitor::Point| p.host == "web1" && p.metric == "queue.depth" && p.value == value
    };
    let (batch, first) = wait_for_point(&points, "queue.depth 12", depth(12.0));
    let oldest = batch.iter().find(|p| p.metric == "queue.oldest").expect("both metrics, one run");
    assert_eq!((oldest.host.as_str(), oldest.value), ("web1", 340.0));
    assert_eq!(oldest.tags.get("queue").map(String::as_str), Some("deferred"), "{oldest:?}");
    // Its interval is 30 s: looked at again every second, it runs next on the clock's next 30 s
    // tick (which may come within these 3 s), not at every look.
    let until = std::time::Instant::now() + 3 * platform::scripts::runner::RESCAN;
    let mut again = Vec::new();
    while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
        match points.recv_timeout(left) {
            Ok(batch) => again.push(batch[0].timestamp),
            Err(_) => break,
        }
    }
    assert!(
        again.len() <= 1 && again.iter().all(|at| at % 30_000 == 0),
        "runs within 3 s of the first, on a 30 s interval, at {again:?} (ms)"
    );

    // Version 2 runs at once, not at the next 30 s tick.
    let second = GOOD.replace("12", "13");
    platform::scripts::install(dir.path(), MANIFEST, second.as_bytes(), &sha256_of(&second), 2).unwrap();
    let (_, rolled) = wait_for_point(&points, "queue.depth 13 (version 2)", depth(13.0));
    assert!(rolled.timestamp >= first.timestamp);

    // A broken version 3 shows as the script's errors rising; a rollback cures it.
    let broken = "#!/bin/sh\necho 'queue.depth 1'\nexit 3\n";
    platform::scripts::install(dir.path(), MANIFEST, broken.as_bytes(), &sha256_of(broken), 3).unwrap();
    let (_, errors) = wait_for_point(&points, "the script's errors counted", |p| {
        p.metric == "agent.collector.errors"
            && p.tags.get("collector").map(String::as_str) == Some("script:queue_depth")
            && p.value >= 1.0
    });
    assert_eq!(errors.host, "web1");
    platform::scripts::activate(dir.path(), "queue_depth", 1).unwrap();
    wait_for_point(&points, "queue.depth 12 again (the rollback)", depth(12.0));
    shutdown.stop();
    runner.join().unwrap();
}

#[test]
fn what_a_crash_leaves_mid_install_is_not_run() {
    let dir = testkit::scratch_dir();
    platform::scripts::install(dir.path(), MANIFEST, GOOD.as_bytes(), &sha256_of(GOOD), 1).unwrap();
    // A crash while version 2 was written, and a script directory with no current version.
    let partial = dir.path().join("queue_depth/.2.partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("script"), "#!/bin/sh\necho 'queue.dep").unwrap();
    std::fs::create_dir_all(dir.path().join("half_made/1")).unwrap();
    let listed = platform::scripts::installed(dir.path());
    assert_eq!(
        listed.iter().map(|s| (s.manifest.name.as_str(), s.version)).collect::<Vec<_>>(),
        [("queue_depth", 1)]
    );
    // The next install of version 2 starts again from nothing.
    let second = GOOD.replace("12", "13");
    let two =
        platform::scripts::install(dir.path(), MANIFEST, second.as_bytes(), &sha256_of(&second), 2).unwrap();
    assert_eq!(std::fs::read_to_string(&two.program).unwrap(), second);
    assert!(!partial.exists());
}
