//! Stage 4, releases: a service's version is a package (its files, their checksums and its
//! `start`/`stop`/`status` hooks) checked whole before it is stored; each host runs the deploy
//! routine (download, verify, stop, back up, switch, start, status, and back to what ran when the
//! new version is not healthy); and the platform rolls a release out in batches, a canary first,
//! within a failure budget, putting back what a failed batch changed, its history in SQL.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use common::{HostProcess, TestPlatform};
use control::master::Portion;
use platform::releases::{
    DeployRequest, PackFile, ReleaseManifest, Restored, Step, check_path, check_release, deploy, is_name,
    is_version, pack_files, plan_batches,
};
use platform::scripts::Violation;
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::test;

/// A release's manifest, but its checksums.
fn head(version: &str) -> String {
    format!(
        "name = \"hello\"\nversion = \"{version}\"\nhook_timeout_secs = 5\nhealthy_within_secs = 0\n\n\
         [hooks]\nstart = \"bin/start\"\nstop = \"bin/stop\"\nstatus = \"bin/status\"\n"
    )
}

/// A hook that writes what it does to `events` in the host's directory (four levels above the
/// version's files: `releases/hello/VERSION/files`) and fails, or dawdles, when a file there says.
fn hook(name: &str, extra: &str) -> PackFile {
    let script = format!(
        "#!/bin/sh\nroot=../../../..\necho \"{name} $RELEASE_VERSION\" >> $root/events\n{extra}\nexit 0\n"
    );
    PackFile::new(&format!("bin/{name}"), script, true)
}

/// The hello service's package at `version`: its status fails on a host that holds a file
/// `unhealthy-VERSION`, its start takes 3 s on one that holds `slow-VERSION`, and its stop fails on
/// one that holds `stuck-VERSION`.
fn hello(version: &str) -> Vec<u8> {
    pack_files(
        &head(version),
        &[
            hook("start", "[ -e $root/slow-$RELEASE_VERSION ] && sleep 3"),
            hook("stop", "[ -e $root/stuck-$RELEASE_VERSION ] && exit 1"),
            hook("status", "[ -e $root/unhealthy-$RELEASE_VERSION ] && exit 1"),
            PackFile::new("share/greeting", format!("hello from {version}\n"), false),
        ],
    )
}

fn sha256_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn rule_of(result: Result<impl std::fmt::Debug, Violation>) -> String {
    match result {
        Ok(checked) => panic!("kept the rules: {checked:?}"),
        Err(violation) => violation.rule,
    }
}

