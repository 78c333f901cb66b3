//! `platform demo`, the lab's main job on one machine: two platform servers (records in SQLite,
//! the control master, lab 08's monitoring pipeline, the API and the dashboard; one leads, the
//! other stands by: [`servers`]), a fleet of
//! simulated hosts whose agents dial the master (they run every check a real agent runs, then
//! echo the command instead of starting it) and whose made-up metrics reach the relay (one of them
//! runs hot for a minute in every two, so an alert fires), one real host (lab 09's agent running
//! real processes, the scripts rolled out to it run as its collectors: [`crate::host`]), the
//! demo's alert rules and releases, and an admin account with a password shown once. Ctrl-C
//! stops it all.
//!
//! The parts are the stages' work; this file only starts them, so it is given.

pub mod servers;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use control::agent::{AgentConfig, AllowList, Exec, spawn_agent};
use control::keys::Identity;
use monitor::point::{Kind, Point};
use monitor::wire::{Sender, SenderConfig, Spool};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::host::{Host as RealHost, HostConfig};
use crate::records::{Host, Millis, NewRelease, Records, Role, RuleRecord};
use crate::releases::{PackFile, check_release, pack_files};
use servers::{Shared, free_address, watch};

/// What `platform demo` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// How many simulated hosts.
    pub hosts: usize,
    /// Where the API and the dashboard listen.
    pub http: SocketAddr,
    /// Where the records and keys live; a new temporary directory when `None`.
    pub dir: Option<PathBuf>,
}

/// The demo's real host: it runs what it is sent, and the scripts rolled out to it.
pub const REAL_HOST: &str = "real-01";

/// The programs the simulated hosts allow, and the operator role may run.
const PROGRAMS: [&str; 4] = ["/bin/echo", "/bin/hostname", "/usr/bin/uptime", "/bin/true"];

/// How long the first server may take to serve.
const FIRST_SERVE_WAIT: Duration = Duration::from_secs(60);

