//! One client connection ([`Link`]): a reader task that routes answers to waiting calls by request
//! id and times out the calls whose deadline passes, and the writer task. Many calls share it at
//! once; answers come back in any order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::client::ClientConfig;
use crate::deadlines::{Alarm, Deadlines};
use crate::decode::FrameDecoder;
use crate::error::Error;
use crate::frame::{Frame, HEADER_LEN, Kind, LENGTH_LEN, encode_with};
use crate::push::Subscription;
use crate::status::{RemoteError, SMALL_PAYLOAD, to_payload};
use crate::writer::{Outbound, write_frames};

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
        let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
        let stream = tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| Error::Connect { addr, source: timed_out() })?
            .map_err(|source| Error::Connect { addr, source })?;
        // Small frames must not wait for Nagle's timer: the writer batches them itself.
        stream.set_nodelay(true).map_err(|source| Error::Connect { addr, source })?;
        let (read, write) = stream.into_split();
        let (out, frames) = mpsc::channel(config.queue);
        tokio::spawn(write_frames(write, frames));
        let shared = Arc::new(Shared {
            addr,
            pending: Mutex::default(),
            closed: OnceLock::new(),
            rearm: Notify::new(),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(read_frames(read, Arc::clone(&shared), config.max_frame));
        Ok(Link { shared, out })
    }

    /// Whether the connection has ended.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.closed.get().is_some() || self.out.is_closed()
    }

    /// The error for a call whose connection went away.
    pub(crate) fn lost(&self) -> Error {
        let reason = self.shared.closed.get().cloned().unwrap_or_else(|| "closed".into());
        Error::ConnectionLost { addr: self.shared.addr, reason }
    }

    /// Grants the stream `id` `more` messages of credit; `false` when the connection is gone.
    pub(crate) async fn grant(&self, id: u64, more: u32) -> bool {
        let credit = Frame::new(Kind::Credit, id, to_payload(&more).unwrap_or_default());
        self.out.send(credit.into()).await.is_ok()
    }

    /// Stops waiting for frames with `id` and sends a cancel frame for it, without waiting (from
    /// a drop); on a closed connection there is nothing to cancel.
    pub(crate) fn cancel(&self, id: u64) {
        self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner).waiters.remove(&id);
        let cancel = Frame::new(Kind::Cancel, id, Vec::new()).into();
        if let Err(mpsc::error::TrySendError::Full(cancel)) = self.out.try_send(cancel) {
            let out = self.out.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { out.send(cancel).await });
            }
        }
    }

    /// Waits for frames with a new id; fails if the connection has ended. The check is made under
    /// the lock the reader takes to record the end and drop every waiter, so a waiter is either
    /// dropped by the reader or refused here, never left waiting on a dead connection. A call's
    /// deadline joins the connection's queue; the reader is told when it is the earliest.
    fn register(&self, id: u64, waiter: Waiter, deadline: Option<Instant>) -> Result<(), Error> {
        let mut pending = self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if self.shared.closed.get().is_some() {
            drop(pending);
            return Err(self.lost());
        }
        let Pending { waiters, deadlines } = &mut *pending;
        // Ids are never reused on a connection: a deadline whose id no longer waits is a leftover.
        let earliest = deadline
            .is_some_and(|at| deadlines.push(at, id, waiters.len(), |id, _| waiters.contains_key(&id)));
        waiters.insert(id, waiter);
        drop(pending);
        if earliest {
            self.shared.rearm.notify_one();
        }
        Ok(())
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

    // ANCHOR: call
    /// Calls `method` with the payload `payload` writes into the request frame, and waits for its
    /// answer, at most `timeout` (sent to the server as the deadline). Dropping the returned
    /// future cancels the call on the server.
    pub(crate) async fn call_with(
        &self,
        method: &str,
        timeout: Option<Duration>,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<Vec<u8>, Error> {
        let id = self.next_id();
        let mut bytes = Vec::with_capacity(LENGTH_LEN + HEADER_LEN + method.len() + SMALL_PAYLOAD);
        encode_with(Kind::Request, id, method, timeout, &mut bytes, payload)?;
        let (reply, answered) = oneshot::channel();
        // A timeout too large to add to the clock is none.
        let deadline = timeout.and_then(|after| Instant::now().checked_add(after));
        self.register(id, Waiter::Unary(reply), deadline)?;
        // Until the answer comes, dropping this future (or a timeout) cancels the call. On a
        // closed connection the guard's cancel frame goes nowhere.
        let mut guard = CancelOnDrop { link: self, id, armed: true };
        if self.out.send(bytes.into()).await.is_err() {
            return Err(self.lost());
        }
        let reply = answered.await;
        guard.armed = matches!(reply, Ok(Reply::TimedOut));
        let frame = match reply {
            Ok(Reply::Answer(frame)) => frame,
            Ok(Reply::TimedOut) => {
                return Err(Error::Timeout { method: method.to_owned(), after: timeout.unwrap_or_default() });
            }
            Err(_) => return Err(self.lost()),
        };
        match frame.kind {
            Kind::Response => Ok(frame.payload),
            _ => {
                let source = RemoteError::from_error_payload(&frame.payload);
                Err(Error::Remote { method: method.to_owned(), source })
            }
        }
    }
    // ANCHOR_END: call

    /// Opens a stream from `method`, granting the server `window` messages of credit.
    pub(crate) async fn subscribe(
        &self,
        method: &str,
        payload: Vec<u8>,
        window: u32,
    ) -> Result<Subscription, Error> {
        let window = window.max(1);
        let (items, received) = mpsc::unbounded_channel();
        let id = self.next_id();
        self.register(id, Waiter::Stream(items), None)?;
        let subscription = Subscription::new(self.clone(), id, method, received, window);
        let open = Frame { kind: Kind::Subscribe, id, method: method.to_owned(), deadline: None, payload };
        // Encoded here, not by the writer: a method name too long must fail this call.
        let open = open.to_bytes()?.into();
        if self.out.send(open).await.is_err() || !self.grant(id, window).await {
            return Err(self.lost());
        }
        Ok(subscription)
    }
}

/// Cancels a call on the server when its future is dropped before the answer.
struct CancelOnDrop<'a> {
    link: &'a Link,
    id: u64,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.link.cancel(self.id);
        }
    }
}

