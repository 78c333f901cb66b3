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

use super::gateway::{REQUEST_TIMEOUT, post};
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
    pub(crate) async fn revoke(self) {
        todo!("stage 5: stop the keeper, wait for it, then POST /v3/lease/revoke with the lease's ID")
    }
}

/// Asks etcd at `endpoint` once for `key`, for `node`, with a lease of `ttl`.
///
/// # Errors
///
/// [`LeaseError::Etcd`] when etcd cannot be reached or answers what was not expected.
pub async fn try_lead(endpoint: &str, key: &str, ttl: Duration, node: &str) -> Result<Attempt, LeaseError> {
    todo!(
        "stage 5: POST /v3/kv/range for the key (base64): a value there is Held by it. Else grant a lease of ttl (/v3/lease/grant), then a /v3/kv/txn whose compare is the key's CREATE revision EQUAL to 0 and whose success puts the key with the lease: succeeded is Led with the answer's header.revision as the token and a task renewing the lease (/v3/lease/keepalive every ttl/3, each waited for at most ttl/3) that cancels lost when the answer has no TTL, or when the lease, counted from the sending of the last good renewal, could end before the next look; failed is Held (revoke the lease you granted). 64-bit integers are strings in etcd's JSON"
    )
}