/// A package whose entries are exactly `entries`: (path, bytes, mode, kind), for the packages
/// `pack_files` would never make.
fn raw_package(entries: &[(&str, &[u8], u32, tar::EntryType)]) -> Vec<u8> {
    let mut builder =
        tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (path, bytes, mode, kind) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(*mode);
        header.set_size(bytes.len() as u64);
        if *kind == tar::EntryType::Symlink {
            header.set_link_name("/etc/passwd").unwrap();
        }
        // Written by hand: tar's own path setter refuses `..`, which is the point here.
        let name = path.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        builder.append(&header, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A manifest listing `files` with their checksums.
fn manifest_for(files: &[(&str, &[u8])]) -> String {
    let mut text = head("1.0");
    text.push_str("\n[checksums]\n");
    for (path, bytes) in files {
        text.push_str(&format!("{path:?} = \"{}\"\n", sha256_of(bytes)));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The package

#[test]
fn names_versions_and_paths_are_checked_at_their_edges() {
    for name in ["a", "hello-world_2.x", "9lives", &"a".repeat(64)] {
        assert!(is_name(name), "{name:?} refused");
    }
    for name in ["", "-x", "_x", ".x", "Hello", "a b", "a/b", &"a".repeat(65)] {
        assert!(!is_name(name), "{name:?} taken");
    }
    for version in ["1", "1.0.2-rc.1+build_7", "V2", &"1".repeat(64)] {
        assert!(is_version(version), "{version:?} refused");
    }
    for version in ["", "-1", ".1", "1 0", "1/0", &"1".repeat(65)] {
        assert!(!is_version(version), "{version:?} taken");
    }
    for path in ["a", "bin/start", "share/a.b/c-d_e", &"a".repeat(255)] {
        assert_eq!(check_path(path), Ok(()), "{path:?}");
    }
    for path in
        ["", "/bin/start", "a//b", "a/./b", "./a", "a/../b", "..", "a\\b", "a\tb", "a/", &"a".repeat(256)]
    {
        assert!(check_path(path).is_err(), "{path:?} taken");
    }
}

#[test]
fn a_manifest_is_read_and_each_bad_field_is_named() {
    let good = manifest_for(&[("bin/start", b"a"), ("bin/stop", b"b"), ("bin/status", b"c")]);
    let manifest = ReleaseManifest::parse(&good).unwrap();
    assert_eq!((manifest.name.as_str(), manifest.version.as_str()), ("hello", "1.0"));
    assert_eq!(manifest.hooks.status, "bin/status");
    assert_eq!(
        (manifest.hook_timeout(), manifest.healthy_within()),
        (Duration::from_secs(5), Duration::ZERO)
    );
    let timed =
        ReleaseManifest::parse(&good.replace("healthy_within_secs = 0", "healthy_within_secs = 7")).unwrap();
    assert_eq!(timed.healthy_within(), Duration::from_secs(7));
    let longest =
        ReleaseManifest::parse(&good.replace("healthy_within_secs = 0", "healthy_within_secs = 600"));
    assert_eq!(longest.unwrap().healthy_within(), Duration::from_secs(600));
    // Left out, a hook may take 30 s and the service 10 s to be healthy.
    let defaults = good.replace("hook_timeout_secs = 5\n", "").replace("healthy_within_secs = 0\n", "");
    let defaulted = ReleaseManifest::parse(&defaults).unwrap();
    assert_eq!(
        (defaulted.hook_timeout(), defaulted.healthy_within()),
        (Duration::from_secs(30), Duration::from_secs(10)),
        "{defaults}"
    );
    for (from, to, rule) in [
        ("name = \"hello\"", "name = \"Hello\"", "manifest.name"),
        ("name = \"hello\"", "name = \"../x\"", "manifest.name"),
        ("version = \"1.0\"", "version = \"\"", "manifest.version"),
        ("version = \"1.0\"", "version = \"1.0 beta\"", "manifest.version"),
        ("version = \"1.0\"", "version = \"../1\"", "manifest.version"),
        ("hook_timeout_secs = 5", "hook_timeout_secs = 0", "manifest.hook_timeout_secs"),
        ("hook_timeout_secs = 5", "hook_timeout_secs = 601", "manifest.hook_timeout_secs"),
        ("healthy_within_secs = 0", "healthy_within_secs = 601", "manifest.healthy_within_secs"),
        ("\"bin/stop\" = \"", "\"bin/stop\" = \"0", "manifest.checksums"),
        ("start = \"bin/start\"", "start = \"bin/begin\"", "manifest.hooks"),
        ("\"bin/stop\" = ", "\"../bin/stop\" = ", "manifest.checksums"),
        ("\"bin/stop\" = ", "\"/bin/stop\" = ", "manifest.checksums"),
        ("\"bin/stop\" = \"", "\"bin/stop\" = \"zz", "manifest.checksums"),
        ("name = \"hello\"", "name = \"hello\"\nowner = \"ops\"", "manifest"),
        ("[hooks]", "[hookz]", "manifest"),
    ] {
        assert!(good.contains(from), "{from}");
        assert_eq!(rule_of(ReleaseManifest::parse(&good.replacen(from, to, 1))), rule, "{to}");
    }
}

#[test]
fn a_good_package_is_checked_file_by_file() {
    let package = hello("1.0");
    let checked = check_release(&package).unwrap();
    assert_eq!(checked.manifest.version, "1.0");
    assert_eq!(checked.sha256, sha256_of(&package));
    assert_eq!(checked.files, 5, "four files and the manifest");
    assert_eq!(checked.manifest.checksums.len(), 4);
    // The same files make the same bytes.
    assert_eq!(hello("1.0"), package);
}

#[test]
fn each_broken_rule_of_a_package_is_named() {
    use tar::EntryType::{Regular, Symlink};
    let (start, stop, status) =
        (b"#!/bin/sh\n".as_slice(), b"#!/bin/sh\n".as_slice(), b"#!/bin/sh\n".as_slice());
    let listed = manifest_for(&[("bin/start", start), ("bin/stop", stop), ("bin/status", status)]);
    let manifest = listed.as_bytes();
    let good = [
        ("release.toml", manifest, 0o644, Regular),
        ("bin/start", start, 0o755, Regular),
        ("bin/stop", stop, 0o755, Regular),
        ("bin/status", status, 0o755, Regular),
    ];
    check_release(&raw_package(&good)).unwrap();
    let with = |extra: (&'static str, &'static [u8], u32, tar::EntryType)| {
        let mut entries = good.to_vec();
        entries.push(extra);
        raw_package(&entries)
    };
    let without = |path: &str| raw_package(&good.iter().filter(|e| e.0 != path).cloned().collect::<Vec<_>>());
    let changed = |path: &str, bytes: &'static [u8], mode: u32| {
        raw_package(
            &good.iter().map(|e| if e.0 == path { (e.0, bytes, mode, e.3) } else { *e }).collect::<Vec<_>>(),
        )
    };
    for (package, rule) in [
        (b"not a package".to_vec(), "release.archive"),
        (Vec::new(), "release.archive"),
        (with(("bin/link", b"", 0o777, Symlink)), "release.entry"),
        (with(("../escape", b"x", 0o644, Regular)), "release.entry"),
        (with(("/etc/evil", b"x", 0o644, Regular)), "release.entry"),
        (with(("bin/start", start, 0o755, Regular)), "release.entry"),
        (without("release.toml"), "release.manifest"),
        (with(("share/extra", b"x", 0o644, Regular)), "release.unlisted"),
        (without("bin/stop"), "release.missing"),
        (changed("bin/start", b"#!/bin/sh\nrm -rf /\n", 0o755), "release.checksum"),
        (changed("bin/status", status, 0o644), "release.hook"),
        (vec![0u8; platform::releases::MAX_PACKAGE_BYTES + 1], "release.size"),
    ] {
        assert_eq!(rule_of(check_release(&package)), rule, "{rule}");
    }
}

#[test]
fn a_package_made_by_tar_of_a_directory_is_taken() {
    use tar::EntryType::{Directory, Regular};
    // `tar -czf hello.tar.gz -C hello .` names the directory itself `./` (some tars `.`) and
    // every path after `./`.
    let script = b"#!/bin/sh\n".as_slice();
    let listed = manifest_for(&[("bin/start", script), ("bin/stop", script), ("bin/status", script)]);
    for root in ["./", "."] {
        let package = raw_package(&[
            (root, b"", 0o755, Directory),
            ("./release.toml", listed.as_bytes(), 0o644, Regular),
            ("./bin/", b"", 0o755, Directory),
            ("./bin/start", script, 0o755, Regular),
            ("./bin/stop", script, 0o755, Regular),
            ("./bin/status", script, 0o755, Regular),
        ]);
        let checked = check_release(&package).unwrap_or_else(|violation| panic!("{root:?}: {violation:?}"));
        assert_eq!(checked.manifest.checksums.len(), 3);
    }
}

#[test]
fn the_size_limits_hold_at_their_edges() {
    let max = platform::releases::MAX_PACKAGE_BYTES;
    assert_eq!(rule_of(check_release(&vec![0u8; max])), "release.archive", "a package of the greatest size");
    // What the files unpack to: the manifest and the hooks, and a file of zeros sized to reach
    // the limit exactly (its checksum's length does not change with its size).
    let with_zeros = |size: u64| {
        let zeros = PackFile::new("zeros", vec![0u8; size as usize], false);
        pack_files(&head("1.0"), &[hook("start", ""), hook("stop", ""), hook("status", ""), zeros])
    };
    let others = check_release(&with_zeros(1)).unwrap().unpacked_bytes - 1;
    let limit = platform::releases::MAX_UNPACKED_BYTES;
    assert_eq!(check_release(&with_zeros(limit - others)).unwrap().unpacked_bytes, limit);
    assert_eq!(rule_of(check_release(&with_zeros(limit - others + 1))), "release.size");
    // The manifest may be 256 KiB: padded with a comment to reach it exactly.
    let with_comment = |size: usize| {
        let head = format!("{}#{}\n", head("1.0"), "x".repeat(size));
        pack_files(&head, &[hook("start", ""), hook("stop", ""), hook("status", "")])
    };
    let manifest_limit = 256 << 10;
    let shortest = check_release(&with_comment(0)).unwrap().manifest_text.len();
    let fits = with_comment(manifest_limit - shortest);
    assert_eq!(check_release(&fits).unwrap().manifest_text.len(), manifest_limit);
    assert_eq!(rule_of(check_release(&with_comment(manifest_limit - shortest + 1))), "release.size");
}

#[test]
fn a_package_that_unpacks_past_the_limit_is_refused_before_it_is_read_whole() {
    // A gzip bomb: 65 MiB of zeros packs to about 64 KiB.
    let big = vec![0u8; (platform::releases::MAX_UNPACKED_BYTES + (1 << 20)) as usize];
    let package = pack_files(
        &head("1.0"),
        &[hook("start", ""), hook("stop", ""), hook("status", ""), PackFile::new("zeros", big, false)],
    );
    assert!(package.len() < platform::releases::MAX_PACKAGE_BYTES);
    assert_eq!(rule_of(check_release(&package)), "release.size");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bytes_are_a_package_or_a_violation_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = check_release(&bytes);
    }

    #[test]
    fn a_damaged_package_is_refused_or_holds_the_same_files(at in 10usize..400, byte in any::<u8>()) {
        let original = hello("1.0");
        let mut package = original.clone();
        // Past gzip's header, whose date and origin no checksum covers.
        let at = 10 + at % (package.len() - 10);
        prop_assume!(package[at] != byte);
        package[at] = byte;
        // gzip's CRC, tar's header checksums or the manifest's SHA-256 catch it; only the unused
        // bits of deflate's last byte may change and leave every file as it was (and the package's
        // own SHA-256, which a host checks, changed).
        if let Ok(checked) = check_release(&package) {
            let before = check_release(&original).unwrap();
            prop_assert_eq!(&checked.manifest_text, &before.manifest_text);
            prop_assert_eq!(checked.unpacked_bytes, before.unpacked_bytes);
            prop_assert_ne!(checked.sha256, before.sha256);
        }
    }

    #[test]
    fn any_files_packed_are_checked_back_as_they_were(
        files in proptest::collection::btree_map("[a-z]{1,8}(/[a-z]{1,8}){0,2}", proptest::collection::vec(any::<u8>(), 0..300), 0..8),
    ) {
        // No file may also be a directory of another.
        let paths: Vec<&String> = files.keys().collect();
        prop_assume!(!paths.iter().any(|a| paths.iter().any(|b| b.starts_with(&format!("{a}/")))));
        prop_assume!(!files.keys().any(|path| path.starts_with("bin") || path == "release.toml"));
        let mut all = vec![hook("start", ""), hook("stop", ""), hook("status", "")];
        all.extend(files.iter().map(|(path, bytes)| PackFile::new(path, bytes.clone(), false)));
        let checked = check_release(&pack_files(&head("2.0"), &all)).unwrap();
        prop_assert_eq!(checked.files, all.len() + 1);
        for (path, bytes) in &files {
            prop_assert_eq!(&checked.manifest.checksums[path], &sha256_of(bytes));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Batches

fn names(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("web-{n:02}")).collect()
}

#[test]
fn batches_are_a_canary_then_a_count_or_a_share_of_the_hosts() {
    let sizes = |batches: Vec<Vec<String>>| batches.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(sizes(plan_batches(&names(10), 1, Portion::Percent(30))), [1, 3, 3, 3]);
    assert_eq!(sizes(plan_batches(&names(10), 0, Portion::Count(4))), [4, 4, 2]);
    assert_eq!(sizes(plan_batches(&names(10), 2, Portion::Percent(100))), [2, 8]);
    assert_eq!(sizes(plan_batches(&names(3), 5, Portion::Count(1))), [3]);
    assert_eq!(sizes(plan_batches(&names(5), 1, Portion::Count(0))), [1, 1, 1, 1, 1]);
    assert!(plan_batches(&[], 1, Portion::Count(1)).is_empty());
    assert_eq!(plan_batches(&names(3), 1, Portion::Count(5))[0], ["web-01"], "the canary is the first host");
}

proptest! {
    #[test]
    fn every_host_is_in_one_batch_in_order(count in 0usize..300, canary in 0usize..5, share in 0u8..=100, by_share: bool) {
        let hosts = names(count);
        let batch = if by_share { Portion::Percent(share) } else { Portion::Count(usize::from(share)) };
        let batches = plan_batches(&hosts, canary, batch);
        prop_assert_eq!(batches.concat(), hosts.clone());
        prop_assert!(batches.iter().all(|b| !b.is_empty()));
        let size = batch.of(count).max(1);
        let rest = if canary > 0 && count > 0 { &batches[1..] } else { &batches[..] };
        if canary > 0 && count > 0 {
            prop_assert_eq!(batches[0].len(), canary.min(count));
        }
        prop_assert!(rest.iter().all(|b| b.len() <= size));
        prop_assert!(rest.iter().rev().skip(1).all(|b| b.len() == size), "only the last batch is short");
    }
}

// ---------------------------------------------------------------------------------------------
// The deploy routine on one host

/// A stand-in for the platform answering every request with `body`: its URL, how many requests
/// it has had, and its task (aborted: nothing listens).
async fn serving(body: Vec<u8>) -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let stand_in = common::stand_in(body, "/releases/hello/x/y").await;
    (stand_in.url, stand_in.requests, stand_in.task)
}

fn request(dir: &Path, from: &str, version: &str, package: &[u8]) -> DeployRequest {
    DeployRequest {
        from: from.to_string(),
        dir: dir.join("releases"),
        name: "hello".into(),
        version: version.into(),
        sha256: sha256_of(package),
    }
}

/// The events the hooks wrote in `dir`, and none since: they are taken.
fn events(dir: &Path) -> Vec<String> {
    let path = dir.join("events");
    let text = fs::read_to_string(&path).unwrap_or_default();
    let _ = fs::remove_file(&path);
    text.lines().map(String::from).collect()
}

fn current(dir: &Path) -> Option<String> {
    fs::read_link(dir.join("releases/hello/current")).ok().map(|link| link.to_string_lossy().into_owned())
}

fn steps(report: &platform::releases::DeployReport) -> Vec<Step> {
    report.steps.iter().map(|(step, _)| *step).collect()
}

/// Deploys hello `version` on the host in `dir` from a stand-in of its own, checks that it went
/// well, and takes the events its hooks wrote: the start of a test about what comes next.
async fn deployed(dir: &Path, version: &str) {
    let package = hello(version);
    let (from, _, _server) = serving(package.clone()).await;
    let report = deploy(&request(dir, &from, version, &package)).await;
    assert_eq!(report.failure, None, "deploying {version}: {report:?}");
    events(dir);
}

#[test(tokio)]
async fn a_deploy_goes_step_by_step_and_keeps_what_ran_before() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    let v1 = hello("1.0");
    let (from, _, _server) = serving(v1.clone()).await;
    let report = deploy(&request(dir, &from, "1.0", &v1)).await;
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(steps(&report), Step::ALL, "every step, in order");
    assert_eq!(report.previous, None);
    assert_eq!(current(dir).as_deref(), Some("1.0"));
    assert_eq!(events(dir), ["start 1.0", "status 1.0"]);
    let greeting = fs::read_to_string(dir.join("releases/hello/current/files/share/greeting")).unwrap();
    assert_eq!(greeting, "hello from 1.0\n");
    assert_eq!(report.lines("hello", "1.0").last().unwrap(), "deployed hello 1.0 (was none)");

    let v2 = hello("2.0");
    let (from, _, _server) = serving(v2.clone()).await;
    let report = deploy(&request(dir, &from, "2.0", &v2)).await;
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(report.previous.as_deref(), Some("1.0"));
    assert_eq!(events(dir), ["stop 1.0", "start 2.0", "status 2.0"], "the old version stopped first");
    assert_eq!(current(dir).as_deref(), Some("2.0"));
    let backup = fs::read_link(dir.join("releases/hello/previous")).unwrap();
    assert_eq!(backup.to_string_lossy(), "1.0", "the backup names what ran");
    assert!(dir.join("releases/hello/1.0/files/bin/start").exists(), "and it is kept whole");
    assert_eq!(report.lines("hello", "2.0").last().unwrap(), "deployed hello 2.0 (was 1.0)");

    // 2.0 again (a rollout sent twice): restarted, and the backup still names what ran before it.
    let report = deploy(&request(dir, &from, "2.0", &v2)).await;
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(events(dir), ["stop 2.0", "start 2.0", "status 2.0"]);
    assert_eq!(current(dir).as_deref(), Some("2.0"));
    let backup = fs::read_link(dir.join("releases/hello/previous")).unwrap();
    assert_eq!(backup.to_string_lossy(), "1.0", "the backup is not the version itself");
}

#[test(tokio)]
async fn a_version_that_is_not_healthy_is_replaced_by_the_one_that_ran() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    deployed(dir, "1.0").await;
    deployed(dir, "2.0").await;
    fs::write(dir.join("unhealthy-3.0"), "").unwrap();
    let v3 = hello("3.0");
    let (from, _, _server) = serving(v3.clone()).await;
    let report = deploy(&request(dir, &from, "3.0", &v3)).await;
    let failure = report.failure.clone().expect("status fails");
    assert_eq!(failure.step, Step::Status, "{failure:?}");
    assert_eq!(failure.restored, Restored::Previous("2.0".into()));
    assert_eq!(
        events(dir),
        ["stop 2.0", "start 3.0", "status 3.0", "stop 3.0", "start 2.0"],
        "the new version stopped, the old one started again"
    );
    assert_eq!(current(dir).as_deref(), Some("2.0"));
    let backup = fs::read_link(dir.join("releases/hello/previous")).unwrap();
    assert_eq!(backup.to_string_lossy(), "1.0", "the backup is as it was");
    assert!(report.lines("hello", "3.0").last().unwrap().starts_with("failed at status: "));

    // A start that does not return within the hook's timeout fails at start, the same way.
    fs::write(dir.join("slow-4.0"), "").unwrap();
    let manifest = head("4.0").replace("hook_timeout_secs = 5", "hook_timeout_secs = 1");
    let v4 = pack_files(
        &manifest,
        &[
            hook("start", "[ -e $root/slow-$RELEASE_VERSION ] && sleep 30"),
            hook("stop", ""),
            hook("status", ""),
        ],
    );
    let (from, _, _server) = serving(v4.clone()).await;
    let report = deploy(&request(dir, &from, "4.0", &v4)).await;
    let failure = report.failure.expect("start times out");
    assert_eq!((failure.step, failure.restored), (Step::Start, Restored::Previous("2.0".into())));
    assert!(failure.reason.contains("timed out"), "{}", failure.reason);
    assert_eq!(current(dir).as_deref(), Some("2.0"));
}

#[test(tokio)]
async fn a_package_that_is_not_the_signed_one_changes_nothing() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    deployed(dir, "1.0").await;
    let v1 = hello("1.0");
    // Something else in the platform's place sends another package under 2.0's checksum.
    let v2 = hello("2.0");
    let (from, _, _server) = serving(hello("2.1")).await;
    let report = deploy(&request(dir, &from, "2.0", &v2)).await;
    let failure = report.failure.expect("the checksum is wrong");
    assert_eq!((failure.step, failure.restored), (Step::Verify, Restored::Unchanged));
    assert!(events(dir).is_empty(), "nothing was stopped");
    assert_eq!(current(dir).as_deref(), Some("1.0"));
    assert!(!dir.join("releases/hello/2.0").exists(), "nothing was installed");

    // The right bytes under a name that is not theirs: refused too.
    let (from, _, _server) = serving(v1.clone()).await;
    let mut wrong = request(dir, &from, "2.0", &v1);
    wrong.version = "2.0".into();
    let failure = deploy(&wrong).await.failure.expect("1.0 is not 2.0");
    assert_eq!(failure.step, Step::Verify);
    assert_eq!(current(dir).as_deref(), Some("1.0"));

    // Nothing listening: fails at download, nothing changed.
    let report = deploy(&request(dir, "http://127.0.0.1:9/releases/hello/2.0/x", "2.0", &v2)).await;
    assert_eq!(report.failure.map(|f| (f.step, f.restored)), Some((Step::Download, Restored::Unchanged)));
}

