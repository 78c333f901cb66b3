//! etcd for the availability tests: a stand-in for its JSON gateway, always, and the real etcd
//! too when `PLATFORM_ETCD_URL` names one (`HOST:PORT` of its client port; CI starts Debian's
//! `etcd-server`). The stand-in answers the calls a lease needs, as etcd 3.4 answers them:
//! ranges, grants, the create-if-absent transaction, keep-alives, revocations and the list of
//! leases, with leases that expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use platform::availability::gateway;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The variable that names a real etcd to test on as well.
pub const ETCD_URL: &str = "PLATFORM_ETCD_URL";

/// An etcd to test on: its gateway's `host:port`, and the stand-in serving it, if it is one.
pub struct TestEtcd {
    /// `stand-in` or `etcd`, for messages.
    pub name: &'static str,
    /// Its gateway's `host:port`.
    pub endpoint: String,
    _stop: Option<StopOnDrop>,
}

struct StopOnDrop(CancellationToken);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The stand-in, always, and the real etcd when `PLATFORM_ETCD_URL` names one.
pub async fn etcds() -> Vec<TestEtcd> {
    let mut etcds = vec![stand_in().await];
    if let Some(endpoint) = std::env::var(ETCD_URL).ok().filter(|url| !url.is_empty()) {
        let endpoint = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
        etcds.push(TestEtcd { name: "etcd", endpoint, _stop: None });
    }
    etcds
}

/// A key no other test uses.
pub fn fresh_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("/platform-test/{test}/{}-{nanos}", std::process::id())
}

/// Revokes the lease `key` is held with at etcd `endpoint`, as etcd does when its holder stops
/// renewing it: the key is deleted. Returns whether there was one.
pub async fn revoke_lease_of(endpoint: &str, key: &str) -> bool {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode(key);
    let range = gateway::post(endpoint, "/v3/kv/range", &json!({ "key": key })).await.unwrap();
    let Some(lease) = range["kvs"][0].get("lease").cloned() else { return false };
    gateway::post(endpoint, "/v3/lease/revoke", &json!({ "ID": lease })).await.unwrap();
    true
}

#[derive(Default)]
struct Etcd {
    revision: i64,
    next_lease: i64,
    /// Each lease's time to live and when it ends.
    leases: HashMap<i64, (i64, Instant)>,
    /// Each key (base64): its value (base64), create revision and lease.
    keys: HashMap<String, (String, i64, i64)>,
}

impl Etcd {
    fn expire(&mut self) {
        let now = Instant::now();
        let gone: Vec<i64> =
            self.leases.iter().filter(|(_, (_, end))| *end <= now).map(|(id, _)| *id).collect();
        for id in gone {
            self.revoke(id);
        }
    }

    fn revoke(&mut self, id: i64) {
        if self.leases.remove(&id).is_some() {
            self.keys.retain(|_, (_, _, lease)| *lease != id);
            self.revision += 1;
        }
    }

    fn header(&self) -> Value {
        json!({ "cluster_id": "1", "member_id": "1", "revision": self.revision.to_string(), "raft_term": "2" })
    }

    fn kvs(&self, key: &str) -> Option<Value> {
        self.keys.get(key).map(|(value, created, lease)| {
            json!([{ "key": key, "value": value, "create_revision": created.to_string(),
                     "mod_revision": created.to_string(), "version": "1", "lease": lease.to_string() }])
        })
    }
}

type Shared = Arc<Mutex<Etcd>>;

fn int(value: &Value) -> i64 {
    value.as_str().and_then(|text| text.parse().ok()).or_else(|| value.as_i64()).unwrap_or(0)
}

async fn range(State(etcd): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut etcd = etcd.lock().unwrap();
    etcd.expire();
    let mut answer = json!({ "header": etcd.header() });
    if let Some(kvs) = etcd.kvs(body["key"].as_str().unwrap_or("")) {
        answer["kvs"] = kvs;
        answer["count"] = json!("1");
    }
    Json(answer)
}

async fn grant(State(etcd): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut etcd = etcd.lock().unwrap();
    etcd.expire();
    etcd.next_lease += 1;
    let (id, ttl) = (7_000_000 + etcd.next_lease, int(&body["TTL"]).max(1));
    etcd.leases.insert(id, (ttl, Instant::now() + Duration::from_secs(ttl as u64)));
    Json(json!({ "header": etcd.header(), "ID": id.to_string(), "TTL": ttl.to_string() }))
}

/// The one transaction a lease campaign sends: put the key with a lease if it was never created.
async fn txn(State(etcd): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut etcd = etcd.lock().unwrap();
    etcd.expire();
    let compare = &body["compare"][0];
    assert_eq!(compare["target"], "CREATE", "the stand-in knows only a compare of the create revision");
    let key = compare["key"].as_str().unwrap_or("").to_string();
    let wanted = int(&compare["create_revision"]);
    let created = etcd.keys.get(&key).map_or(0, |(_, created, _)| *created);
    if created == wanted {
        let put = &body["success"][0]["request_put"];
        let lease = int(&put["lease"]);
        if lease != 0 && !etcd.leases.contains_key(&lease) {
            return Json(json!({ "error": "etcdserver: requested lease not found", "code": 5 }));
        }
        etcd.revision += 1;
        let revision = etcd.revision;
        etcd.keys.insert(key, (put["value"].as_str().unwrap_or("").to_string(), revision, lease));
        Json(json!({ "header": etcd.header(), "succeeded": true,
                     "responses": [{ "response_put": { "header": etcd.header() } }] }))
    } else {
        let mut range = json!({ "header": etcd.header() });
        if let Some(kvs) = etcd.kvs(&key) {
            range["kvs"] = kvs;
        }
        Json(json!({ "header": etcd.header(), "responses": [{ "response_range": range }] }))
    }
}

async fn keep_alive(State(etcd): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut etcd = etcd.lock().unwrap();
    etcd.expire();
    let id = int(&body["ID"]);
    let header = etcd.header();
    match etcd.leases.get_mut(&id) {
        Some((ttl, end)) => {
            *end = Instant::now() + Duration::from_secs(*ttl as u64);
            Json(json!({ "result": { "header": header, "ID": id.to_string(), "TTL": ttl.to_string() } }))
        }
        // etcd leaves the TTL out (it is 0) for a lease it no longer has.
        None => Json(json!({ "result": { "header": header, "ID": id.to_string() } })),
    }
}

async fn revoke(State(etcd): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut etcd = etcd.lock().unwrap();
    etcd.revoke(int(&body["ID"]));
    Json(json!({ "header": etcd.header() }))
}

/// The stand-in, on a loopback port, until the returned value is dropped.
pub async fn stand_in() -> TestEtcd {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/v3/kv/range", post(range))
        .route("/v3/lease/grant", post(grant))
        .route("/v3/kv/txn", post(txn))
        .route("/v3/lease/keepalive", post(keep_alive))
        .route("/v3/lease/revoke", post(revoke))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let stop = CancellationToken::new();
    let cancelled = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { cancelled.cancelled().await })
            .await;
    });
    TestEtcd { name: "stand-in", endpoint, _stop: Some(StopOnDrop(stop)) }
}
