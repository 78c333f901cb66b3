//! One server connection: reads frames, runs each request in its own task (answers go out in
//! whatever order they finish), bounds the requests in flight by not reading past the bound,
//! cancels a call on its deadline or on the client's cancel frame, and feeds streams credit.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::bound::{Bound, Slot};
use crate::deadlines::{Alarm, Deadlines};
use crate::decode::{FrameDecoder, FrameError};
use crate::frame::{Frame, Kind};
use crate::push::Publisher;
use crate::server::ServerConfig;
use crate::service::{Call, Handler, Service};
use crate::status::{ErrorCode, RemoteError, from_payload};
use crate::writer::{Outbound, write_frames};

/// The most credit a stream may hold: more would overflow the semaphore and buys nothing.
const MAX_CREDIT: usize = 1 << 20;

/// Finished tasks the table may hold before it is swept, at least.
const SWEEP_MIN: usize = 64;

/// A call or stream started on this connection (it may have finished since).
struct Running {
    task: JoinHandle<()>,
    /// The stream's credit; `None` for a call.
    credit: Option<Arc<Semaphore>>,
    /// When the call must be answered by, and the budget the client gave.
    deadline: Option<(Instant, Duration)>,
}

impl Running {
    /// Whether this is the call whose deadline is `at` (a client may reuse an id).
    fn is_due_at(&self, at: Instant) -> bool {
        self.deadline.is_some_and(|(due, _)| due == at)
    }
}

// ANCHOR: serve_connection
/// Serves one connection until the client closes it or `stop` is cancelled.
pub(crate) async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: Arc<Service>,
    config: Arc<ServerConfig>,
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let (mut read, write) = stream.into_split();
    let (out, frames) = mpsc::channel(config.queue);
    let writer = tokio::spawn(write_frames(write, frames));
    let mut conn = Conn {
        peer,
        service,
        config: Arc::clone(&config),
        out,
        in_flight: Bound::new(config.max_in_flight),
        table: HashMap::new(),
        sweep_at: SWEEP_MIN,
        deadlines: Deadlines::default(),
        alarm: Alarm::new(),
    };
    let mut decoder = FrameDecoder::new(config.max_frame);
    let mut buf = vec![0; 64 * 1024];
    let client_left = 'read: loop {
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    if !conn.handle(frame, &stop).await {
                        break 'read false;
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    conn.refuse(&err).await;
                    if err.is_fatal() {
                        break 'read false;
                    }
                }
            }
        }
        tokio::select! {
            n = read.read(&mut buf) => match n {
                Ok(0) | Err(_) => break true,
                Ok(n) => decoder.extend(&buf[..n]),
            },
            () = stop.cancelled() => break false,
            () = conn.alarm.rung() => conn.expire().await,
        }
    };
    conn.finish(client_left).await;
    let _ = writer.await;
}
// ANCHOR_END: serve_connection

struct Conn {
    peer: SocketAddr,
    service: Arc<Service>,
    config: Arc<ServerConfig>,
    out: mpsc::Sender<Outbound>,
    in_flight: Arc<Bound>,
    /// The tasks started, by id. Only this connection's reader touches it, so it needs no lock: a
    /// finished task does not remove its own entry, the reader sweeps finished entries out once
    /// the table has grown to twice what was left after the last sweep.
    table: HashMap<u64, Running>,
    sweep_at: usize,
    /// The calls' deadlines, on one timer for the connection rather than one per call.
    deadlines: Deadlines,
    alarm: Alarm,
}

impl Conn {
    /// Acts on one frame; `false` when the server is stopping and reading must end.
    async fn handle(&mut self, frame: Frame, stop: &CancellationToken) -> bool {
        match frame.kind {
            Kind::Request | Kind::Subscribe => {
                let Some(handler) = self.service.get(&frame.method).cloned() else {
                    let message = format!("no method {:?}", frame.method);
                    self.error(frame.id, RemoteError::new(ErrorCode::UnknownMethod, message)).await;
                    return true;
                };
                match (frame.kind, handler) {
                    (Kind::Request, Handler::Unary(handler)) => {
                        // The in-flight bound: no free slot, no more reading from this socket.
                        let Some(slot) = self.slot(stop).await else { return false };
                        self.spawn(frame, None, move |call| async move {
                            let answer = handler(call).await;
                            drop(slot);
                            answer.map(Some)
                        });
                    }
                    (Kind::Subscribe, Handler::Stream(handler)) => {
                        let streams = self
                            .table
                            .values()
                            .filter(|r| r.credit.is_some() && !r.task.is_finished())
                            .count();
                        if streams >= self.config.max_streams {
                            let message = format!("{streams} streams already open");
                            self.error(frame.id, RemoteError::new(ErrorCode::Busy, message)).await;
                            return true;
                        }
                        let credit = Arc::new(Semaphore::new(0));
                        let publisher = Publisher::new(frame.id, self.out.clone(), Arc::clone(&credit));
                        self.spawn(frame, Some(credit), move |call| async move {
                            handler(call, publisher).await.map(|()| None)
                        });
                    }
                    (_, _) => {
                        let message = format!(
                            "{:?} does not fit method {:?}: request a method, subscribe to a stream",
                            frame.kind, frame.method
                        );
                        self.error(frame.id, RemoteError::new(ErrorCode::UnknownKind, message)).await;
                    }
                }
            }
            Kind::Cancel => {
                if let Some(running) = self.table.remove(&frame.id) {
                    running.task.abort();
                }
            }
            Kind::Credit => {
                let more = from_payload::<u32>(&frame.payload).unwrap_or(0) as usize;
                if let Some(Running { credit: Some(credit), .. }) = self.table.get(&frame.id) {
                    credit.add_permits(more.min(MAX_CREDIT.saturating_sub(credit.available_permits())));
                }
            }
            Kind::Response | Kind::Error | Kind::Item | Kind::End => {
                let message = format!("a client does not send {:?} frames", frame.kind);
                self.error(frame.id, RemoteError::new(ErrorCode::UnknownKind, message)).await;
            }
        }
        true
    }