#[test(tokio)]
async fn a_version_installed_already_is_made_current_without_the_platform() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    deployed(dir, "1.0").await;
    deployed(dir, "2.0").await;
    let v1 = hello("1.0");
    // The platform is down: a rollback to 1.0 needs no byte of it.
    let (from, fetches, server) = serving(Vec::new()).await;
    server.abort();
    let report = deploy(&request(dir, &from, "1.0", &v1)).await;
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(fetches.load(Ordering::SeqCst), 0);
    assert_eq!(report.steps[0], (Step::Download, "installed already".to_string()));
    assert_eq!(events(dir), ["stop 2.0", "start 1.0", "status 1.0"]);
    assert_eq!(current(dir).as_deref(), Some("1.0"));
}

#[test(tokio)]
async fn a_version_that_will_not_stop_is_started_again_and_nothing_is_switched() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    deployed(dir, "1.0").await;
    fs::write(dir.join("stuck-1.0"), "").unwrap();
    let v2 = hello("2.0");
    let (from, _, _server) = serving(v2.clone()).await;
    let failure = deploy(&request(dir, &from, "2.0", &v2)).await.failure.expect("1.0 will not stop");
    assert_eq!((failure.step, failure.restored), (Step::Stop, Restored::Unchanged), "{}", failure.reason);
    assert_eq!(events(dir), ["stop 1.0", "start 1.0"], "it may be half stopped: it is started again");
    assert_eq!(current(dir).as_deref(), Some("1.0"));
    assert!(fs::read_link(dir.join("releases/hello/previous")).is_err(), "no backup was named");
}

