//! One client connection ([`Link`]): a reader task that routes answers to waiting calls by request
//! id and times out the calls whose deadline passes, and the writer task. Many calls share it at
//! once; answers come back in any order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::client::ClientConfig;
use crate::deadlines::Deadlines;
use crate::error::Error;
use crate::frame::Frame;
use crate::push::Subscription;
use crate::writer::Outbound;

/// Who waits for frames with a given id.
#[derive(Debug)]
enum Waiter {
    /// A call, told its answer or that its deadline passed first.
    Unary(oneshot::Sender<Reply>),
    Stream(mpsc::UnboundedSender<Frame>),
}

/// What a waiting call is told.
#[derive(Debug)]
enum Reply {
    Answer(Frame),
    TimedOut,
}

/// The calls and streams waiting for frames, and the calls' deadlines.
#[derive(Debug, Default)]
struct Pending {
    waiters: HashMap<u64, Waiter>,
    deadlines: Deadlines,
}

#[derive(Debug)]
struct Shared {
    addr: SocketAddr,
    pending: Mutex<Pending>,
    /// Why the connection ended, once it has; set under the `pending` lock.
    closed: OnceLock<String>,
    /// Told when a call's deadline comes before every other: the reader moves its alarm.
    rearm: Notify,
    next_id: AtomicU64,
}

/// A live connection; clones share it. It closes when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    shared: Arc<Shared>,
    out: mpsc::Sender<Outbound>,
}

impl Link {
    /// Connects to `addr` once, within the configured connect timeout.
    pub(crate) async fn connect(addr: SocketAddr, config: &ClientConfig) -> Result<Link, Error> {
        todo!("stage 3: connect within the connect timeout, set TCP_NODELAY, start the writer and the reader")
    }

    /// Whether the connection has ended.
    pub(crate) fn is_closed(&self) -> bool {
        todo!("stage 3: has the reader recorded the end, or has the writer gone?")
    }

    /// The error for a call whose connection went away.
    pub(crate) fn lost(&self) -> Error {
        todo!("stage 3: the ConnectionLost error, with why the connection ended")
    }

    /// Grants the stream `id` `more` messages of credit; `false` when the connection is gone.
    pub(crate) async fn grant(&self, id: u64, more: u32) -> bool {
        todo!("stage 4: send a credit frame for the stream, its payload `more` in postcard")
    }

    /// Stops waiting for frames with `id` and sends a cancel frame for it, without waiting (from
    /// a drop); on a closed connection there is nothing to cancel.
    pub(crate) fn cancel(&self, id: u64) {
        todo!(
            "stage 3: drop the waiter, then try_send a cancel frame (spawn the send if the channel is full)"
        )
    }

    /// Waits for frames with a new id; fails if the connection has ended. The check is made under
    /// the lock the reader takes to record the end and drop every waiter, so a waiter is either
    /// dropped by the reader or refused here, never left waiting on a dead connection. A call's
    /// deadline joins the connection's queue; the reader is told when it is the earliest.
    fn register(&self, id: u64, waiter: Waiter, deadline: Option<Instant>) -> Result<(), Error> {
        todo!("stage 3: under the `pending` lock, refuse if closed, else file the waiter and its deadline")
    }

    /// A request id not used before on this connection.
    fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Calls `method` with `payload` and waits for its answer, as [`Link::call_with`].
    pub(crate) async fn call(
        &self,
        method: &str,
        payload: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        self.call_with(method, timeout, |out| {
            out.extend_from_slice(payload);
            Ok(())
        })
        .await
    }

    /// Calls `method` with the payload `payload` writes into the request frame, and waits for its
    /// answer, at most `timeout` (sent to the server as the deadline). Dropping the returned
    /// future cancels the call on the server.
    pub(crate) async fn call_with(
        &self,
        method: &str,
        timeout: Option<Duration>,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<Vec<u8>, Error> {
        todo!(
            "stage 3: register a waiter under a new id, send the request, wait for its reply; cancel on drop"
        )
    }

    /// Opens a stream from `method`, granting the server `window` messages of credit.
    pub(crate) async fn subscribe(
        &self,
        method: &str,
        payload: Vec<u8>,
        window: u32,
    ) -> Result<Subscription, Error> {
        todo!("stage 4: register a stream waiter, send the subscribe frame, then grant the window")
    }
}

// TODO(stage 3): a guard in call_with's future that cancels the call if the future is dropped
// before its answer (or its deadline) came.

// TODO(stage 3): the reader task, started by connect: decode the frames read and hand each to the
// waiter of its id (a response or an error to its call, items and the end to its stream); on the
// alarm, tell the calls whose deadlines passed that they timed out (Reply::TimedOut); on `rearm`,
// move the alarm. When the connection ends, record why in `closed` under the `pending` lock and
// drop every waiter, which fails their calls.
