//! One client connection ([`Link`]): a reader task that routes answers to waiting calls by request
//! id, and the writer task. Many calls share it at once; answers come back in any order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{mpsc, oneshot};

use crate::client::ClientConfig;
use crate::decode::FrameDecoder;
use crate::error::Error;
use crate::frame::{Frame, Kind, encode_parts};
use crate::push::Subscription;
use crate::status::{RemoteError, to_payload};
use crate::writer::write_frames;

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
    /// Whether the connection has ended; set under the `pending` lock.
    ended: AtomicBool,
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
            pending: Mutex::new(HashMap::new()),
            ended: AtomicBool::new(false),
            closed: Mutex::new(None),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(read_frames(read, Arc::clone(&shared), config.max_frame));
        Ok(Link { shared, out })
    }

    /// Whether the connection has ended.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.ended.load(Ordering::Acquire) || self.out.is_closed()
    }

    /// The error for a call whose connection went away.
    pub(crate) fn lost(&self) -> Error {
        let reason = self.shared.closed.lock().expect("not poisoned").clone();
        Error::ConnectionLost { addr: self.shared.addr, reason: reason.unwrap_or_else(|| "closed".into()) }
    }

    /// Queues `frame` for the writer; a closed connection drops it (the caller's wait reports it).
    pub(crate) async fn send(&self, frame: Frame) {
        if let Ok(bytes) = frame.to_bytes() {
            let _ = self.out.send(bytes).await;
        }
    }

    /// Stops waiting for frames with `id`.
    pub(crate) fn forget(&self, id: u64) {
        self.shared.pending.lock().expect("not poisoned").remove(&id);
    }

    /// Sends a cancel frame for `id` without waiting (from a drop).
    pub(crate) fn cancel(&self, id: u64) {
        let Ok(bytes) = Frame::new(Kind::Cancel, id, Vec::new()).to_bytes() else { return };
        if let Err(mpsc::error::TrySendError::Full(bytes)) = self.out.try_send(bytes) {
            let out = self.out.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { out.send(bytes).await });
            }
        }
    }

    /// Waits for frames with a new id; fails if the connection has ended. The check is made under
    /// the lock the reader takes to record the end and drop every waiter, so a waiter is either
    /// dropped by the reader or refused here, never left waiting on a dead connection.
    fn register(&self, waiter: Waiter) -> Result<u64, Error> {
        let mut pending = self.shared.pending.lock().expect("not poisoned");
        if self.shared.ended.load(Ordering::Acquire) {
            drop(pending);
            return Err(self.lost());
        }
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        pending.insert(id, waiter);
        Ok(id)
    }

    // ANCHOR: call
    /// Calls `method` and waits for its answer, at most `timeout` (sent to the server as the
    /// deadline). Dropping the returned future cancels the call on the server.
    pub(crate) async fn call(
        &self,
        method: &str,
        payload: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        let (answer, answered) = oneshot::channel();
        let id = self.register(Waiter::Unary(answer))?;
        let mut guard = CancelOnDrop { link: self, id, armed: true };
        let mut bytes = Vec::new();
        encode_parts(Kind::Request, id, method, timeout, &payload, &mut bytes)?;
        if self.out.send(bytes).await.is_err() {
            guard.armed = false;
            self.forget(id);
            return Err(self.lost());
        }
        let frame = match timeout {
            Some(after) => match tokio::time::timeout(after, answered).await {
                Ok(frame) => frame,
                Err(_) => return Err(Error::Timeout { method: method.to_owned(), after }),
            },
            None => answered.await,
        };
        guard.armed = false;
        let Ok(frame) = frame else { return Err(self.lost()) };
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
        let id = self.register(Waiter::Stream(items))?;
        let subscription = Subscription::new(self.clone(), id, method, received, window);
        let open = Frame { kind: Kind::Subscribe, id, method: method.to_owned(), deadline: None, payload };
        let open = open.to_bytes()?;
        let credit = Frame::new(Kind::Credit, id, to_payload(&window).unwrap_or_default()).to_bytes()?;
        if self.out.send(open).await.is_err() || self.out.send(credit).await.is_err() {
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
            self.link.forget(self.id);
            self.link.cancel(self.id);
        }
    }
}

// ANCHOR: read_frames
/// Routes every frame read to the call or stream waiting for its id; when the connection ends,
/// records why and drops every waiter, which fails their calls.
async fn read_frames(mut read: OwnedReadHalf, shared: Arc<Shared>, max_frame: usize) {
    let mut decoder = FrameDecoder::new(max_frame);
    let mut buf = vec![0; 64 * 1024];
    let mut frames = Vec::new();
    let mut answers = Vec::new();
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
        match read.read(&mut buf).await {
            Ok(0) => break "the server closed the connection".to_owned(),
            Ok(n) => decoder.extend(&buf[..n]),
            Err(err) => break err.to_string(),
        }
    };
    // The end is recorded under the waiters' lock: `register` refuses from now on.
    let waiters = {
        let mut pending = shared.pending.lock().expect("not poisoned");
        *shared.closed.lock().expect("not poisoned") = Some(reason);
        shared.ended.store(true, Ordering::Release);
        std::mem::take(&mut *pending)
    };
    drop(waiters);
}
// ANCHOR_END: read_frames

/// Routes the `frames` of one read, taking the waiters' lock once for all of them. Answers are
/// handed over after it is released (`answers` is scratch space), so a woken caller never finds
/// the lock held.
fn route(shared: &Shared, frames: &mut Vec<Frame>, answers: &mut Vec<(oneshot::Sender<Frame>, Frame)>) {
    if frames.is_empty() {
        return;
    }
    {
        let mut pending = shared.pending.lock().expect("not poisoned");
        for frame in frames.drain(..) {
            match frame.kind {
                Kind::Response | Kind::Error => match pending.remove(&frame.id) {
                    Some(Waiter::Unary(answer)) => answers.push((answer, frame)),
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
    for (answer, frame) in answers.drain(..) {
        let _ = answer.send(frame);
    }
}