#[test(tokio)]
async fn a_request_that_is_not_well_formed_is_refused_before_anything_is_fetched() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    let v1 = hello("1.0");
    let (from, fetches, _server) = serving(v1.clone()).await;
    let good = request(dir, &from, "1.0", &v1);
    let broken = [
        ("a name that climbs out", DeployRequest { name: "../escape".into(), ..good.clone() }),
        ("a version that climbs out", DeployRequest { version: "../../escape".into(), ..good.clone() }),
        ("a checksum one digit short", DeployRequest { sha256: good.sha256[..63].into(), ..good.clone() }),
        ("a checksum not in hex", DeployRequest { sha256: "g".repeat(64), ..good.clone() }),
    ];
    for (what, request) in broken {
        let failure = deploy(&request).await.failure.unwrap_or_else(|| panic!("{what} was deployed"));
        assert_eq!((failure.step, failure.restored), (Step::Download, Restored::Unchanged), "{what}");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 0, "nothing was fetched");
    assert!(!dir.join("escape").exists(), "nothing was made outside the releases");
    assert_eq!(deploy(&good).await.failure, None, "the good request is deployed");
}

#[test(tokio)]
async fn a_platform_that_cannot_answer_yet_is_asked_again_and_a_missing_package_is_not() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    // A platform failing over to its standby answers 503 for a moment: a second and a half.
    let v1 = hello("1.0");
    let since = std::time::Instant::now();
    let answer = move |_| if since.elapsed() < Duration::from_millis(1_500) { 503 } else { 200 };
    let failing_over = common::stand_in_answering(v1.clone(), "/releases/hello/1.0/x", answer).await;
    let report = deploy(&request(dir, &failing_over.url, "1.0", &v1)).await;
    assert_eq!(report.failure, None, "asked until it answered: {report:?}");
    // Asked again more slowly each time (0.1 s, 0.2 s, 0.4 s, …): a handful of times, not a flood.
    let asked = failing_over.requests.load(Ordering::SeqCst);
    assert!((2..=8).contains(&asked), "asked {asked} times in the 1.5 s the platform was failing over");
    // A 404 is the platform's answer: asking again would not change it.
    let v2 = hello("2.0");
    let missing = common::stand_in_answering(v2.clone(), "/releases/hello/2.0/x", |_| 404).await;
    let failure = deploy(&request(dir, &missing.url, "2.0", &v2)).await.failure.expect("no package");
    assert_eq!((failure.step, failure.restored), (Step::Download, Restored::Unchanged));
    assert!(failure.reason.contains("404"), "the reason names the answer: {}", failure.reason);
    assert_eq!(missing.requests.load(Ordering::SeqCst), 1, "a 404 was asked again");
    assert_eq!(current(dir).as_deref(), Some("1.0"));
}