/// Runs the demo until `shutdown`, writing how to reach it to `out`, and then what its servers
/// say, each line after the server's name and process id.
///
/// # Errors
///
/// When the records or keys cannot be made ([`Error::Records`], [`Error::Control`],
/// [`Error::Sys`]), no server serves within a minute, or `out` cannot be written.
pub async fn run_demo(
    config: &DemoConfig,
    shutdown: &CancellationToken,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let (dir, temporary) = match &config.dir {
        Some(dir) => (dir.clone(), false),
        None => (scratch_dir()?, true),
    };
    std::fs::create_dir_all(&dir).map_err(Error::sys(format!("create {}", dir.display())))?;
    let db = format!("sqlite://{}", dir.join("platform.db").display());
    // What both servers find when they start: the records with the accounts, rules and releases,
    // and the keys the hosts must trust.
    let records = Records::open(&db).await?;
    let password = ensure_accounts(&records).await?;
    let rules = ensure_rules(&records).await?;
    ensure_releases(&records).await?;
    let control_error = |err: control::Error| Error::Control(err.to_string());
    let master_key = Identity::load_or_generate(&dir.join("master.key")).map_err(control_error)?.public();
    let operator_key = Identity::load_or_generate(&dir.join("operator.key")).map_err(control_error)?.public();
    let free = || free_address().map_err(Error::sys("find a free port"));
    let http = if config.http.port() == 0 { free()? } else { config.http };
    let shared = Shared { db, dir: dir.clone(), http, control: free()?, relay: free()? };
    let installer = std::env::current_exe().map_err(Error::sys("find this program's path"))?;

    let stop = shutdown.child_token();
    let (said, mut lines) = tokio::sync::mpsc::unbounded_channel();
    let mut watchers = vec![watch(installer.clone(), "a", shared.clone(), said.clone(), stop.clone())];
    // a first, so that it leads; b once a serves.
    let serving = tokio::time::timeout(FIRST_SERVE_WAIT, async {
        while let Some(line) = lines.recv().await {
            writeln!(out, "{line}").map_err(Error::Write)?;
            if line.contains("platform on http://") {
                return Ok(true);
            }
        }
        Ok::<_, Error>(false)
    })
    .await;
    if !matches!(serving, Ok(Ok(true))) {
        stop.cancel();
        for watcher in watchers {
            let _ = watcher.await;
        }
        serving.unwrap_or(Ok(false))?;
        return Err(Error::Control(format!("no server served on {http} within {FIRST_SERVE_WAIT:?}")));
    }
    watchers.push(watch(installer.clone(), "b", shared.clone(), said, stop.clone()));
    let (control, relay) = (shared.control, shared.relay);

    let mut hosts = Vec::new();
    for n in 0..config.hosts {
        let id = format!("host-{:02}", n + 1);
        let tags = BTreeMap::from([
            ("dc".to_string(), ["bj", "sh"][n % 2].to_string()),
            ("role".to_string(), if n % 4 == 3 { "db" } else { "web" }.to_string()),
        ]);
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
        let mut agent = AgentConfig::new(&id, Identity::from_seed(seed), control, master_key);
        agent.operators = vec![operator_key];
        // The platform's own program too: a release's rollout runs it (echoed, so it "succeeds").
        agent.allow = AllowList::parse(&format!("{}\n{}\n", PROGRAMS.join("\n"), installer.display()));
        agent.tags = tags.clone();
        agent.exec = Exec::Echo;
        agent.heartbeat = Duration::from_secs(2);
        spawn_agent(agent, stop.clone());
        hosts.push(Host { name: id, tags, added: crate::now_millis() });
    }
    // One real host: it runs the commands it is sent as processes, the scripts' installer among
    // them, and the scripts rolled out to it as its collectors.
    let mut agent = AgentConfig::new(REAL_HOST, Identity::from_seed([9; 32]), control, master_key);
    agent.operators = vec![operator_key];
    agent.allow = AllowList::parse(&format!("{}\n{}\n", PROGRAMS.join("\n"), installer.display()));
    let tags =
        BTreeMap::from([("dc".to_string(), "bj".to_string()), ("role".to_string(), "real".to_string())]);
    agent.tags = tags.clone();
    agent.heartbeat = Duration::from_secs(2);
    let real = RealHost::start(
        HostConfig {
            agent,
            scripts_dir: dir.join("host-scripts"),
            relay,
            spool: dir.join("real-host-spool"),
        },
        &stop,
    )?;
    hosts.push(Host { name: REAL_HOST.into(), tags, added: crate::now_millis() });
    records.upsert_hosts(&hosts).await?;
    let names = hosts.iter().map(|host| host.name.clone()).collect();
    let buggy = Arc::new(Mutex::new(BTreeSet::new()));
    tokio::spawn(follow_buggy(records.clone(), Arc::clone(&buggy), stop.clone()));
    let metrics = spawn_metrics(names, relay, &dir.join("demo-spool"), METRICS_EVERY, buggy, stop.clone())?;

    let write = |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(Error::Write);
    write(out, format!("platform on http://{http}"))?;
    write(out, format!("control master on {control} (key {master_key})"))?;
    write(
        out,
        format!("{} simulated hosts, tagged dc=bj|sh and role=web|db, dialing the master", config.hosts),
    )?;
    write(
        out,
        format!(
            "monitoring relay on {}; their metrics every {} s; {rules} alert rules (host-01 runs hot a minute in two)",
            relay,
            METRICS_EVERY.as_secs()
        ),
    )?;
    match password {
        Some(password) => {
            write(out, format!("log in as admin with the password {password} (shown this once)"))?
        }
        None => write(out, "log in as admin with the password you were given".to_string())?,
    }
    write(
        out,
        format!("and one real host, {REAL_HOST}: roll a monitoring script out to it and its metric appears"),
    )?;
    write(
        out,
        format!(
            "releases {SERVICE} {GOOD} and {BUGGY}: roll {GOOD} out to *, then {BUGGY} with the health rule \
             {ERRORS} at most 0.05 and a bake of 15 s: the canary's errors rise, and it is put back"
        ),
    )?;
    write(
        out,
        "two servers, a and b, over the same records and addresses: one leads, the other stands by; \
         kill -9 the leader's pid (its line below says `leads`) and the other serves within a second, \
         as the dashboard's bar shows; the dead one is started again to stand by"
            .to_string(),
    )?;
    write(out, "Ctrl-C stops it all".to_string())?;
    out.flush().map_err(Error::Write)?;

    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            line = lines.recv() => match line {
                Some(line) => {
                    write(out, line)?;
                    out.flush().map_err(Error::Write)?;
                }
                None => break,
            },
        }
    }
    stop.cancel();
    let _ = tokio::task::spawn_blocking(move || metrics.join()).await;
    real.join().await;
    for watcher in watchers {
        let _ = watcher.await;
    }
    records.close().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Makes the roles `admin`, `operator` (the demo's programs, everywhere) and `viewer` (nothing),
/// and an `admin` user when there is none: its password, made now and shown once.
///
/// # Errors
///
/// When the records cannot be written.
pub async fn ensure_accounts(records: &Records) -> Result<Option<String>, Error> {
    if records.role("admin").await?.is_none() {
        records
            .put_role(&Role {
                name: "admin".into(),
                commands: vec!["/**".into()],
                targets: "*".into(),
                admin: true,
            })
            .await?;
        let programs = PROGRAMS.iter().map(|program| program.to_string()).collect();
        records
            .put_role(&Role {
                name: "operator".into(),
                commands: programs,
                targets: "*".into(),
                admin: false,
            })
            .await?;
        records
            .put_role(&Role { name: "viewer".into(), commands: vec![], targets: "*".into(), admin: false })
            .await?;
    }
    if records.user("admin").await?.is_some() {
        return Ok(None);
    }
    let password = crate::auth::password::generate_password();
    let hash = crate::auth::password::hash_password(&password).map_err(Error::BadOption)?;
    let admin = crate::records::User {
        name: "admin".into(),
        role: "admin".into(),
        password_hash: hash,
        created: crate::now_millis(),
        disabled: false,
    };
    records.add_user(&admin).await?;
    Ok(Some(password))
}

/// How often the simulated hosts send their metrics.
const METRICS_EVERY: Duration = Duration::from_secs(5);

/// The demo's alert rules, recorded when the records have none: the hot host breaks the first.
const DEMO_RULES: [(i64, &str, i64, &str); 3] = [
    (1, "cpu.busy all(#3) > 90", 1, "CPU busy above 90% for three readings in a row"),
    (2, "mem.used min(#3) > 7.5e9", 2, "memory nearly full"),
    (3, "load.1min avg(#6) > 3.9", 3, ""),
];

/// Records the demo's rules when there are none (a server gives the judge the recorded ones when
/// it starts). Returns how many there are.
///
/// # Errors
///
/// When the records cannot be read or written.
pub async fn ensure_rules(records: &Records) -> Result<usize, Error> {
    if records.rules().await?.is_empty() {
        for (id, expr, priority, note) in DEMO_RULES {
            let rule = RuleRecord { id, expr: expr.into(), priority, note: note.into() };
            records.put_rule(&rule).await?;
        }
    }
    Ok(records.rules().await?.len())
}

/// The demo's service, and its two releases: the good one, and one whose errors rise.
const SERVICE: &str = "hello";
const GOOD: &str = "1.0";
const BUGGY: &str = "1.1";
/// The metric the demo's service reports on every host: its error rate.
const ERRORS: &str = "hello.errors";

/// Uploads the demo's releases when there are none: `hello 1.0`, and `hello 1.1`, whose status
/// hook fails on a real host and whose error rate rises on a simulated one.
///
/// # Errors
///
/// When the records cannot be read or written.
pub async fn ensure_releases(records: &Records) -> Result<(), Error> {
    if !records.releases().await?.is_empty() {
        return Ok(());
    }
    for version in [GOOD, BUGGY] {
        let head = format!(
            "name = \"{SERVICE}\"\nversion = \"{version}\"\nhook_timeout_secs = 10\nhealthy_within_secs = 3\n\n\
             [hooks]\nstart = \"bin/start\"\nstop = \"bin/stop\"\nstatus = \"bin/status\"\n"
        );
        let status = if version == BUGGY {
            "#!/bin/sh\necho 'no answer on :8080'\nexit 1\n"
        } else {
            "#!/bin/sh\nexit 0\n"
        };
        let files = [
            PackFile::new("bin/start", "#!/bin/sh\necho \"starting $RELEASE_NAME $RELEASE_VERSION\"\n", true),
            PackFile::new("bin/stop", "#!/bin/sh\necho \"stopping $RELEASE_NAME $RELEASE_VERSION\"\n", true),
            PackFile::new("bin/status", status, true),
            PackFile::new("share/greeting", format!("hello from {version}\n"), false),
        ];
        let package = pack_files(&head, &files);
        let checked = check_release(&package).map_err(|violation| Error::BadOption(violation.reason))?;
        let release = NewRelease {
            name: SERVICE.into(),
            version: version.into(),
            manifest: checked.manifest_text,
            sha256: checked.sha256,
            package,
            uploaded_by: "admin".into(),
            uploaded: crate::now_millis(),
        };
        records.add_release(&release).await?;
    }
    Ok(())
}

/// Keeps `buggy` the set of hosts that run the buggy release, as the rollouts' records say, every
/// second until `stop`: the demo's stand-in for a service whose errors rise.
async fn follow_buggy(records: Records, buggy: Arc<Mutex<BTreeSet<String>>>, stop: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let Ok(running) = records.deployed_versions(SERVICE).await else { continue };
        let now: BTreeSet<String> =
            running.into_iter().filter(|(_, version)| version == BUGGY).map(|(host, _)| host).collect();
        *buggy.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }
}

