//! One client connection ([`Link`]): a reader task that routes answers to waiting calls by request
//! id, and the writer task. Many calls share it at once; answers come back in any order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::client::ClientConfig;
use crate::error::Error;
use crate::frame::Frame;
use crate::push::Subscription;

/// Who waits for frames with a given id.
#[derive(Debug)]
enum Waiter {
    Unary(oneshot::Sender<Frame>),
    Stream(mpsc::UnboundedSender<Frame>),
}

#[derive(Debug)]
struct Shared {
    addr: SocketAddr,
    pending: Mutex<HashMap<u64, Waiter>>,
    /// Why the connection ended, once it has.
    closed: Mutex<Option<String>>,
    next_id: AtomicU64,
}

/// A live connection; clones share it. It closes when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    shared: Arc<Shared>,
    out: mpsc::Sender<Vec<u8>>,
}

impl Link {
    /// Connects to `addr` once, within the configured connect timeout.
    pub(crate) async fn connect(addr: SocketAddr, config: &ClientConfig) -> Result<Link, Error> {
        todo!(
            "stage 3: connect to {addr} within {:?}, start the reader and writer tasks",
            config.connect_timeout
        )
    }

    /// Whether the connection has ended.
    pub(crate) fn is_closed(&self) -> bool {
        todo!("stage 3: has the connection ended?")
    }

    /// The error for a call whose connection went away.
    pub(crate) fn lost(&self) -> Error {
        todo!("stage 3: the ConnectionLost error, with why the connection ended")
    }

    /// Queues `frame` for the writer; a closed connection drops it (the caller's wait reports it).
    pub(crate) async fn send(&self, frame: Frame) {
        todo!("stage 3: queue {frame:?} for the writer")
    }

    /// Stops waiting for frames with `id`.
    pub(crate) fn forget(&self, id: u64) {
        todo!("stage 3: stop waiting for frames with id {id}")
    }

    /// Sends a cancel frame for `id` without waiting (from a drop).
    pub(crate) fn cancel(&self, id: u64) {
        todo!("stage 3: send a cancel frame for {id} without waiting")
    }

    /// Calls `method` and waits for its answer, at most `timeout` (sent to the server as the
    /// deadline). Dropping the returned future cancels the call on the server.
    pub(crate) async fn call(
        &self,
        method: &str,
        payload: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        todo!(
            "stage 3: send a request for {method} ({} bytes, timeout {timeout:?}) and wait for its answer; cancel on drop",
            payload.len()
        )
    }

    /// Opens a stream from `method`, granting the server `window` messages of credit.
    pub(crate) async fn subscribe(
        &self,
        method: &str,
        payload: Vec<u8>,
        window: u32,
    ) -> Result<Subscription, Error> {
        todo!("stage 4: open a stream from {method} ({} bytes) and grant it {window} credits", payload.len())
    }
}