#[test(tokio)]
async fn a_version_is_given_its_time_to_become_healthy() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    // Healthy from its third check on, within the 5 s its manifest gives it.
    let manifest = head("1.0").replace("healthy_within_secs = 0", "healthy_within_secs = 5");
    let warming =
        "n=$(cat $root/checks 2>/dev/null || echo 0); echo $((n + 1)) > $root/checks; [ $n -ge 2 ] || exit 1";
    let v1 = pack_files(&manifest, &[hook("start", ""), hook("stop", ""), hook("status", warming)]);
    let (from, _, _server) = serving(v1.clone()).await;
    let report = deploy(&request(dir, &from, "1.0", &v1)).await;
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(events(dir), ["start 1.0", "status 1.0", "status 1.0", "status 1.0"]);
    assert_eq!(current(dir).as_deref(), Some("1.0"));

    // One that never passes is asked again about once a second, not in a loop, until its 2 s are up.
    let manifest = head("2.0").replace("healthy_within_secs = 0", "healthy_within_secs = 2");
    let v2 = pack_files(&manifest, &[hook("start", ""), hook("stop", ""), hook("status", "exit 1")]);
    let (from, _, _server) = serving(v2.clone()).await;
    let failure = deploy(&request(dir, &from, "2.0", &v2)).await.failure.expect("never healthy");
    assert_eq!((failure.step, failure.restored), (Step::Status, Restored::Previous("1.0".into())));
    let checks = events(dir).iter().filter(|event| *event == "status 2.0").count();
    assert!((2..=6).contains(&checks), "2.0's status was checked {checks} times in 2 s");
}

