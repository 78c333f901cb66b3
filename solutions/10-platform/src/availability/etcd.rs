//! The lease in etcd, through its JSON gateway (etcd's v3 API over HTTP, on the client port).
//!
//! A leadership is one key, put with an etcd lease in a transaction that succeeds only if the
//! key does not exist (its create revision is 0). The key's create revision, which etcd never
//! hands out twice and only makes greater, is the fencing token. The leader renews the lease every
//! third of its time to live; when a renewal says the lease is gone, or the renewals fail for so
//! long that the lease may have run out before the next could land, the leadership is lost and
//! the leader must stop. When the leader dies its lease expires after its time to live, etcd
//! deletes the key, and the next standby to ask wins. A leader that stops revokes its lease, which
//! deletes the key at once.
//!
//! Keys and values are base64 in the gateway's JSON, and 64-bit integers are strings.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::gateway::post;
use super::lease::{Attempt, Hold, Leadership, LeaseError};

/// A lease kept alive by a task of its own. Dropped, it stops renewing the lease, which then
/// runs out by itself; revoked, it ends at once.
pub(crate) struct Kept {
    endpoint: String,
    id: i64,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Kept {
    /// Stops renewing the lease and revokes it (which deletes the key).
    pub(crate) async fn revoke(mut self) {
        self.stop.cancel();
        let _ = (&mut self.task).await;
        if let Err(err) =
            post(&self.endpoint, "/v3/lease/revoke", &json!({ "ID": self.id.to_string() })).await
        {
            tracing::warn!(cause = %err, "cannot revoke the leadership's lease: it expires by itself");
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Asks etcd at `endpoint` once for `key`, for `node`, with a lease of `ttl`.
///
/// # Errors
///
/// [`LeaseError::Etcd`] when etcd cannot be reached or answers what was not expected.
pub async fn try_lead(endpoint: &str, key: &str, ttl: Duration, node: &str) -> Result<Attempt, LeaseError> {
    let key64 = BASE64.encode(key);
    // A standby asks this every time: one read, and nothing granted while the key is there.
    let range = post(endpoint, "/v3/kv/range", &json!({ "key": key64 })).await?;
    if let Some(holder) = first_value(&range["kvs"]) {
        return Ok(Attempt::Held(holder));
    }
    let granted = Instant::now();
    let grant = post(endpoint, "/v3/lease/grant", &json!({ "TTL": ttl.as_secs().to_string() })).await?;
    let id = integer(endpoint, &grant["ID"], "the lease's ID")?;
    let txn = json!({
        "compare": [{ "key": key64, "target": "CREATE", "result": "EQUAL", "create_revision": "0" }],
        "success": [{ "request_put": { "key": key64, "value": BASE64.encode(node), "lease": id.to_string() } }],
        "failure": [{ "request_range": { "key": key64 } }],
    });
    let answer = post(endpoint, "/v3/kv/txn", &txn).await?;
    if answer["succeeded"] != json!(true) {
        // Another standby won between the read and the transaction.
        let _ = post(endpoint, "/v3/lease/revoke", &json!({ "ID": id.to_string() })).await;
        let holder = first_value(&answer["responses"][0]["response_range"]["kvs"]).unwrap_or_default();
        return Ok(Attempt::Held(holder));
    }
    // The put's revision is the key's create revision: the token.
    let token = integer(endpoint, &answer["header"]["revision"], "the transaction's revision")?;
    let (lost, stop) = (CancellationToken::new(), CancellationToken::new());
    let task = tokio::spawn(keep_alive(endpoint.to_string(), id, ttl, granted, lost.clone(), stop.clone()));
    let kept = Kept { endpoint: endpoint.to_string(), id, stop, task };
    Ok(Attempt::Led(Leadership::new(token, node, lost, Hold::Etcd(kept))))
}

/// Renews lease `id` (asked for at `granted`) every third of `ttl` until `stop`; cancels `lost`
/// when etcd says it is gone, or when it could end before the next look.
async fn keep_alive(
    endpoint: String,
    id: i64,
    ttl: Duration,
    granted: Instant,
    lost: CancellationToken,
    stop: CancellationToken,
) {
    let every = ttl / 3;
    let mut valid_until = granted + ttl;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let sent = Instant::now();
        // An answer later than a third of the lease is as good as none: the look after it must
        // still come in time.
        let body = json!({ "ID": id.to_string() });
        let renewal = post(&endpoint, "/v3/lease/keepalive", &body);
        match tokio::time::timeout(every, renewal).await.unwrap_or_else(|_| {
            Err(LeaseError::Etcd {
                endpoint: endpoint.clone(),
                reason: format!("no renewal within {every:?}"),
            })
        }) {
            Ok(answer) => match integer(&endpoint, &answer["result"]["TTL"], "TTL") {
                Ok(left) if left > 0 => valid_until = sent + ttl,
                _ => {
                    tracing::error!(lease = id, "etcd says the leadership's lease is gone");
                    lost.cancel();
                    return;
                }
            },
            Err(err) => tracing::warn!(cause = %err, "cannot renew the leadership's lease"),
        }
        // The next look is at most two thirds of the lease away (a pause, then a renewal's wait).
        // Counted from when the last good renewal was sent, the lease's end as etcd sees it can
        // only be later: stepping down now, if it could end before that look, is safe.
        if Instant::now() + 2 * every >= valid_until {
            tracing::error!(lease = id, "the leadership's lease could not be renewed in time");
            lost.cancel();
            return;
        }
    }
}

/// The first key-value's value in `kvs`, decoded.
fn first_value(kvs: &Value) -> Option<String> {
    let value = kvs.get(0)?.get("value").and_then(Value::as_str).unwrap_or("");
    Some(String::from_utf8_lossy(&BASE64.decode(value).unwrap_or_default()).into_owned())
}

/// A 64-bit integer of the gateway's JSON (a string, or a number).
fn integer(endpoint: &str, value: &Value, what: &str) -> Result<i64, LeaseError> {
    value.as_str().and_then(|text| text.parse().ok()).or_else(|| value.as_i64()).ok_or_else(|| {
        LeaseError::Etcd { endpoint: endpoint.into(), reason: format!("no {what} in {value}") }
    })
}
