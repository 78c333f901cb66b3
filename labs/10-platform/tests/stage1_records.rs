//! Stage 1, records: the platform's records in SQL, on SQLite and (when `PLATFORM_MARIADB_URL`
//! names a server) on MariaDB, each test on a fresh database of each backend.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{TestDb, database_urls, databases};
use platform::records::{
    AuditQuery, Backend, Host, HostResult, NewAudit, NewRun, NewScriptVersion, RecordError, Records, Role,
    RuleRecord, RunState, User,
};
use proptest::prelude::*;
use sqlx::Connection;
use testkit::test;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn is_invalid(err: &RecordError, wanted: &str) -> bool {
    matches!(err, RecordError::Invalid { field, .. } if field.starts_with(wanted))
}

fn role(name: &str) -> Role {
    Role {
        name: name.into(),
        commands: vec!["/usr/bin/uptime".into()],
        targets: "tag:env=staging".into(),
        admin: false,
    }
}

fn user(name: &str, role: &str) -> User {
    User {
        name: name.into(),
        role: role.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created: 1_000,
        disabled: false,
    }
}

fn script(name: &str, body: &[u8]) -> NewScriptVersion {
    NewScriptVersion {
        name: name.into(),
        manifest: format!("name = \"{name}\"\ninterval = \"30s\"\n"),
        body: body.to_vec(),
        sha256: "a".repeat(64),
        uploaded_by: "ada".into(),
        uploaded: 5_000,
    }
}

fn result(host: &str, status: &str) -> HostResult {
    HostResult {
        host: host.into(),
        status: status.into(),
        exit_code: Some(0),
        output: format!("{host} ok\n"),
        ended: 9_000,
    }
}

fn new_run(hosts: &[&str]) -> NewRun {
    NewRun {
        user: "ada".into(),
        target: "tag:dc=bj".into(),
        command: vec!["/usr/bin/uptime".into(), "-p".into()],
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        started: 8_000,
    }
}

