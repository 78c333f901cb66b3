//! A pool of clients over several server addresses: calls go round-robin, and a call that cannot
//! reach one server goes to the next (failover). The original course's `sendData_mh` tried each
//! host in turn on every error; this one fails over only when the request never reached a server,
//! so a call is never run twice, and it remembers a dead address for a while instead of paying its
//! connect timeout on every call.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Client, ClientConfig};
use crate::error::Error;
use crate::status::{decode_answer, encode_request};

/// One address of the pool.
#[derive(Debug)]
struct Member {
    client: Client,
    /// Not tried again before this instant after a failed connect, unless every member is down.
    down_until: Mutex<Option<Instant>>,
}

/// Clients of several equivalent servers.
#[derive(Debug)]
pub struct Pool {
    members: Vec<Member>,
    next: AtomicUsize,
}

impl Pool {
    /// A pool over `addrs`; connections are made on first use.
    ///
    /// # Errors
    ///
    /// [`Error::NoAddresses`] when `addrs` is empty.
    pub fn new(addrs: &[SocketAddr], config: ClientConfig) -> Result<Pool, Error> {
        if addrs.is_empty() {
            return Err(Error::NoAddresses);
        }
        let members = addrs
            .iter()
            .map(|&addr| Member { client: Client::new(addr, config.clone()), down_until: Mutex::new(None) })
            .collect();
        Ok(Pool { members, next: AtomicUsize::new(0) })
    }

    // ANCHOR: pool_call
    /// Calls `method` with raw bytes on the next server, failing over to the others when it
    /// cannot be reached.
    ///
    /// # Errors
    ///
    /// The server's answer if one answered (even an error); [`Error::AllFailed`] when none could
    /// be reached or a connection broke mid-call.
    pub async fn call_raw(&self, method: &str, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.members.len();
        let now = Instant::now();
        // Members marked down go last: they are tried only if every other one failed.
        let mut order: Vec<usize> = (0..count).map(|i| (start + i) % count).collect();
        order.sort_by_key(|&i| {
            self.members[i].down_until.lock().unwrap_or_else(PoisonError::into_inner).is_some_and(|t| t > now)
        });
        let mut last = None;
        for (tried, &i) in order.iter().enumerate() {
            let member = &self.members[i];
            match member.client.call_slice(method, &payload, member.client.config().call_timeout).await {
                Err(err @ Error::Connect { .. }) => {
                    let backoff = member.client.config().backoff_max;
                    *member.down_until.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(Instant::now() + backoff);
                    last = Some((tried + 1, err));
                }
                // The request may have run: trying it elsewhere could run it twice.
                Err(err @ Error::ConnectionLost { .. }) => {
                    return Err(Error::AllFailed { tried: tried + 1, last: Box::new(err) });
                }
                answer => {
                    *member.down_until.lock().unwrap_or_else(PoisonError::into_inner) = None;
                    return answer;
                }
            }
        }
        let (tried, last) = last.expect("a pool has at least one member");
        Err(Error::AllFailed { tried, last: Box::new(last) })
    }
    // ANCHOR_END: pool_call

    /// Calls `method` with `request` in postcard and decodes the answer, with failover.
    ///
    /// # Errors
    ///
    /// As [`Pool::call_raw`], and [`Error::Payload`].
    pub async fn call<Req, Resp>(&self, method: &str, request: &Req) -> Result<Resp, Error>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let payload = encode_request(method, request)?;
        let answer = self.call_raw(method, payload).await?;
        decode_answer(method, &answer)
    }
}