/// Sends made-up metrics for `hosts` to the relay at `relay` every `every`, until `stop`: CPU,
/// memory and load that wander as a real node's do, from a walk seeded by the host's name; the
/// first host's CPU is above 90% for a minute in every two; and the demo service's error rate,
/// high on the hosts in `buggy`. One thread and one connection for the whole fleet, through lab
/// 08's sender (its spool in `spool`).
fn spawn_metrics(
    hosts: Vec<String>,
    relay: SocketAddr,
    spool: &std::path::Path,
    every: Duration,
    buggy: Arc<Mutex<BTreeSet<String>>>,
    stop: CancellationToken,
) -> Result<std::thread::JoinHandle<()>, Error> {
    let spool = Spool::open(spool, 64 << 20).map_err(|err| Error::Monitor(err.to_string()))?;
    let mut sender = Sender::new(SenderConfig::new(vec![relay]), spool);
    std::thread::Builder::new()
        .name("demo metrics".into())
        .spawn(move || {
            let mut round = 0u64;
            while !stop.is_cancelled() {
                let now = crate::now_millis();
                let mut points: Vec<Point> =
                    hosts.iter().enumerate().flat_map(|(n, host)| simulated(host, n, round, now)).collect();
                let buggy = buggy.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                points.extend(hosts.iter().map(|host| Point {
                    host: host.clone(),
                    metric: ERRORS.to_string(),
                    tags: Default::default(),
                    timestamp: now,
                    value: if buggy.contains(host) { 0.3 } else { 0.01 },
                    kind: Kind::Gauge,
                }));
                if let Err(err) = sender.send(points) {
                    tracing::warn!(cause = %err, "cannot send the demo's metrics");
                }
                round += 1;
                // A tick in small steps, so a stop is seen at once.
                let next = std::time::Instant::now() + every;
                while !stop.is_cancelled() && std::time::Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
        .map_err(Error::sys("spawn the demo's metrics thread"))
}

/// The readings of the `n`th simulated host at its `round`th reading, taken `now`.
fn simulated(host: &str, n: usize, round: u64, now: Millis) -> Vec<Point> {
    let seed =
        host.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    // A smooth wander from the seed and the round: no state to keep between rounds.
    let phase = (seed % 1000) as f64 / 1000.0 * std::f64::consts::TAU;
    let wave = |period: f64| (round as f64 / period * std::f64::consts::TAU + phase).sin();
    let hot = n == 0 && (now / 60_000) % 2 == 1;
    let cpu = if hot { 93.0 + 4.0 * wave(3.0).abs() } else { 30.0 + 20.0 * wave(24.0) };
    let memory = 4e9 + 1.5e9 * wave(60.0);
    let load = 1.0 + 0.8 * wave(36.0) + cpu / 100.0;
    [("cpu.busy", cpu), ("mem.used", memory), ("load.1min", load)]
        .into_iter()
        .map(|(metric, value)| Point {
            host: host.to_string(),
            metric: metric.to_string(),
            tags: Default::default(),
            timestamp: now,
            value,
            kind: Kind::Gauge,
        })
        .collect()
}

/// A new directory of its own under the system's temporary directory.
fn scratch_dir() -> Result<PathBuf, Error> {
    let dir =
        std::env::temp_dir().join(format!("platform-demo-{}-{}", std::process::id(), crate::now_millis()));
    std::fs::create_dir_all(&dir).map_err(Error::sys(format!("create {}", dir.display())))?;
    Ok(dir)
}
