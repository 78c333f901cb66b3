//! What the stage tests share: the databases every storage test runs on. SQLite, in a scratch
//! file, always; MariaDB too when `PLATFORM_MARIADB_URL` names a server whose user may create
//! databases named `platform…` (CI starts one; `solutions/10-platform/mariadb.sh start DIR` starts
//! one anywhere and prints its URL). Each test gets a database of its own.

#![allow(dead_code)] // each stage's test file uses its own part of this

pub mod etcd;
pub mod servers;

use std::sync::atomic::{AtomicUsize, Ordering};

use platform::records::Records;
use sqlx::Connection;
use testkit::TempDir;

/// The variable that names a MariaDB server to test on as well.
pub const MARIADB_URL: &str = "PLATFORM_MARIADB_URL";

/// A fresh database for one test.
pub struct TestDb {
    /// `sqlite` or `mariadb`, for messages.
    pub name: &'static str,
    /// The URL it was opened with.
    pub url: String,
    /// The records, opened and migrated.
    pub records: Records,
    _dir: Option<TempDir>,
}

/// A fresh, empty database on every backend there is, opened.
pub async fn databases() -> Vec<TestDb> {
    let mut databases = Vec::new();
    for (name, url, dir) in database_urls().await {
        let records =
            Records::open(&url).await.unwrap_or_else(|err| panic!("{name}: cannot open {url}: {err}"));
        databases.push(TestDb { name, url, records, _dir: dir });
    }
    databases
}

/// The URL of a fresh database on every backend there is (not opened yet), each with the
/// directory that must outlive it.
pub async fn database_urls() -> Vec<(&'static str, String, Option<TempDir>)> {
    let dir = testkit::scratch_dir();
    let sqlite = format!("sqlite://{}", dir.path().join("records.db").display());
    let mut urls = vec![("sqlite", sqlite, Some(dir))];
    if let Some(url) = mariadb_database().await {
        urls.push(("mariadb", url, None));
    }
    urls
}

/// A new, empty database on the MariaDB server `PLATFORM_MARIADB_URL` names, if it names one.
async fn mariadb_database() -> Option<String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let url = std::env::var(MARIADB_URL).ok().filter(|url| !url.is_empty())?;
    let (server, _database) =
        url.rsplit_once('/').unwrap_or_else(|| panic!("{MARIADB_URL}: no database in {url}"));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("platform_t{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("{MARIADB_URL}: cannot connect: {err}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|err| panic!("{MARIADB_URL}: cannot create a database: {err}"));
    let _ = admin.close().await;
    Some(format!("{server}/{name}"))
}

// ---------------------------------------------------------------------------------------------
// A whole platform in the test's process: records in a scratch SQLite file, lab 09's master on a
// loopback port, agents that dial it, and the API's router driven in-process; lab 08's monitoring
// pipeline too when a test asks for it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use control::agent::{AgentConfig, AgentHandle, AllowList, spawn_agent};
use control::keys::{Identity, KeyStore};
use control::master::{Master, MasterConfig, MasterHandle};
use http_body_util::BodyExt;
use platform::api::{SESSION_COOKIE, router};
use platform::auth::password::hash_password;
use platform::commands::Commands;
use platform::monitoring::{Monitoring, MonitoringConfig};
use platform::platform::Platform;
use platform::records::{Role, User};
use platform::scripts::Distribution;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// The platform's own program, which a rollout starts on each host to install a script.
pub fn installer() -> &'static str {
    testkit::lab_binary!("platform")
}

/// The platform's operator key: it signs every command, and the master and agents trust it.
pub fn operator() -> Identity {
    Identity::from_seed([201; 32])
}

/// The master's key.
pub fn master_key() -> Identity {
    Identity::from_seed([200; 32])
}

/// Every user's password in these tests (and `ada`'s is the admin's).
pub const PASSWORD: &str = "correct horse battery";

/// A platform with a master, agents and three roles: `admin` (any program anywhere, manages the
/// platform), `operator` (`/bin/echo` and `/bin/sh` on `tag:env=staging`) and `viewer` (no
/// program). Users: `ada` (admin), `otto` (operator), `vera` (viewer).
pub struct TestPlatform {
    pub platform: Arc<Platform>,
    pub app: Router,
    pub master: MasterHandle,
    pub records: platform::records::Records,
    pub agents: Vec<AgentHandle>,
    pub followers: CancellationToken,
    /// Lab 08's pipeline, once [`TestPlatform::with_monitoring`] has started it.
    pub monitoring: Option<Monitoring>,
    /// How scripts reach the hosts, once [`TestPlatform::with_distribution`] has said.
    pub distribution: Option<Distribution>,
    /// The master's store of agents' keys (a host process is enrolled there).
    pub keys: KeyStore,
    /// Where the master listens.
    pub control: SocketAddr,
    shutdown: CancellationToken,
    pub dir: TempDir,
}