    // ANCHOR: spawn
    /// Runs `body` for `frame` in its own task and sends its answer: a response (`Some`), the end
    /// of a stream (`None`), or an error. The frame's deadline goes into the connection's queue.
    fn spawn<F, Fut>(&mut self, frame: Frame, credit: Option<Arc<Semaphore>>, body: F)
    where
        F: FnOnce(Call) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Option<Vec<u8>>, RemoteError>> + Send + 'static,
    {
        let id = frame.id;
        let call = Call { method: frame.method, payload: frame.payload, peer: self.peer };
        let out = self.out.clone();
        // A budget too large to add to the clock is no deadline.
        let deadline = frame.deadline.and_then(|limit| Some((Instant::now().checked_add(limit)?, limit)));
        let task = tokio::spawn(async move {
            let answer = body(call).await;
            let frame = match answer {
                Ok(Some(payload)) => Frame::new(Kind::Response, id, payload),
                Ok(None) => Frame::new(Kind::End, id, Vec::new()),
                Err(err) => Frame::new(Kind::Error, id, err.to_payload()),
            };
            let _ = out.send(frame.into()).await;
        });
        if let Some((at, _)) = deadline {
            let table = &self.table;
            let live = |id, at| table.get(&id).is_some_and(|running: &Running| running.is_due_at(at));
            if self.deadlines.push(at, id, table.len(), live) {
                self.alarm.set(Some(at));
            }
        }
        if self.table.len() >= self.sweep_at {
            self.table.retain(|_, running| !running.task.is_finished());
            self.sweep_at = (2 * self.table.len()).max(SWEEP_MIN);
        }
        self.table.insert(id, Running { task, credit, deadline });
    }
    // ANCHOR_END: spawn

    // ANCHOR: expire
    /// Ends every call still running past its deadline: its task is dropped, and the client gets
    /// a `DeadlineExceeded` error.
    async fn expire(&mut self) {
        let mut passed = Vec::new();
        let table = &mut self.table;
        let next = self.deadlines.pop_due(Instant::now(), |id, at| {
            if table.get(&id).is_some_and(|running| running.is_due_at(at) && !running.task.is_finished()) {
                passed.extend(table.remove(&id).map(|running| (id, running)));
            }
        });
        self.alarm.set(next);
        for (id, running) in passed {
            running.task.abort();
            let limit = running.deadline.map(|(_, limit)| limit).unwrap_or_default();
            let message = format!("the deadline of {limit:?} passed");
            self.error(id, RemoteError::new(ErrorCode::DeadlineExceeded, message)).await;
        }
    }
    // ANCHOR_END: expire

    /// A slot for one more call in flight: a free one at once, else waiting for one while calls
    /// still expire on time; `None` when the server stops first.
    async fn slot(&mut self, stop: &CancellationToken) -> Option<Slot> {
        if let Some(slot) = self.in_flight.try_take() {
            return Some(slot);
        }
        let in_flight = Arc::clone(&self.in_flight);
        let take = in_flight.take();
        tokio::pin!(take);
        loop {
            tokio::select! {
                slot = &mut take => return Some(slot),
                () = stop.cancelled() => return None,
                () = self.alarm.rung() => self.expire().await,
            }
        }
    }

    async fn error(&self, id: u64, err: RemoteError) {
        let _ = self.out.send(Frame::new(Kind::Error, id, err.to_payload()).into()).await;
    }

    /// Answers a frame the decoder refused; id 0 when its id could not be read.
    async fn refuse(&self, err: &FrameError) {
        let code = match err {
            FrameError::UnknownVersion { .. } => ErrorCode::UnsupportedVersion,
            FrameError::UnknownKind { .. } => ErrorCode::UnknownKind,
            _ => ErrorCode::BadFrame,
        };
        self.error(err.id().unwrap_or(0), RemoteError::new(code, err.to_string())).await;
    }

    /// Ends the connection. A client that left gets nothing more: its calls are cancelled at once.
    /// On shutdown, calls in flight get the grace period, then are cancelled with an error.
    async fn finish(mut self, client_left: bool) {
        if !client_left && tokio::time::timeout(self.config.grace, self.drained()).await.is_ok() {
            return;
        }
        for (id, call) in std::mem::take(&mut self.table) {
            if call.task.is_finished() {
                continue;
            }
            call.task.abort();
            if !client_left {
                let message = "the server shut down before the call finished";
                self.error(id, RemoteError::new(ErrorCode::ShuttingDown, message)).await;
            }
        }
    }

    /// Returns once no call or stream is running. A task is awaited only while it has not
    /// finished: a handle must not be polled again after it returned.
    async fn drained(&mut self) {
        for running in self.table.values_mut() {
            if !running.task.is_finished() {
                let _ = (&mut running.task).await;
            }
        }
    }
}