/// The versions installed on the host in `dir`, not the links to them.
fn versions_kept(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir.join("releases/hello"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect()
}

#[test(tokio)]
async fn a_host_keeps_its_newest_versions_and_always_the_current_and_previous() {
    let dir = testkit::scratch_dir();
    let dir = dir.path();
    for n in 1..=6 {
        deployed(dir, &format!("{n}.0")).await;
    }
    let set = |versions: &[&str]| versions.iter().map(|v| v.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(platform::releases::deploy::KEEP_VERSIONS, 5);
    assert_eq!(versions_kept(dir), set(&["2.0", "3.0", "4.0", "5.0", "6.0"]), "the oldest goes");
    // Back to 2.0, the oldest kept, then on to 7.0: 2.0 is previous now and stays; 3.0 goes.
    deployed(dir, "2.0").await;
    deployed(dir, "7.0").await;
    assert_eq!(fs::read_link(dir.join("releases/hello/previous")).unwrap().to_string_lossy(), "2.0");
    assert_eq!(versions_kept(dir), set(&["2.0", "4.0", "5.0", "6.0", "7.0"]));
}

// ---------------------------------------------------------------------------------------------
// Rollouts through the platform

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A platform that sends releases to `count` hosts, each a process of its own: `web-1`, … with
/// the tag `role=web`.
async fn fleet(count: u8) -> (TestPlatform, Vec<HostProcess>) {
    let mut test = TestPlatform::start(&[]).await;
    test.with_distribution().await;
    let mut hosts = Vec::new();
    for n in 1..=count {
        hosts.push(test.spawn_host(&format!("web-{n}"), 100 + n, &[("role", "web")]).await);
    }
    (test, hosts)
}

/// Uploads `package` as `ada`.
async fn upload(test: &TestPlatform, client: &common::Client, package: &[u8]) -> (StatusCode, Value) {
    test.post("/api/releases", client, json!({ "package": b64(package) })).await
}

/// Waits for deployment `id` to end: its JSON (deployment, hosts).
async fn wait_for_deployment(test: &TestPlatform, client: &common::Client, id: i64) -> Value {
    let path = format!("/api/deployments/{id}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = test.get(&path, client).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let state = body["data"]["deployment"]["state"].as_str().unwrap_or_default().to_string();
        if !matches!(state.as_str(), "running" | "paused") {
            return body["data"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "deployment {id} did not end: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn host_states(data: &Value) -> Vec<(String, i64, String, String)> {
    data["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_string(),
                h["batch"].as_i64().unwrap(),
                h["state"].as_str().unwrap().to_string(),
                h["step"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn events_of(host: &HostProcess) -> Vec<String> {
    events(&host.dir)
}

/// Uploads hello 1.0 and 2.0 and rolls 1.0 out to every host in one batch, then forgets what its
/// hooks wrote: the start of every test that rolls 2.0 out over a running 1.0.
async fn running_1_0_with_2_0_uploaded(test: &TestPlatform, ada: &common::Client, hosts: &[HostProcess]) {
    for version in ["1.0", "2.0"] {
        assert_eq!(upload(test, ada, &hello(version)).await.0, StatusCode::CREATED);
    }
    let start = json!({ "target": "*", "canary": 0, "batch": "100%", "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/1.0/deployments", ada, start).await;
    let data = wait_for_deployment(test, ada, body["data"]["id"].as_i64().unwrap()).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    hosts.iter().for_each(|host| drop(events_of(host)));
}

#[test(tokio)]
async fn a_release_is_uploaded_only_when_it_keeps_the_rules_and_only_by_an_admin() {
    let (test, _hosts) = fleet(0).await;
    let (ada, otto) = (test.login("ada").await, test.login("otto").await);
    let (status, body) = upload(&test, &otto, &hello("1.0")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = upload(&test, &ada, &hello("1.0")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["sha256"], sha256_of(&hello("1.0")));
    assert_eq!(body["data"]["version"], "1.0");
    let (status, body) = upload(&test, &ada, &hello("1.0")).await;
    assert_eq!(status, StatusCode::CONFLICT, "a version is never replaced: {body}");
    let mut damaged = hello("2.0");
    let end = damaged.len() - 12;
    damaged[end] ^= 0xff;
    let (status, body) = upload(&test, &ada, &damaged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = upload(&test, &ada, b"not a package").await;
    assert_eq!(
        (status, body["error"].as_str().unwrap_or_default().starts_with("release.archive")),
        (StatusCode::BAD_REQUEST, true),
        "{body}"
    );
    let (_, list) = test.get("/api/releases", &ada).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "only the good one: {list}");
    // The package, for the hosts: by its checksum only.
    let sum = sha256_of(&hello("1.0"));
    let (status, _, bytes) = test.get_bytes(&format!("/releases/hello/1.0/{sum}")).await;
    assert_eq!((status, bytes), (StatusCode::OK, hello("1.0")));
    let (status, _, _) = test.get_bytes(&format!("/releases/hello/1.0/{}", sha256_of(b"x"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test(tokio)]
async fn a_rollout_goes_batch_by_batch_a_canary_first() {
    let (test, hosts) = fleet(4).await;
    let ada = test.login("ada").await;
    assert_eq!(upload(&test, &ada, &hello("1.0")).await.0, StatusCode::CREATED);
    let start = json!({ "target": "tag:role=web", "canary": 1, "batch": "50%", "bake_secs": 0 });
    let (status, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_i64().unwrap();
    let data = wait_for_deployment(&test, &ada, id).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    let expected: Vec<(String, i64, String, String)> =
        [("web-1", 0), ("web-2", 1), ("web-3", 1), ("web-4", 2)]
            .iter()
            .map(|(host, batch)| (host.to_string(), *batch, "done".to_string(), "status".to_string()))
            .collect();
    assert_eq!(host_states(&data), expected, "{data}");
    for host in &hosts {
        assert_eq!(host.current("hello").as_deref(), Some("1.0"), "{}", host.id);
        assert_eq!(events_of(host), ["start 1.0", "status 1.0"], "{}", host.id);
    }
    // The dashboard shows the rollout host by host, and the release among the releases.
    let (status, page) = test.page(&format!("/deployments/{id}"), &ada).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-state=\"succeeded\""), "{page}");
    for host in ["web-1", "web-2", "web-3", "web-4"] {
        assert!(page.contains(&format!("<tr data-host=\"{host}\" data-state=\"done\">")), "{host}: {page}");
    }
    let (_, page) = test.page("/releases", &ada).await;
    assert!(page.contains("/releases/hello/1.0") && page.contains(&format!("/deployments/{id}")), "{page}");
    // One batch after the other: each batch's run started once the one before it had ended.
    let runs = runs_by_batch(&test, id).await;
    assert_eq!(runs.len(), 3, "{runs:?}");
    for pair in runs.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert!(after.1 >= before.2.unwrap(), "batch runs overlap: {runs:?}");
    }

    // A second version: every host stops 1.0 and keeps it.
    assert_eq!(upload(&test, &ada, &hello("2.0")).await.0, StatusCode::CREATED);
    let start = json!({ "target": "web-*", "canary": 0, "batch": 2, "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/2.0/deployments", &ada, start).await;
    let data = wait_for_deployment(&test, &ada, body["data"]["id"].as_i64().unwrap()).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    for host in &hosts {
        assert_eq!(host.current("hello").as_deref(), Some("2.0"));
        assert_eq!(events_of(host), ["stop 1.0", "start 2.0", "status 2.0"], "{}", host.id);
    }
    let previous: BTreeSet<&str> =
        data["hosts"].as_array().unwrap().iter().map(|h| h["previous"].as_str().unwrap_or("-")).collect();
    assert_eq!(previous, BTreeSet::from(["1.0"]), "each host's earlier version is recorded");
}

#[test(tokio)]
async fn a_batch_too_large_for_one_target_is_sent_in_runs_that_fit() {
    // Twenty hosts of 244-character names: one batch, but 4,899 characters as one target, past
    // the 4,096 lab 09's master takes. So the batch goes as several runs, each target within it.
    let (test, _hosts) = fleet(0).await;
    let ada = test.login("ada").await;
    let names: BTreeSet<String> = (10..30).map(|n| format!("host-{n}-{}", "x".repeat(236))).collect();
    for name in &names {
        test.records.add_host(name, &Default::default(), 1).await.unwrap();
    }
    assert_eq!(upload(&test, &ada, &hello("1.0")).await.0, StatusCode::CREATED);
    let start = json!({ "target": "host-*", "canary": 0, "batch": "100%", "bake_secs": 0 });
    let (status, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_i64().unwrap();
    wait_for_deployment(&test, &ada, id).await;
    let runs = test.records.deployment_runs(id, 0, platform::records::RunPurpose::Deploy).await.unwrap();
    assert!(runs.len() >= 2, "the batch went as {} run(s)", runs.len());
    let mut sent = Vec::new();
    for run in runs {
        let target = test.records.run(run).await.unwrap().unwrap().target;
        assert!(
            target.chars().count() <= control::target::MAX_LEN,
            "a target of {} characters",
            target.len()
        );
        // The names, out of the role's target around them (`(NAMES) and (*)`) if it is there.
        let names =
            target.strip_prefix('(').and_then(|t| t.split_once(')')).map_or(target.as_str(), |(t, _)| t);
        sent.extend(names.split(',').map(String::from));
    }
    sent.sort();
    assert_eq!(sent, Vec::from_iter(names), "every host of the batch, each named in one run's target");
}

/// Waits until the first host of deployment `id` is in `state` (20 s at most).
async fn wait_for_canary(test: &TestPlatform, client: &common::Client, id: i64, state: &str) {
    let path = format!("/api/deployments/{id}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = test.get(&path, client).await;
        if body["data"]["hosts"][0]["state"] == state {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the canary is not {state}: {body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The runs of deployment `id`, by batch: (run, started, ended).
async fn runs_by_batch(test: &TestPlatform, id: i64) -> Vec<(i64, i64, Option<i64>)> {
    let mut runs = Vec::new();
    for batch in 0.. {
        let ids =
            test.records.deployment_runs(id, batch, platform::records::RunPurpose::Deploy).await.unwrap();
        if ids.is_empty() {
            break;
        }
        for run in ids {
            let found = test.records.run(run).await.unwrap().unwrap();
            runs.push((run, found.started, found.ended));
        }
    }
    runs
}

#[test(tokio)]
async fn a_batch_past_the_failure_budget_is_put_back_and_the_rollout_stops() {
    let (test, hosts) = fleet(4).await;
    let ada = test.login("ada").await;
    running_1_0_with_2_0_uploaded(&test, &ada, &hosts).await;

    // 2.0 is not healthy on web-3: the canary (web-1) passes, the batch web-2, web-3 fails.
    fs::write(hosts[2].dir.join("unhealthy-2.0"), "").unwrap();
    let start = json!({ "target": "*", "canary": 1, "batch": 2, "failure_budget": "0", "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/2.0/deployments", &ada, start).await;
    let data = wait_for_deployment(&test, &ada, body["data"]["id"].as_i64().unwrap()).await;
    assert_eq!(data["deployment"]["state"], "failed", "{data}");
    let states: Vec<(String, String)> = host_states(&data)
        .into_iter()
        .map(|(host, _, state, step)| (host, format!("{state} {step}")))
        .collect();
    assert_eq!(
        states,
        [
            ("web-1".to_string(), "done status".to_string()),
            ("web-2".to_string(), "rolled_back status".to_string()),
            ("web-3".to_string(), "failed status".to_string()),
            ("web-4".to_string(), "skipped -".to_string()),
        ],
        "{data}"
    );
    assert!(data["deployment"]["detail"].as_str().unwrap().contains("web-3"), "{data}");
    // The canary's batch is kept; the failed batch is back on 1.0; the rest never saw 2.0.
    let current: Vec<Option<String>> = hosts.iter().map(|host| host.current("hello")).collect();
    assert_eq!(current, [Some("2.0".into()), Some("1.0".into()), Some("1.0".into()), Some("1.0".into())]);
    assert_eq!(
        events_of(&hosts[1]),
        ["stop 1.0", "start 2.0", "status 2.0", "stop 2.0", "start 1.0", "status 1.0"]
    );
    assert_eq!(events_of(&hosts[2]), ["stop 1.0", "start 2.0", "status 2.0", "stop 2.0", "start 1.0"]);
    assert!(events_of(&hosts[3]).is_empty(), "web-4 was not touched");
    assert!(!hosts[3].dir.join("releases/hello/2.0").exists());
}

#[test(tokio)]
async fn a_failure_can_put_back_every_host_the_rollout_changed() {
    let (test, hosts) = fleet(3).await;
    let ada = test.login("ada").await;
    running_1_0_with_2_0_uploaded(&test, &ada, &hosts).await;
    fs::write(hosts[2].dir.join("unhealthy-2.0"), "").unwrap();
    // And 1.0 is no longer healthy on web-1: putting it back there fails, and web-1 keeps 2.0.
    fs::write(hosts[0].dir.join("unhealthy-1.0"), "").unwrap();
    let start =
        json!({ "target": "*", "canary": 1, "batch": 1, "on_failure": "rollback_all", "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/2.0/deployments", &ada, start).await;
    let data = wait_for_deployment(&test, &ada, body["data"]["id"].as_i64().unwrap()).await;
    assert_eq!(data["deployment"]["state"], "rolled_back", "{data}");
    let states: Vec<String> = host_states(&data).into_iter().map(|(_, _, state, _)| state).collect();
    assert_eq!(
        states,
        ["failed", "rolled_back", "failed"],
        "a put-back that failed is not rolled back: {data}"
    );
    let current: Vec<Option<String>> = hosts.iter().map(|host| host.current("hello")).collect();
    assert_eq!(current, [Some("2.0".into()), Some("1.0".into()), Some("1.0".into())]);

    // A budget of one host lets the same rollout through, web-3 left on 1.0 by its own deploy.
    let start = json!({ "target": "*", "canary": 1, "batch": 1, "failure_budget": "1", "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/2.0/deployments", &ada, start).await;
    let data = wait_for_deployment(&test, &ada, body["data"]["id"].as_i64().unwrap()).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    let current: Vec<Option<String>> = hosts.iter().map(|host| host.current("hello")).collect();
    assert_eq!(current, [Some("2.0".into()), Some("2.0".into()), Some("1.0".into())]);
}

#[test(tokio)]
async fn a_rollout_pauses_between_batches_and_resumes() {
    let (test, hosts) = fleet(3).await;
    let (ada, vera) = (test.login("ada").await, test.login("vera").await);
    assert_eq!(upload(&test, &ada, &hello("1.0")).await.0, StatusCode::CREATED);
    // The canary takes 3 s to start: time enough to pause before its batch ends.
    fs::write(hosts[0].dir.join("slow-1.0"), "").unwrap();
    let start = json!({ "target": "*", "canary": 1, "batch": 1, "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    let id = body["data"]["id"].as_i64().unwrap();
    let path = format!("/api/deployments/{id}");
    wait_for_canary(&test, &ada, id, "deploying").await;
    let (status, _) = test.post(&format!("/api/deployments/{id}/pause"), &vera, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = test.post(&format!("/api/deployments/{id}/pause"), &ada, json!({})).await;
    assert_eq!((status, body["data"]["state"].as_str()), (StatusCode::OK, Some("paused")), "{body}");
    let (status, _) = test.post(&format!("/api/deployments/{id}/pause"), &ada, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "paused already");
    let again = json!({ "target": "*", "bake_secs": 0 });
    let (status, body) = test.post("/api/releases/hello/1.0/deployments", &ada, again).await;
    assert_eq!(status, StatusCode::CONFLICT, "one rollout of a service at a time: {body}");
    // The batch in hand ends; no other starts.
    wait_for_canary(&test, &ada, id, "done").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, body) = test.get(&path, &ada).await;
    let states: Vec<String> = host_states(&body["data"]).into_iter().map(|(_, _, state, _)| state).collect();
    assert_eq!(states, ["done", "pending", "pending"], "{body}");
    assert_eq!(hosts[1].current("hello"), None);
    let (status, _) = test.post(&format!("/api/deployments/{id}/resume"), &ada, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let data = wait_for_deployment(&test, &ada, id).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    assert!(hosts.iter().all(|host| host.current("hello").as_deref() == Some("1.0")));
    // Each is audited under its own name, the one refused too.
    for (user, action, outcomes) in [
        ("vera", "deployment.pause", vec!["refused"]),
        ("ada", "deployment.pause", vec!["allowed"]),
        ("ada", "deployment.resume", vec!["allowed"]),
    ] {
        let (_, audit) = test.get(&format!("/api/audit?user={user}&action={action}"), &ada).await;
        let entries = audit["data"].as_array().unwrap();
        let got: Vec<&str> = entries.iter().map(|entry| entry["outcome"].as_str().unwrap()).collect();
        assert_eq!(got, outcomes, "{user}'s {action}: {audit}");
        assert!(entries.iter().all(|entry| entry["target"].as_str() == Some(&*id.to_string())), "{audit}");
    }
}

#[test(tokio)]
async fn a_rollout_is_refused_for_a_bad_request_and_changes_nothing() {
    let (test, hosts) = fleet(1).await;
    let (ada, otto) = (test.login("ada").await, test.login("otto").await);
    assert_eq!(upload(&test, &ada, &hello("1.0")).await.0, StatusCode::CREATED);
    for (who, path, body, status) in [
        (&otto, "/api/releases/hello/1.0/deployments", json!({ "target": "*" }), StatusCode::FORBIDDEN),
        (&ada, "/api/releases/hello/9.9/deployments", json!({ "target": "*" }), StatusCode::NOT_FOUND),
        (
            &ada,
            "/api/releases/hello/1.0/deployments",
            json!({ "target": "nothing-here" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            &ada,
            "/api/releases/hello/1.0/deployments",
            json!({ "target": "web-1 and" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            &ada,
            "/api/releases/hello/1.0/deployments",
            json!({ "target": "*", "batch": "150%" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            &ada,
            "/api/releases/hello/1.0/deployments",
            json!({ "target": "*", "on_failure": "pray" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            &ada,
            "/api/releases/hello/1.0/deployments",
            json!({ "target": "*", "bake_secs": 24 * 3600 + 1 }),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, answer) = test.post(path, who, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
    }
    let (_, list) = test.get("/api/deployments", &ada).await;
    assert_eq!(list["data"], json!([]), "{list}");
    assert_eq!(hosts[0].current("hello"), None);
    // A day is the longest bake; a batch may take it.
    let start = json!({ "target": "*", "bake_secs": 24 * 3600 });
    let (status, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[test(tokio)]
async fn a_host_that_vanishes_mid_step_is_reported_lost_never_done() {
    let (test, mut hosts) = fleet(2).await;
    let ada = test.login("ada").await;
    assert_eq!(upload(&test, &ada, &hello("1.0")).await.0, StatusCode::CREATED);
    // web-2's start takes 3 s; its agent is killed meanwhile.
    fs::write(hosts[1].dir.join("slow-1.0"), "").unwrap();
    let start = json!({ "target": "*", "canary": 0, "batch": "100%", "bake_secs": 0 });
    let (_, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    let id = body["data"]["id"].as_i64().unwrap();
    let events = hosts[1].dir.join("events");
    testkit::tokio::eventually("web-2 starting 1.0", || {
        fs::read_to_string(&events).unwrap_or_default().contains("start 1.0")
    })
    .await;
    hosts[1].kill();
    // The master gives a silent host its wait and a probe (15 s) before it counts it lost.
    let data = wait_for_deployment(&test, &ada, id).await;
    let states: Vec<(String, String)> =
        host_states(&data).into_iter().map(|(host, _, state, _)| (host, state)).collect();
    assert_eq!(states[1], ("web-2".to_string(), "lost".to_string()), "{data}");
    assert_eq!(data["deployment"]["state"], "failed", "a lost host counts against the budget: {data}");
    // web-1 had no earlier version to go back to: kept, and said so.
    assert_eq!(states[0].1, "kept", "{data}");
}

// ---------------------------------------------------------------------------------------------
// The records, on every backend

#[test(tokio)]
async fn releases_and_rollouts_are_recorded_on_every_backend() {
    use platform::records::{DeploymentState, HostUpdate, NewDeployment, NewRelease, RecordError};
    for common::TestDb { name, records, .. } in common::databases().await {
        let package = hello("1.0");
        let new = NewRelease {
            name: "hello".into(),
            version: "1.0".into(),
            manifest: check_release(&package).unwrap().manifest_text,
            sha256: sha256_of(&package),
            package: package.clone(),
            uploaded_by: "ada".into(),
            uploaded: 5,
        };
        let id = records.add_release(&new).await.unwrap();
        assert!(
            matches!(records.add_release(&new).await, Err(RecordError::Conflict { .. })),
            "{name}: a version is recorded once"
        );
        let found = records.release("hello", "1.0").await.unwrap().unwrap();
        assert_eq!(
            (found.id, found.size, found.sha256.as_str()),
            (id, package.len() as i64, new.sha256.as_str()),
            "{name}"
        );
        assert_eq!(
            records.release_package("hello", "1.0").await.unwrap(),
            Some((new.sha256.clone(), package)),
            "{name}"
        );
        assert_eq!(records.release("hello", "1.1").await.unwrap(), None, "{name}");

        let batches = vec![vec!["web-1".to_string()], vec!["web-2".to_string(), "web-3".to_string()]];
        let deployment = NewDeployment {
            release_id: id,
            user: "ada".into(),
            target: "*".into(),
            strategy: "{}".into(),
            batches: batches.clone(),
            started: 7,
        };
        let twice =
            NewDeployment { batches: vec![vec!["web-1".into()], vec!["web-1".into()]], ..deployment.clone() };
        assert!(matches!(records.start_deployment(&twice).await, Err(RecordError::Invalid { .. })), "{name}");
        let gone = NewDeployment { release_id: id + 100, ..deployment.clone() };
        assert!(matches!(records.start_deployment(&gone).await, Err(RecordError::NotFound { .. })), "{name}");
        let rollout = records.start_deployment(&deployment).await.unwrap();
        let hosts = records.deployment_hosts(rollout).await.unwrap();
        let plan: Vec<(&str, i64, &str)> =
            hosts.iter().map(|h| (h.host.as_str(), h.batch, h.state.as_str())).collect();
        assert_eq!(
            plan,
            [("web-1", 0, "pending"), ("web-2", 1, "pending"), ("web-3", 1, "pending")],
            "{name}"
        );
        let update = HostUpdate {
            host: "web-2".into(),
            state: "done".into(),
            step: "status".into(),
            previous: Some("0.9".into()),
            output: "deployed hello 1.0 (was 0.9)".into(),
        };
        records.update_deployment_hosts(rollout, std::slice::from_ref(&update), 9).await.unwrap();
        let stranger = HostUpdate { host: "db-1".into(), ..update.clone() };
        assert!(matches!(
            records.update_deployment_hosts(rollout, &[stranger], 9).await,
            Err(RecordError::NotFound { .. })
        ));
        let web2 = records.deployment_hosts(rollout).await.unwrap().remove(1);
        assert_eq!(
            (web2.state.as_str(), web2.previous.as_deref(), web2.updated),
            ("done", Some("0.9"), 9),
            "{name}"
        );
        let runs = records.deployed_versions("hello").await.unwrap();
        assert_eq!(
            runs,
            std::collections::BTreeMap::from([("web-2".to_string(), "1.0".to_string())]),
            "{name}"
        );
        let back = HostUpdate { state: "rolled_back".into(), previous: None, ..update.clone() };
        records.update_deployment_hosts(rollout, &[back], 10).await.unwrap();
        assert_eq!(records.deployed_versions("hello").await.unwrap()["web-2"], "0.9", "{name}: put back");
        assert!(records.deployed_versions("other").await.unwrap().is_empty(), "{name}");

        // A state moves only from the states named: a pause of a rollout that ended is refused.
        use DeploymentState::{Failed, Paused, Running};
        assert!(
            records.set_deployment_state(rollout, &[Running], Paused, "by ada", 10).await.unwrap(),
            "{name}"
        );
        assert!(
            !records.set_deployment_state(rollout, &[Running], Paused, "again", 11).await.unwrap(),
            "{name}"
        );
        assert_eq!(records.unfinished_deployments().await.unwrap().len(), 1, "{name}");
        assert!(
            records.set_deployment_state(rollout, &[Paused], Failed, "batch 2", 12).await.unwrap(),
            "{name}"
        );
        let ended = records.deployment(rollout).await.unwrap().unwrap();
        assert_eq!(
            (ended.state, ended.ended, ended.detail.as_str()),
            (Failed, Some(12), "batch 2"),
            "{name}"
        );
        assert!(records.unfinished_deployments().await.unwrap().is_empty(), "{name}");
        records.set_deployment_batch(rollout, 1).await.unwrap();
        assert_eq!(records.deployment(rollout).await.unwrap().unwrap().batch, 1, "{name}");
    }
}

#[test(tokio)]
async fn a_batch_whose_monitoring_goes_bad_over_its_bake_is_put_back() {
    let mut test = TestPlatform::start(&[]).await;
    test.with_monitoring().await;
    test.with_distribution().await;
    let mut hosts = Vec::new();
    for n in 1..=3u8 {
        hosts.push(test.spawn_host(&format!("web-{n}"), 100 + n, &[("role", "web")]).await);
    }
    let ada = test.login("ada").await;
    running_1_0_with_2_0_uploaded(&test, &ada, &hosts).await;

    // 2.0 passes its own status hook everywhere; what monitoring says of the canary during its
    // 3-second bake is another matter.
    let start = json!({
        "target": "*", "canary": 1, "batch": 1, "bake_secs": 3,
        "health": { "metric": "hello.errors", "max": 0.05 },
    });
    let (status, body) = test.post("/api/releases/hello/2.0/deployments", &ada, start).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_i64().unwrap();
    wait_for_canary(&test, &ada, id, "done").await;
    let point = |host: &str, value: f64| monitor::Point {
        host: host.to_string(),
        metric: "hello.errors".to_string(),
        tags: Default::default(),
        timestamp: platform::now_millis(),
        value,
        kind: monitor::point::Kind::Gauge,
    };
    // web-2 runs 1.0 and has errors: it is not in the batch, and does not count.
    test.send_points(vec![point("web-1", 0.01), point("web-1", 0.4), point("web-2", 0.9)]).await;
    let data = wait_for_deployment(&test, &ada, id).await;
    assert_eq!(data["deployment"]["state"], "failed", "{data}");
    let states: Vec<(String, String)> = host_states(&data)
        .into_iter()
        .map(|(host, _, state, step)| (host, format!("{state} {step}")))
        .collect();
    assert_eq!(states[0].1, "rolled_back status", "the canary is put back: {data}");
    assert_eq!((states[1].1.as_str(), states[2].1.as_str()), ("skipped -", "skipped -"), "{data}");
    assert!(data["hosts"][0]["output"].as_str().unwrap().contains("hello.errors"), "{data}");
    assert_eq!(hosts[0].current("hello").as_deref(), Some("1.0"));
    assert_eq!(
        events_of(&hosts[0]),
        ["stop 1.0", "start 2.0", "status 2.0", "stop 2.0", "start 1.0", "status 1.0"]
    );

    // The same rollout with a canary at the rule's limit, not over it, goes through; a rule
    // without a bake or a metric is refused.
    let start = json!({ "target": "*", "canary": 1, "batch": 2, "bake_secs": 2, "health": { "metric": "hello.errors", "max": 0.05 } });
    let (_, body) = test.post("/api/releases/hello/2.0/deployments", &ada, start).await;
    let id = body["data"]["id"].as_i64().unwrap();
    wait_for_canary(&test, &ada, id, "done").await;
    test.send_points(vec![point("web-1", 0.05)]).await;
    let data = wait_for_deployment(&test, &ada, id).await;
    assert_eq!(data["deployment"]["state"], "succeeded", "{data}");
    let start = json!({ "target": "*", "bake_secs": 0, "health": { "metric": "hello.errors", "max": 0.05 } });
    let (status, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let start = json!({ "target": "*", "bake_secs": 1, "health": { "metric": "", "max": 0.05 } });
    let (status, body) = test.post("/api/releases/hello/1.0/deployments", &ada, start).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a rule needs a metric: {body}");
}