/// A logged-in client: the cookie's token and the CSRF token.
#[derive(Debug, Clone)]
pub struct Client {
    pub token: String,
    pub csrf: String,
}

impl TestPlatform {
    /// A platform whose agents are `hosts` (id and tags), each running real processes.
    pub async fn start(hosts: &[(&str, &[(&str, &str)])]) -> TestPlatform {
        let dir = testkit::scratch_dir();
        let url = format!("sqlite://{}", dir.path().join("platform.db").display());
        let records = Records::open(&url).await.unwrap();
        for (role, commands, targets, admin) in [
            ("admin", vec!["/**"], "*", true),
            ("operator", vec!["/bin/echo", "/bin/sh"], "tag:env=staging", false),
            ("viewer", vec![], "*", false),
        ] {
            let commands = commands.into_iter().map(String::from).collect();
            records
                .put_role(&Role { name: role.into(), commands, targets: targets.into(), admin })
                .await
                .unwrap();
        }
        let hash = hash_password(PASSWORD).unwrap();
        for (name, role) in [("ada", "admin"), ("otto", "operator"), ("vera", "viewer")] {
            let user = User {
                name: name.into(),
                role: role.into(),
                password_hash: hash.clone(),
                created: 1,
                disabled: false,
            };
            records.add_user(&user).await.unwrap();
        }
        let shutdown = CancellationToken::new();
        let keys = KeyStore::open(&dir.path().join("keys")).unwrap();
        let mut config = MasterConfig::new(master_key(), keys.clone());
        config.operators = vec![operator().public()];
        config.heartbeat = Duration::from_millis(100);
        config.keys_poll = Duration::from_millis(20);
        config.audit = Some(dir.path().join("master-audit.log"));
        let master = Master::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.unwrap();
        let addr = master.local_addr().unwrap();
        let handle = master.handle();
        tokio::spawn(master.run(shutdown.clone()));
        let mut agents = Vec::new();
        for (n, (id, tags)) in hosts.iter().enumerate() {
            let key = Identity::from_seed([n as u8 + 1; 32]);
            keys.enroll(id, &key.public()).unwrap();
            let mut config = AgentConfig::new(id, key, addr, master_key().public());
            config.operators = vec![operator().public()];
            // The platform's own program too: a rollout runs it as the hosts' installer.
            config.allow = AllowList::parse(&format!("/bin/sh\n/bin/echo\n{}\n", installer()));
            config.tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            config.heartbeat = Duration::from_millis(100);
            config.backoff_base = Duration::from_millis(20);
            config.backoff_cap = Duration::from_millis(100);
            agents.push(spawn_agent(config, shutdown.clone()));
        }
        let ids: Vec<String> = hosts.iter().map(|(id, _)| id.to_string()).collect();
        testkit::tokio::eventually("every agent connected", || {
            ids.iter().all(|id| handle.agent(id).is_some())
        })
        .await;
        let followers = CancellationToken::new();
        let commands = Commands::new(records.clone(), handle.clone(), operator(), followers.clone());
        let platform = Arc::new(Platform::new(records.clone(), Some(commands)));
        let app = router(Arc::clone(&platform)).merge(platform::dashboard::router(Arc::clone(&platform)));
        TestPlatform {
            platform,
            app,
            master: handle,
            records,
            agents,
            followers,
            monitoring: None,
            distribution: None,
            keys,
            control: addr,
            shutdown,
            dir,
        }
    }

    /// Starts lab 08's pipeline (its judge reading every 10 s) in the platform's directory and
    /// gives the platform its console, as `platform serve` does; nothing is pushed to the judge
    /// yet. Returns where its relay listens.
    pub async fn with_monitoring(&mut self) -> SocketAddr {
        let config = MonitoringConfig::new(self.dir.path().join("monitoring"));
        let monitoring =
            tokio::task::spawn_blocking(move || Monitoring::start(&config)).await.unwrap().unwrap();
        let relay = monitoring.relay;
        self.monitoring = Some(monitoring);
        self.restarted();
        relay
    }