fn audit(at: i64, user: &str, action: &str, outcome: &str) -> NewAudit {
    NewAudit {
        at,
        user: user.into(),
        action: action.into(),
        target: "tag:dc=bj".into(),
        outcome: outcome.into(),
        detail: format!("{action} by {user}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Opening and migrating

#[test(tokio)]
async fn a_new_database_is_migrated_to_the_current_schema() {
    for (name, url, _dir) in database_urls().await {
        let records = Records::open(&url).await.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(records.schema_version().await.unwrap() >= 1, "{name}: the first migration is applied");
        let expected = if name == "sqlite" { Backend::Sqlite } else { Backend::MariaDb };
        assert_eq!(records.backend(), expected, "{name}");
        assert!(records.hosts().await.unwrap().is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn records_outlive_the_connection_and_a_second_open_migrates_nothing() {
    for (name, url, _dir) in database_urls().await {
        let records = Records::open(&url).await.unwrap();
        let version = records.schema_version().await.unwrap();
        records.add_host("web1", &tags(&[("dc", "bj")]), 1).await.unwrap();
        records.put_role(&role("ops")).await.unwrap();
        records.close().await;
        drop(records);
        let again = Records::open(&url).await.unwrap_or_else(|err| panic!("{name}: reopening: {err}"));
        assert_eq!(again.schema_version().await.unwrap(), version, "{name}");
        assert_eq!(again.host("web1").await.unwrap().unwrap().tags, tags(&[("dc", "bj")]), "{name}");
        assert_eq!(again.roles().await.unwrap(), [role("ops")], "{name}");
    }
}

#[test(tokio)]
async fn a_sqlite_file_is_kept_in_write_ahead_log_mode() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("records.db");
    let records = Records::open(&format!("sqlite://{}", path.display())).await.unwrap();
    records.add_host("web1", &BTreeMap::new(), 1).await.unwrap();
    // The journal mode is the file's own: any other connection sees it.
    sqlx::any::install_default_drivers();
    let mut other = sqlx::AnyConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut other).await.unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_database_is_one_database() {
    let records = Records::open("sqlite::memory:").await.unwrap();
    records.add_host("web1", &BTreeMap::new(), 1).await.unwrap();
    // Many queries at once, so a pool would open more connections if it could.
    let lookups: Vec<_> = (0..16)
        .map(|_| {
            let records = records.clone();
            tokio::spawn(async move { records.host("web1").await })
        })
        .collect();
    for lookup in lookups {
        assert!(lookup.await.unwrap().unwrap().is_some());
    }
}

#[test(tokio)]
async fn a_url_of_no_known_database_is_refused_without_its_password() {
    for url in ["postgres://ada:hunter2@db/platform", "platform.db", "sqlite:", ""] {
        let err = Records::open(url).await.unwrap_err();
        assert!(matches!(err, RecordError::BadUrl { .. }), "{url}: {err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hosts and tags

#[test(tokio)]
async fn a_host_is_recorded_with_its_tags_and_found_by_them() {
    for TestDb { name, records, .. } in databases().await {
        let added = records.add_host("web1", &tags(&[("dc", "bj"), ("role", "web")]), 1_700).await.unwrap();
        assert_eq!(
            added,
            Host { name: "web1".into(), tags: tags(&[("dc", "bj"), ("role", "web")]), added: 1_700 }
        );
        records.add_host("db1", &tags(&[("dc", "bj"), ("role", "db")]), 1_701).await.unwrap();
        records.add_host("web2", &tags(&[("dc", "sh"), ("role", "web")]), 1_702).await.unwrap();
        records.add_host("bare", &BTreeMap::new(), 1_703).await.unwrap();

        assert_eq!(records.host("web1").await.unwrap(), Some(added), "{name}");
        assert_eq!(records.host("nobody").await.unwrap(), None, "{name}");
        let all = records.hosts().await.unwrap();
        let names: Vec<&str> = all.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["bare", "db1", "web1", "web2"], "{name}");
        assert!(all[0].tags.is_empty(), "{name}");
        assert_eq!(all[3].tags, tags(&[("dc", "sh"), ("role", "web")]), "{name}");
        assert_eq!(records.hosts_tagged("dc", "bj").await.unwrap(), ["db1", "web1"], "{name}");
        assert_eq!(records.hosts_tagged("role", "web").await.unwrap(), ["web1", "web2"], "{name}");
        assert!(records.hosts_tagged("dc", "gz").await.unwrap().is_empty(), "{name}");
        // Values compare byte for byte: a trailing space makes another value, on every backend.
        records.add_host("web3", &tags(&[("dc", "bj ")]), 1_704).await.unwrap();
        assert_eq!(records.hosts_tagged("dc", "bj").await.unwrap(), ["db1", "web1"], "{name}");
        assert_eq!(records.hosts_tagged("dc", "bj ").await.unwrap(), ["web3"], "{name}");
        assert!(records.hosts_tagged("dc", "BJ").await.unwrap().is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn a_second_host_of_the_same_name_is_a_conflict_but_names_differ_by_case() {
    for TestDb { name, records, .. } in databases().await {
        records.add_host("web1", &tags(&[("dc", "bj")]), 1).await.unwrap();
        let err = records.add_host("web1", &tags(&[("dc", "sh")]), 2).await.unwrap_err();
        assert!(matches!(&err, RecordError::Conflict { key, .. } if key == "web1"), "{name}: {err:?}");
        // The failed add left nothing behind: the first host keeps its tags.
        assert_eq!(records.host("web1").await.unwrap().unwrap().tags, tags(&[("dc", "bj")]), "{name}");
        records.add_host("Web1", &BTreeMap::new(), 3).await.unwrap_or_else(|err| panic!("{name}: {err}"));
        records.add_host("wéb1", &BTreeMap::new(), 4).await.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(records.hosts().await.unwrap().len(), 3, "{name}");
    }
}

#[test(tokio)]
async fn tags_are_replaced_whole_and_go_with_their_host() {
    for TestDb { name, records, .. } in databases().await {
        records.add_host("web1", &tags(&[("dc", "bj"), ("role", "web")]), 1).await.unwrap();
        records.set_tags("web1", &tags(&[("dc", "sh")])).await.unwrap();
        assert_eq!(records.host("web1").await.unwrap().unwrap().tags, tags(&[("dc", "sh")]), "{name}");
        assert!(records.hosts_tagged("role", "web").await.unwrap().is_empty(), "{name}");
        let err = records.set_tags("web9", &tags(&[("dc", "sh")])).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");

        records.remove_host("web1").await.unwrap();
        assert_eq!(records.host("web1").await.unwrap(), None, "{name}");
        assert!(records.hosts_tagged("dc", "sh").await.unwrap().is_empty(), "{name}");
        let err = records.remove_host("web1").await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        // The name is free again, with no tag of the old host.
        records.add_host("web1", &BTreeMap::new(), 2).await.unwrap();
        assert!(records.host("web1").await.unwrap().unwrap().tags.is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn a_fleet_is_enrolled_at_once_and_enrolling_it_again_only_changes_tags() {
    for TestDb { name, records, .. } in databases().await {
        records.add_host("sim00007", &tags(&[("old", "yes")]), 1).await.unwrap();
        let fleet: Vec<Host> = (0..1_000)
            .map(|i| Host {
                name: format!("sim{i:05}"),
                tags: tags(&[("dc", ["bj", "sh"][i % 2])]),
                added: 10,
            })
            .collect();
        assert_eq!(records.upsert_hosts(&fleet).await.unwrap(), 999, "{name}");
        let hosts = records.hosts().await.unwrap();
        assert_eq!(hosts.len(), 1_000, "{name}");
        assert_eq!(hosts[7].tags, tags(&[("dc", "sh")]), "{name}: an enrolled host takes the tags given");
        assert_eq!(hosts[7].added, 1, "{name}: and keeps when it was first added");
        assert_eq!(records.hosts_tagged("dc", "bj").await.unwrap().len(), 500, "{name}");

        let moved: Vec<Host> =
            fleet.iter().map(|h| Host { tags: tags(&[("dc", "gz")]), ..h.clone() }).collect();
        assert_eq!(records.upsert_hosts(&moved).await.unwrap(), 0, "{name}");
        assert_eq!(records.hosts_tagged("dc", "gz").await.unwrap().len(), 1_000, "{name}");
        assert!(records.hosts_tagged("dc", "bj").await.unwrap().is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn a_bad_name_or_tag_is_refused_naming_the_field_and_nothing_is_written() {
    for TestDb { name, records, .. } in databases().await {
        let long = "x".repeat(256);
        for bad in ["", " web1", "web1 ", "web\n1", "web\u{0}1", long.as_str()] {
            let err = records.add_host(bad, &BTreeMap::new(), 1).await.unwrap_err();
            assert!(is_invalid(&err, "host.name"), "{name}: {bad:?}: {err:?}");
        }
        let err = records.add_host("web1", &tags(&[("", "bj")]), 1).await.unwrap_err();
        assert!(is_invalid(&err, "host.tags"), "{name}: {err:?}");
        let err = records.add_host("web1", &tags(&[("dc", &long)]), 1).await.unwrap_err();
        assert!(is_invalid(&err, "host.tags"), "{name}: {err:?}");
        let mut fleet = vec![Host { name: "ok1".into(), tags: BTreeMap::new(), added: 1 }];
        fleet.push(Host { name: "bad\tname".into(), tags: BTreeMap::new(), added: 1 });
        let err = records.upsert_hosts(&fleet).await.unwrap_err();
        assert!(is_invalid(&err, "host.name"), "{name}: {err:?}");
        assert!(records.hosts().await.unwrap().is_empty(), "{name}: nothing is written");
        // 255 characters, not bytes: a name of 255 two-byte characters is fine.
        let wide = "é".repeat(255);
        records.add_host(&wide, &BTreeMap::new(), 1).await.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(records.host(&wide).await.unwrap().is_some(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Users and roles

#[test(tokio)]
async fn roles_are_recorded_and_changed_in_place() {
    for TestDb { name, records, .. } in databases().await {
        records.put_role(&role("ops")).await.unwrap();
        let admin =
            Role { name: "admin".into(), commands: vec!["*".into()], targets: "*".into(), admin: true };
        records.put_role(&admin).await.unwrap();
        assert_eq!(records.roles().await.unwrap(), [admin.clone(), role("ops")], "{name}");
        let changed = Role { commands: vec!["/usr/bin/*".into(), "/bin/df".into()], ..role("ops") };
        records.put_role(&changed).await.unwrap();
        records.put_role(&changed).await.unwrap();
        assert_eq!(records.role("ops").await.unwrap(), Some(changed), "{name}");
        let none = Role { commands: vec![], ..role("viewer") };
        records.put_role(&none).await.unwrap();
        assert_eq!(records.role("viewer").await.unwrap(), Some(none), "{name}");
        assert_eq!(records.role("nobody").await.unwrap(), None, "{name}");
        let err = records.put_role(&role("")).await.unwrap_err();
        assert!(is_invalid(&err, "role.name"), "{name}: {err:?}");
        let many =
            Role { commands: vec!["/usr/local/bin/".to_string() + &"x".repeat(240); 400], ..role("many") };
        let err = records.put_role(&many).await.unwrap_err();
        assert!(is_invalid(&err, "role.commands"), "{name}: {err:?}");
        assert_eq!(records.role("many").await.unwrap(), None, "{name}");
    }
}

#[test(tokio)]
async fn a_user_needs_an_existing_role_and_a_name_of_their_own() {
    for TestDb { name, records, .. } in databases().await {
        let err = records.add_user(&user("ada", "ops")).await.unwrap_err();
        assert!(matches!(&err, RecordError::NotFound { key, .. } if key == "ops"), "{name}: {err:?}");
        records.put_role(&role("ops")).await.unwrap();
        records.add_user(&user("ada", "ops")).await.unwrap();
        records.add_user(&user("bob", "ops")).await.unwrap();
        let err = records.add_user(&user("ada", "ops")).await.unwrap_err();
        assert!(matches!(&err, RecordError::Conflict { key, .. } if key == "ada"), "{name}: {err:?}");
        assert_eq!(records.user("ada").await.unwrap(), Some(user("ada", "ops")), "{name}");
        assert_eq!(records.user("eve").await.unwrap(), None, "{name}");
        let names: Vec<String> = records.users().await.unwrap().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["ada", "bob"], "{name}");
        let err =
            records.add_user(&User { password_hash: String::new(), ..user("cat", "ops") }).await.unwrap_err();
        assert!(is_invalid(&err, "user.password_hash"), "{name}: {err:?}");
    }
}

#[test(tokio)]
async fn a_role_in_use_cannot_be_deleted() {
    for TestDb { name, records, .. } in databases().await {
        records.put_role(&role("ops")).await.unwrap();
        records.put_role(&role("spare")).await.unwrap();
        records.add_user(&user("ada", "ops")).await.unwrap();
        let err = records.delete_role("ops").await.unwrap_err();
        assert!(matches!(err, RecordError::Conflict { .. }), "{name}: {err:?}");
        assert!(records.role("ops").await.unwrap().is_some(), "{name}");
        records.delete_role("spare").await.unwrap();
        assert_eq!(records.role("spare").await.unwrap(), None, "{name}");
        let err = records.delete_role("spare").await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
    }
}

#[test(tokio)]
async fn a_user_is_updated_whole() {
    for TestDb { name, records, .. } in databases().await {
        records.put_role(&role("ops")).await.unwrap();
        records.put_role(&role("viewer")).await.unwrap();
        records.add_user(&user("ada", "ops")).await.unwrap();
        let changed = User {
            role: "viewer".into(),
            password_hash: "$argon2id$new".into(),
            disabled: true,
            ..user("ada", "ops")
        };
        records.update_user(&changed).await.unwrap();
        assert_eq!(records.user("ada").await.unwrap(), Some(changed.clone()), "{name}");
        let err = records.update_user(&User { role: "nobody".into(), ..changed.clone() }).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        assert_eq!(
            records.user("ada").await.unwrap(),
            Some(changed),
            "{name}: the failed update changed nothing"
        );
        let err = records.update_user(&user("eve", "ops")).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rules

#[test(tokio)]
async fn rules_are_kept_by_their_own_id() {
    for TestDb { name, records, .. } in databases().await {
        let busy =
            RuleRecord { id: 7, expr: "cpu.busy all(#3) > 90".into(), priority: 1, note: "busy".into() };
        let full =
            RuleRecord { id: 2, expr: "mem.used min(#3) > 6.8e9".into(), priority: 2, note: String::new() };
        records.put_rule(&busy).await.unwrap();
        records.put_rule(&full).await.unwrap();
        assert_eq!(records.rules().await.unwrap(), [full.clone(), busy.clone()], "{name}");
        let busier = RuleRecord { expr: "cpu.busy all(#5) > 95".into(), ..busy };
        records.put_rule(&busier).await.unwrap();
        assert_eq!(records.rules().await.unwrap(), [full, busier], "{name}");
        records.delete_rule(2).await.unwrap();
        assert_eq!(records.rules().await.unwrap().len(), 1, "{name}");
        assert!(matches!(records.delete_rule(2).await.unwrap_err(), RecordError::NotFound { .. }), "{name}");
        let err = records
            .put_rule(&RuleRecord { id: 3, expr: "  ".into(), priority: 0, note: String::new() })
            .await
            .unwrap_err();
        assert!(is_invalid(&err, "rule.expr"), "{name}: {err:?}");
        // Long text: at most 65,535 bytes, and no NUL.
        let longest = RuleRecord { id: 4, expr: "x".repeat(65_535), priority: 0, note: String::new() };
        records.put_rule(&longest).await.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(records.rules().await.unwrap().contains(&longest), "{name}: the longest rule is kept whole");
        let err =
            records.put_rule(&RuleRecord { note: "y".repeat(65_536), ..longest.clone() }).await.unwrap_err();
        assert!(is_invalid(&err, "rule.note"), "{name}: {err:?}");
        let err = records.put_rule(&RuleRecord { expr: "a\0b".into(), ..longest }).await.unwrap_err();
        assert!(is_invalid(&err, "rule.expr"), "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Scripts

#[test(tokio)]
async fn script_versions_are_numbered_and_kept_byte_for_byte() {
    for TestDb { name, records, .. } in databases().await {
        let every_byte: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        assert_eq!(
            records.add_script_version(&script("nginx_conns", b"#!/bin/sh\necho 1\n")).await.unwrap(),
            1,
            "{name}"
        );
        assert_eq!(
            records.add_script_version(&script("nginx_conns", &every_byte)).await.unwrap(),
            2,
            "{name}"
        );
        assert_eq!(
            records.add_script_version(&script("disk_age", b"#!/bin/sh\n")).await.unwrap(),
            1,
            "{name}"
        );
        let second = records.script_version("nginx_conns", 2).await.unwrap().unwrap();
        assert_eq!(second.body, every_byte, "{name}");
        assert_eq!(
            (second.version, second.uploaded_by.as_str(), second.uploaded),
            (2, "ada", 5_000),
            "{name}"
        );
        assert_eq!(second.manifest, script("nginx_conns", b"").manifest, "{name}");
        assert_eq!(records.script_version("nginx_conns", 3).await.unwrap(), None, "{name}");
        assert_eq!(records.script_versions("nginx_conns").await.unwrap(), [1, 2], "{name}");
        assert!(records.script_versions("nobody").await.unwrap().is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn the_active_version_moves_forward_and_back() {
    for TestDb { name, records, .. } in databases().await {
        for _ in 0..3 {
            records.add_script_version(&script("nginx_conns", b"x")).await.unwrap();
        }
        records.add_script_version(&script("disk_age", b"y")).await.unwrap();
        let listed = records.scripts().await.unwrap();
        assert_eq!(listed.len(), 2, "{name}");
        assert_eq!(
            (listed[0].name.as_str(), listed[0].latest, listed[0].active),
            ("disk_age", 1, None),
            "{name}"
        );
        assert_eq!(
            (listed[1].name.as_str(), listed[1].latest, listed[1].active),
            ("nginx_conns", 3, None),
            "{name}"
        );
        records.set_active_script("nginx_conns", 3).await.unwrap();
        records.set_active_script("nginx_conns", 2).await.unwrap();
        assert_eq!(records.scripts().await.unwrap()[1].active, Some(2), "{name}");
        let err = records.set_active_script("nginx_conns", 4).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        let err = records.set_active_script("nobody", 1).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        assert_eq!(records.scripts().await.unwrap()[1].active, Some(2), "{name}");
    }
}

#[test(tokio)]
async fn a_bad_script_version_is_refused_before_anything_is_stored() {
    for TestDb { name, records, .. } in databases().await {
        let cases = [
            (NewScriptVersion { sha256: "A".repeat(64), ..script("s", b"x") }, "script.sha256"),
            (NewScriptVersion { sha256: "a".repeat(63), ..script("s", b"x") }, "script.sha256"),
            (script("s", &vec![0; (4 << 20) + 1]), "script.body"),
            (script("", b"x"), "script.name"),
        ];
        for (bad, field) in cases {
            let err = records.add_script_version(&bad).await.unwrap_err();
            assert!(is_invalid(&err, field), "{name}: {err:?}");
        }
        assert!(records.scripts().await.unwrap().is_empty(), "{name}");
        records
            .add_script_version(&script("s", &vec![0; 4 << 20]))
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 4)]
async fn uploads_that_race_get_a_version_each() {
    for TestDb { name, records, .. } in databases().await {
        records.add_script_version(&script("raced", b"v1")).await.unwrap();
        let mut uploads = Vec::new();
        for i in 0..8 {
            let records = records.clone();
            uploads.push(tokio::spawn(async move {
                records.add_script_version(&script("raced", format!("v{i}").as_bytes())).await
            }));
        }
        let mut versions = Vec::new();
        for upload in uploads {
            versions.push(upload.await.unwrap().unwrap_or_else(|err| panic!("{name}: {err}")));
        }
        versions.sort_unstable();
        assert_eq!(versions, (2..=9).collect::<Vec<i64>>(), "{name}");
        assert_eq!(records.script_versions("raced").await.unwrap(), (1..=9).collect::<Vec<i64>>(), "{name}");
        // A script's first versions racing: one makes the script, and every upload gets a number.
        let mut uploads = Vec::new();
        for i in 0..6 {
            let records = records.clone();
            uploads.push(tokio::spawn(async move {
                records.add_script_version(&script("fresh", format!("v{i}").as_bytes())).await
            }));
        }
        for upload in uploads {
            upload.await.unwrap().unwrap_or_else(|err| panic!("{name}: a first upload that raced: {err}"));
        }
        assert_eq!(records.script_versions("fresh").await.unwrap(), (1..=6).collect::<Vec<i64>>(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Runs and results

#[test(tokio)]
async fn a_run_is_recorded_with_its_hosts_before_any_result() {
    for TestDb { name, records, .. } in databases().await {
        let id = records.start_run(&new_run(&["web2", "web1", "web3", "web1"])).await.unwrap();
        let run = records.run(id).await.unwrap().unwrap();
        assert_eq!(run.id, id, "{name}");
        assert_eq!((run.user.as_str(), run.target.as_str()), ("ada", "tag:dc=bj"), "{name}");
        assert_eq!(run.command, ["/usr/bin/uptime", "-p"], "{name}");
        assert_eq!((run.started, run.ended, run.state), (8_000, None, RunState::Running), "{name}");
        assert_eq!((run.hosts, run.results), (3, 0), "{name}: a host named twice is one host");
        assert_eq!(records.missing_hosts(id).await.unwrap(), ["web1", "web2", "web3"], "{name}");
        assert_eq!(records.run(id + 100).await.unwrap(), None, "{name}");
        let err = records.start_run(&NewRun { command: vec![], ..new_run(&["web1"]) }).await.unwrap_err();
        assert!(is_invalid(&err, "run.command"), "{name}: {err:?}");
    }
}

#[test(tokio)]
async fn results_are_recorded_once_and_the_first_is_kept() {
    for TestDb { name, records, .. } in databases().await {
        let id = records.start_run(&new_run(&["web1", "web2", "web3"])).await.unwrap();
        assert_eq!(
            records.record_results(id, &[result("web1", "done"), result("web2", "failed")]).await.unwrap(),
            2,
            "{name}"
        );
        // Told again (a restart replays what it had not seen acknowledged): the first stays.
        let again = [result("web2", "done"), result("web3", "timeout")];
        assert_eq!(records.record_results(id, &again).await.unwrap(), 1, "{name}");
        let results = records.results(id).await.unwrap();
        let statuses: Vec<(&str, &str)> =
            results.iter().map(|r| (r.host.as_str(), r.status.as_str())).collect();
        assert_eq!(statuses, [("web1", "done"), ("web2", "failed"), ("web3", "timeout")], "{name}");
        assert_eq!(results[0], result("web1", "done"), "{name}");
        assert_eq!(records.run(id).await.unwrap().unwrap().results, 3, "{name}");
        assert!(records.missing_hosts(id).await.unwrap().is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn a_batch_with_a_host_not_in_the_run_writes_nothing() {
    for TestDb { name, records, .. } in databases().await {
        let id = records.start_run(&new_run(&["web1", "web2"])).await.unwrap();
        let other = records.start_run(&new_run(&["web9"])).await.unwrap();
        let batch = [result("web1", "done"), result("web9", "done"), result("web2", "done")];
        let err = records.record_results(id, &batch).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        assert!(records.results(id).await.unwrap().is_empty(), "{name}: the batch is all or nothing");
        assert!(records.results(other).await.unwrap().is_empty(), "{name}");
        let err = records.record_results(other + 1, &[result("web1", "done")]).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
    }
}

#[test(tokio)]
async fn a_run_ends_complete_only_with_every_result() {
    for TestDb { name, records, .. } in databases().await {
        let whole = records.start_run(&new_run(&["web1", "web2"])).await.unwrap();
        let partial = records.start_run(&new_run(&["web1", "web2", "web3"])).await.unwrap();
        let running = records.start_run(&new_run(&["web1"])).await.unwrap();
        records.record_results(whole, &[result("web1", "done"), result("web2", "failed")]).await.unwrap();
        records.record_results(partial, &[result("web2", "done")]).await.unwrap();
        let unfinished: Vec<i64> = records.unfinished_runs().await.unwrap().iter().map(|r| r.id).collect();
        assert_eq!(unfinished, [whole, partial, running], "{name}");

        assert_eq!(records.finish_run(whole, 10_000).await.unwrap(), RunState::Complete, "{name}");
        let ended = records.run(whole).await.unwrap().unwrap();
        assert_eq!(
            (ended.state, ended.ended, ended.results),
            (RunState::Complete, Some(10_000), 2),
            "{name}"
        );
        assert_eq!(records.finish_run(partial, 10_001).await.unwrap(), RunState::Incomplete, "{name}");
        assert_eq!(records.missing_hosts(partial).await.unwrap(), ["web1", "web3"], "{name}");
        let ended = records.run(partial).await.unwrap().unwrap();
        assert_eq!(
            (ended.state, ended.ended, ended.results),
            (RunState::Incomplete, Some(10_001), 1),
            "{name}"
        );
        // Ending again changes nothing, even once the missing results arrive.
        records.record_results(partial, &[result("web1", "done"), result("web3", "done")]).await.unwrap();
        assert_eq!(records.finish_run(partial, 20_000).await.unwrap(), RunState::Incomplete, "{name}");
        assert_eq!(records.run(partial).await.unwrap().unwrap().ended, Some(10_001), "{name}");

        let unfinished: Vec<i64> = records.unfinished_runs().await.unwrap().iter().map(|r| r.id).collect();
        assert_eq!(unfinished, [running], "{name}");
        let err = records.finish_run(running + 1, 1).await.unwrap_err();
        assert!(matches!(err, RecordError::NotFound { .. }), "{name}: {err:?}");
        let newest: Vec<i64> = records.runs(2).await.unwrap().iter().map(|r| r.id).collect();
        assert_eq!(newest, [running, partial], "{name}");
    }
}

#[test(tokio)]
async fn a_run_on_twenty_thousand_hosts_is_recorded_in_one_call_each() {
    for TestDb { name, records, .. } in databases().await {
        // More values than one statement may bind, on either backend.
        let hosts: Vec<String> = (0..20_000).map(|i| format!("sim{i:05}")).collect();
        let run = NewRun { hosts: hosts.clone(), ..new_run(&[]) };
        let id = records.start_run(&run).await.unwrap();
        let results: Vec<HostResult> = hosts.iter().map(|h| result(h, "done")).collect();
        assert_eq!(records.record_results(id, &results).await.unwrap(), 20_000, "{name}");
        assert_eq!(records.finish_run(id, 1).await.unwrap(), RunState::Complete, "{name}");
        let recorded = records.results(id).await.unwrap();
        assert_eq!(recorded.len(), 20_000, "{name}");
        assert_eq!(recorded[19_999], result("sim19999", "done"), "{name}");
        let run = records.run(id).await.unwrap().unwrap();
        assert_eq!((run.hosts, run.results, run.state), (20_000, 20_000, RunState::Complete), "{name}");
    }
}

#[test(tokio)]
async fn a_batch_larger_than_one_statement_may_carry_is_recorded_whole() {
    for TestDb { name, records, .. } in databases().await {
        // 300 results of 64 KiB: 19 MiB, more than a MariaDB server takes in one statement.
        let hosts: Vec<String> = (0..300).map(|i| format!("web{i:03}")).collect();
        let id = records.start_run(&NewRun { hosts: hosts.clone(), ..new_run(&[]) }).await.unwrap();
        let status = "finished-after-the-second-retry-of-three"; // 40 characters
        let results: Vec<HostResult> = hosts
            .iter()
            .map(|host| HostResult { output: "o".repeat(65_536), ..result(host, status) })
            .collect();
        let recorded =
            records.record_results(id, &results).await.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(recorded, 300, "{name}");
        let read = records.results(id).await.unwrap();
        assert!(read.iter().all(|r| r.output.len() == 65_536 && r.status == status), "{name}");
    }
}

#[test(tokio)]
async fn long_output_is_cut_and_odd_output_is_kept() {
    for TestDb { name, records, .. } in databases().await {
        let id = records.start_run(&new_run(&["web1", "web2", "web3"])).await.unwrap();
        // Three bytes a character: 65,536 bytes would end inside one.
        let long = HostResult { output: "日".repeat(30_000), ..result("web1", "done") };
        let odd = HostResult {
            output: "tab\tquote' \"back\\slash\" 日本\r\n".into(),
            exit_code: None,
            ..result("web2", "done")
        };
        let negative = HostResult { exit_code: Some(-9), output: String::new(), ..result("web3", "killed") };
        records.record_results(id, &[long, odd.clone(), negative.clone()]).await.unwrap();
        let recorded = records.results(id).await.unwrap();
        assert_eq!(recorded[0].output, "日".repeat(21_845), "{name}: cut at the last character boundary");
        assert_eq!(recorded[1], odd, "{name}");
        assert_eq!(recorded[2], negative, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// The audit log

#[test(tokio)]
async fn the_audit_log_reads_newest_first_and_filters() {
    for TestDb { name, records, .. } in databases().await {
        let entries = [
            audit(100, "ada", "login", "allowed"),
            audit(200, "eve", "run", "refused"),
            audit(300, "ada", "run", "allowed"),
            audit(400, "eve", "login", "refused"),
        ];
        let mut ids = Vec::new();
        for entry in &entries {
            ids.push(records.audit(entry).await.unwrap());
        }
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{name}: {ids:?}");
        let all = records.audit_log(&AuditQuery::default()).await.unwrap();
        let read: Vec<&NewAudit> = all.iter().map(|e| &e.entry).collect();
        assert_eq!(read, [&entries[3], &entries[2], &entries[1], &entries[0]], "{name}");
        assert_eq!(all[0].id, ids[3], "{name}");

        let eve = records
            .audit_log(&AuditQuery { user: Some("eve".into()), ..AuditQuery::default() })
            .await
            .unwrap();
        assert_eq!(eve.iter().map(|e| e.entry.at).collect::<Vec<_>>(), [400, 200], "{name}");
        let runs = AuditQuery { action: Some("run".into()), since: Some(250), ..AuditQuery::default() };
        assert_eq!(
            records.audit_log(&runs).await.unwrap().iter().map(|e| e.entry.at).collect::<Vec<_>>(),
            [300],
            "{name}"
        );
        let two = records.audit_log(&AuditQuery { limit: 2, ..AuditQuery::default() }).await.unwrap();
        assert_eq!(two.iter().map(|e| e.entry.at).collect::<Vec<_>>(), [400, 300], "{name}");
        let nobody = AuditQuery { user: Some("ada' OR '1'='1".into()), ..AuditQuery::default() };
        assert!(records.audit_log(&nobody).await.unwrap().is_empty(), "{name}");
    }
}

#[test(tokio)]
async fn the_audit_log_reads_a_hundred_unless_told() {
    for TestDb { name, records, .. } in databases().await {
        for at in 0..150 {
            records.audit(&audit(at, "ada", "login", "allowed")).await.unwrap();
        }
        let read = records.audit_log(&AuditQuery::default()).await.unwrap();
        assert_eq!(read.len(), 100, "{name}");
        assert_eq!((read[0].entry.at, read[99].entry.at), (149, 50), "{name}");
        let all = records.audit_log(&AuditQuery { limit: 1_000, ..AuditQuery::default() }).await.unwrap();
        assert_eq!(all.len(), 150, "{name}");
        let err = records.audit(&audit(1, "", "login", "allowed")).await.unwrap_err();
        assert!(is_invalid(&err, "audit.user"), "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Many writers

#[test(tokio, flavor = "multi_thread", worker_threads = 4)]
async fn writers_on_separate_connections_never_fail_on_a_lock() {
    for (name, url, _dir) in database_urls().await {
        // Two pools, as two platform processes on one database would have.
        let first = Arc::new(Records::open(&url).await.unwrap());
        let second = Arc::new(Records::open(&url).await.unwrap());
        let mut writers = Vec::new();
        for writer in 0..6 {
            let records = Arc::clone(if writer % 2 == 0 { &first } else { &second });
            writers.push(tokio::spawn(async move {
                for round in 0..10 {
                    // Overlapping fleets: each write reads what is there, then writes.
                    let fleet: Vec<Host> = (0..20)
                        .map(|i| Host {
                            name: format!("h{:02}", (i + writer * 7) % 40),
                            tags: tags(&[("writer", &writer.to_string())]),
                            added: round,
                        })
                        .collect();
                    records.upsert_hosts(&fleet).await?;
                    records.audit(&audit(round, &format!("w{writer}"), "enrol", "allowed")).await?;
                }
                Ok::<(), RecordError>(())
            }));
        }
        for writer in writers {
            writer.await.unwrap().unwrap_or_else(|err| panic!("{name}: {err}"));
        }
        assert_eq!(first.hosts().await.unwrap().len(), 40, "{name}");
        let log = first.audit_log(&AuditQuery { limit: 1_000, ..AuditQuery::default() }).await.unwrap();
        assert_eq!(log.len(), 60, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Any text at all is a value, never SQL

/// Text with the characters SQL and its drivers treat specially.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "'",
        "''",
        "\"",
        "`",
        ";",
        "--",
        "/*",
        "*/",
        "\\",
        "%",
        "_",
        "?",
        "$1",
        ":name",
        "DROP TABLE hosts",
        "OR 1=1",
        "é",
        "日本",
        "🦀",
        " ",
        "x",
    ]);
    prop::collection::vec(pieces, 1..12).prop_map(|pieces| pieces.concat())
}

/// The same text as a valid name: no space at either end.
fn hostile_name() -> impl Strategy<Value = String> {
    hostile_text().prop_map(|text| format!("[{}]", text.trim()))
}

proptest! {
    #![proptest_config(testkit::proptest_config(24))]

    #[test]
    fn any_text_is_stored_and_read_back_as_it_was(
        host in hostile_name(),
        key in hostile_name(),
        value in hostile_text(),
        detail in hostile_text(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for TestDb { name, records, .. } in databases().await {
                records.add_host(&host, &tags(&[(&key, &value)]), 1).await.unwrap_or_else(|err| panic!("{name}: {err}"));
                let found = records.host(&host).await.unwrap();
                prop_assert_eq!(found.map(|h| h.tags), Some(tags(&[(&key, &value)])), "{}", name);
                prop_assert_eq!(records.hosts_tagged(&key, &value).await.unwrap(), vec![host.clone()], "{}", name);
                let entry = NewAudit { detail: detail.clone(), target: value.clone(), ..audit(1, &host, "run", "refused") };
                records.audit(&entry).await.unwrap();
                let query = AuditQuery { user: Some(host.clone()), ..AuditQuery::default() };
                let read = records.audit_log(&query).await.unwrap();
                prop_assert_eq!(read.len(), 1, "{}", name);
                prop_assert_eq!(&read[0].entry, &entry, "{}", name);
                // The tables are all still there.
                prop_assert_eq!(records.hosts().await.unwrap().len(), 1, "{}", name);
            }
            Ok(())
        })?;
    }
}