// ANCHOR: read_frames
/// Routes every frame read to the call or stream waiting for its id, and times out calls when
/// their deadlines pass; when the connection ends, records why and drops every waiter, which fails
/// their calls.
async fn read_frames(mut read: OwnedReadHalf, shared: Arc<Shared>, max_frame: usize) {
    let mut decoder = FrameDecoder::new(max_frame);
    let mut buf = vec![0; 64 * 1024];
    let mut frames = Vec::new();
    let mut answers = Vec::new();
    let mut alarm = Alarm::new();
    let mut rearm = Box::pin(shared.rearm.notified());
    let reason = 'read: loop {
        let failed = loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break None,
                Err(err) if err.is_fatal() => break Some(format!("bad frame from the server: {err}")),
                Err(_) => {}
            }
        };
        route(&shared, &mut frames, &mut answers);
        if let Some(reason) = failed {
            break 'read reason;
        }
        tokio::select! {
            n = read.read(&mut buf) => match n {
                Ok(0) => break "the server closed the connection".to_owned(),
                Ok(n) => decoder.extend(&buf[..n]),
                Err(err) => break err.to_string(),
            },
            () = alarm.rung() => time_out(&shared, &mut alarm),
            () = &mut rearm => {
                rearm.set(shared.rearm.notified());
                alarm.set(shared.pending.lock().unwrap_or_else(PoisonError::into_inner).deadlines.next());
            }
        }
    };
    // The end is recorded under the waiters' lock: `register` refuses from now on.
    let waiters = {
        let mut pending = shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = shared.closed.set(reason);
        std::mem::take(&mut pending.waiters)
    };
    drop(waiters);
}
// ANCHOR_END: read_frames

/// Tells every call whose deadline has passed that it timed out, and sets the alarm to the next.
fn time_out(shared: &Shared, alarm: &mut Alarm) {
    let mut passed = Vec::new();
    {
        let mut pending = shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let Pending { waiters, deadlines } = &mut *pending;
        // A deadline whose id no longer waits was answered: ids are never reused.
        alarm.set(deadlines.pop_due(Instant::now(), |id, _| passed.extend(waiters.remove(&id))));
    }
    for waiter in passed {
        if let Waiter::Unary(reply) = waiter {
            let _ = reply.send(Reply::TimedOut);
        }
    }
}

/// Routes the `frames` of one read, taking the waiters' lock once for all of them. Answers are
/// handed over after it is released (`answers` is scratch space), so a woken caller never finds
/// the lock held.
fn route(shared: &Shared, frames: &mut Vec<Frame>, answers: &mut Vec<(oneshot::Sender<Reply>, Frame)>) {
    if frames.is_empty() {
        return;
    }
    {
        let mut pending = shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = &mut pending.waiters;
        for frame in frames.drain(..) {
            match frame.kind {
                Kind::Response | Kind::Error => match pending.remove(&frame.id) {
                    Some(Waiter::Unary(reply)) => answers.push((reply, frame)),
                    Some(Waiter::Stream(items)) => {
                        let _ = items.send(frame);
                    }
                    None => {}
                },
                Kind::Item | Kind::End => {
                    let id = frame.id;
                    let ended = frame.kind == Kind::End;
                    if let Some(Waiter::Stream(items)) = pending.get(&id) {
                        let _ = items.send(frame);
                        if ended {
                            pending.remove(&id);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (reply, frame) in answers.drain(..) {
        let _ = reply.send(Reply::Answer(frame));
    }
}