    /// Serves the platform over HTTP on a port of its own (the hosts' installer fetches scripts
    /// from it) and has it send scripts to its hosts, all of which keep them in one directory
    /// (they share this machine): that directory.
    pub async fn with_distribution(&mut self) -> std::path::PathBuf {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scripts_dir = self.dir.path().join("host-scripts");
        self.distribution = Some(Distribution {
            installer: installer().into(),
            scripts_dir: scripts_dir.clone(),
            // Relative: each host process keeps its releases under its own working directory.
            releases_dir: "releases".into(),
            url: format!("http://{}", listener.local_addr().unwrap()),
        });
        self.restarted();
        let app = self.app.clone();
        let stop = self.shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await
        });
        scripts_dir
    }

    /// Starts host `id` with `tags` as a process of its own, `platform agent` in a directory of
    /// its own (its working directory: the releases a rollout deploys there land under it), and
    /// waits for it to connect. Nothing in-process: a host that is killed is gone.
    pub async fn spawn_host(&self, id: &str, n: u8, tags: &[(&str, &str)]) -> HostProcess {
        let dir = self.dir.path().join("hosts").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let key = Identity::from_seed([n; 32]);
        key.save(&dir.join("agent.key")).unwrap();
        self.keys.enroll(id, &key.public()).unwrap();
        std::fs::write(dir.join("allow"), format!("/bin/sh\n/bin/echo\n{}\n", installer())).unwrap();
        let mut command = std::process::Command::new(installer());
        command
            .current_dir(&dir)
            .args(["agent", "--id", id, "--master", &self.control.to_string()])
            .args(["--master-key", &master_key().public().to_string()])
            .args(["--operator-key", &operator().public().to_string()])
            // Nothing listens there: the host's points wait in its spool.
            .args(["--relay", "127.0.0.1:9", "--key", "agent.key", "--allow", "allow"])
            .args(["--scripts", "scripts", "--spool", "spool"])
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(dir.join("agent.out")).unwrap())
            .stderr(std::fs::File::create(dir.join("agent.err")).unwrap());
        for (key, value) in tags {
            command.args(["--tag", &format!("{key}={value}")]);
        }
        let child = command.spawn().unwrap();
        let host = HostProcess { id: id.to_string(), dir, child };
        let master = self.master.clone();
        let name = id.to_string();
        testkit::tokio::eventually(&format!("host {id} connected"), move || master.agent(&name).is_some())
            .await;
        host
    }

    /// Lab 08's console of the pipeline [`TestPlatform::with_monitoring`] started.
    pub fn console(&self) -> Arc<monitor::web::Console> {
        Arc::clone(&self.monitoring.as_ref().expect("with_monitoring first").console)
    }

    /// The same platform started again over the same records and master (its followers stopped
    /// first): what a restart of the platform's process finds.
    pub fn restarted(&mut self) -> Arc<Platform> {
        self.followers.cancel();
        self.followers = CancellationToken::new();
        let commands =
            Commands::new(self.records.clone(), self.master.clone(), operator(), self.followers.clone());
        let platform = Platform::new(self.records.clone(), Some(commands));
        let platform = match &self.monitoring {
            Some(monitoring) => platform.with_monitoring(Arc::clone(&monitoring.console)),
            None => platform,
        };
        self.platform = Arc::new(match &self.distribution {
            Some(distribution) => platform.with_distribution(distribution.clone()),
            None => platform,
        });
        self.app =
            router(Arc::clone(&self.platform)).merge(platform::dashboard::router(Arc::clone(&self.platform)));
        Arc::clone(&self.platform)
    }

    /// Sends a request as `client` (with its cookie and, when `csrf`, its CSRF token): the status,
    /// the headers and the body as JSON (`Null` when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        client: Option<&Client>,
        csrf: bool,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(client) = client {
            request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={}", client.token));
            if csrf {
                request = request.header("x-csrf-token", &client.csrf);
            }
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let response = self.app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, headers, json)
    }

    /// A GET with no session: the status, the headers and the body's bytes.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    /// A GET as `client`.
    pub async fn get(&self, path: &str, client: &Client) -> (StatusCode, Value) {
        let (status, _, body) = self.send(Method::GET, path, Some(client), false, None).await;
        (status, body)
    }

    /// A GET of a page as `client`: the status and the HTML.
    pub async fn page(&self, path: &str, client: &Client) -> (StatusCode, String) {
        let request = Request::builder()
            .uri(path)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={}", client.token))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A DELETE as `client`, with its CSRF token.
    pub async fn delete(&self, path: &str, client: &Client) -> (StatusCode, Value) {
        let (status, _, body) = self.send(Method::DELETE, path, Some(client), true, None).await;
        (status, body)
    }

    /// Sends `points` to the pipeline's relay as lab 08's agent does, and returns once the relay
    /// has acknowledged them.
    pub async fn send_points(&self, points: Vec<monitor::Point>) {
        let relay = self.monitoring.as_ref().expect("with_monitoring first").relay;
        static SENDS: AtomicUsize = AtomicUsize::new(0);
        let spool = self.dir.path().join(format!("spool-{}", SENDS.fetch_add(1, Ordering::Relaxed)));
        tokio::task::spawn_blocking(move || {
            let spool = monitor::wire::Spool::open(&spool, 16 << 20).unwrap();
            let mut sender = monitor::wire::Sender::new(monitor::wire::SenderConfig::new(vec![relay]), spool);
            sender.send(points).unwrap();
            assert_eq!(sender.stats().spooled, 0, "the relay did not take every point");
        })
        .await
        .unwrap();
    }

    /// A POST of `body` as `client`, with its CSRF token.
    pub async fn post(&self, path: &str, client: &Client, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(Method::POST, path, Some(client), true, Some(body)).await;
        (status, body)
    }

    /// Logs `user` in with `password`: the status, the headers and the body.
    pub async fn try_login(&self, user: &str, password: &str) -> (StatusCode, HeaderMap, Value) {
        let body = serde_json::json!({ "user": user, "password": password });
        self.send(Method::POST, "/api/login", None, false, Some(body)).await
    }

    /// Logs `user` in with [`PASSWORD`].
    pub async fn login(&self, user: &str) -> Client {
        self.login_with(user, PASSWORD).await
    }

    /// Logs `user` in with `password`.
    pub async fn login_with(&self, user: &str, password: &str) -> Client {
        let (status, headers, body) = self.try_login(user, password).await;
        assert_eq!(status, StatusCode::OK, "login of {user}: {body}");
        let cookie = headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let token = cookie
            .split(';')
            .next()
            .and_then(|pair| pair.trim().strip_prefix(&format!("{SESSION_COOKIE}=")))
            .unwrap_or_else(|| panic!("no session cookie in {cookie:?}"))
            .to_string();
        Client { token, csrf: body["data"]["csrf"].as_str().unwrap_or_default().to_string() }
    }

    /// Waits until run `run` has ended; its JSON (run, results, missing).
    pub async fn wait_for_run(&self, run: i64, client: &Client) -> Value {
        let path = format!("/api/runs/{run}");
        let mut last = Value::Null;
        let deadline = tokio::time::Instant::now() + testkit::DEFAULT_DEADLINE;
        while tokio::time::Instant::now() < deadline {
            let (status, body) = self.get(&path, client).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if body["data"]["run"]["state"] != "running" {
                return body["data"].clone();
            }
            last = body;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("run {run} did not end: {last}");
    }

    /// The tags of an agent, for building expectations.
    pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

/// A stand-in HTTP server ([`stand_in`]).
pub struct StandIn {
    /// Its URL, with the path asked for.
    pub url: String,
    /// How many requests it has had.
    pub requests: Arc<AtomicUsize>,
    /// Its task: aborted, nothing listens.
    pub task: tokio::task::JoinHandle<()>,
}

/// A server in place of the platform that answers every request with a 200 and `body` (whatever
/// was asked), counting the requests: a package route at `path` that sends what the test wants.
pub async fn stand_in(body: Vec<u8>, path: &str) -> StandIn {
    stand_in_answering(body, path, |_| 200).await
}

/// [`stand_in`], answering its `n`th request (from 0) with the status `status(n)`: `body` with a
/// 200, nothing with any other.
pub async fn stand_in_answering(
    body: Vec<u8>,
    path: &str,
    status: impl Fn(usize) -> u16 + Send + Sync + 'static,
) -> StandIn {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let code = status(counted.fetch_add(1, Ordering::SeqCst));
            let (reason, body) = match code {
                200 => ("OK", body.clone()),
                404 => ("Not Found", Vec::new()),
                503 => ("Service Unavailable", Vec::new()),
                _ => ("Other", Vec::new()),
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 {code} {reason}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    StandIn { url, requests, task }
}

/// A host running as a process of its own ([`TestPlatform::spawn_host`]); killed when dropped.
pub struct HostProcess {
    pub id: String,
    /// Its working directory: its releases are under `releases/`.
    pub dir: std::path::PathBuf,
    pub child: std::process::Child,
}

impl HostProcess {
    /// What `releases/NAME/current` names on this host, if anything.
    pub fn current(&self, name: &str) -> Option<String> {
        let link = std::fs::read_link(self.dir.join("releases").join(name).join("current")).ok()?;
        Some(link.to_string_lossy().into_owned())
    }

    /// Kills the host with SIGKILL: it vanishes, mid-step or not.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        self.followers.cancel();
        self.shutdown.cancel();
        if let Some(monitoring) = self.monitoring.take() {
            monitoring.stop();
        }
    }
}
