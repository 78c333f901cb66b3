//! Server-to-client streams with credit-based flow control.
//!
//! A subscriber opens a stream with a subscribe frame and grants the server a window of credits
//! with a credit frame. The server's [`Publisher`] spends one credit per message and waits when it
//! has none; the client's [`Subscription`] grants credits back as its reader takes messages. So
//! at most a window of messages is ever buffered, however slow the reader: a subscriber that never
//! reads stops the producer instead of filling the server's memory.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, mpsc};

use crate::error::Error;
use crate::frame::Frame;
use crate::link::Link;
use crate::status::{RemoteError, decode_answer, to_payload};
use crate::writer::Outbound;

/// The server's end of a stream: sends messages as the subscriber's credit allows.
#[derive(Debug)]
pub struct Publisher {
    id: u64,
    out: mpsc::Sender<Outbound>,
    credit: Arc<Semaphore>,
}

// TODO(stage 4): a credit is a permit of `credit`, forgotten once spent: only a credit frame, which
// the connection turns into added permits, gives it back.

impl Publisher {
    pub(crate) fn new(id: u64, out: mpsc::Sender<Outbound>, credit: Arc<Semaphore>) -> Publisher {
        Publisher { id, out, credit }
    }

    /// Sends one message of raw bytes, first waiting for a credit.
    ///
    /// # Errors
    ///
    /// When the connection is gone.
    pub async fn send_raw(&mut self, payload: Vec<u8>) -> Result<(), RemoteError> {
        todo!("stage 4: wait for a credit and spend it for good, then send an item frame for this stream")
    }

    /// Sends one message, encoded in postcard, first waiting for a credit.
    ///
    /// # Errors
    ///
    /// When the connection is gone or `item` cannot be encoded.
    pub async fn send<T: Serialize + ?Sized>(&mut self, item: &T) -> Result<(), RemoteError> {
        let payload =
            to_payload(item).map_err(|err| RemoteError::internal(format!("cannot encode: {err}")))?;
        self.send_raw(payload).await
    }

    /// The credits left right now (messages that can be sent without waiting).
    pub fn credit(&self) -> usize {
        todo!("stage 4: the credits left")
    }
}

/// The client's end of a stream: messages in order, then `None` when the server ends it.
/// Dropping it (or [`Subscription::close`]) ends the stream on the server.
#[derive(Debug)]
pub struct Subscription {
    link: Link,
    id: u64,
    method: String,
    items: mpsc::UnboundedReceiver<Frame>,
    window: u32,
    taken: u32,
    done: bool,
}

impl Subscription {
    pub(crate) fn new(
        link: Link,
        id: u64,
        method: &str,
        items: mpsc::UnboundedReceiver<Frame>,
        window: u32,
    ) -> Self {
        Subscription { link, id, method: method.to_owned(), items, window, taken: 0, done: false }
    }

    /// The next message as bytes; `None` once the stream has ended.
    ///
    /// # Errors
    ///
    /// The server's error that ended the stream, or the connection's loss.
    pub async fn next_raw(&mut self) -> Option<Result<Vec<u8>, Error>> {
        todo!(
            "stage 4: the next item, granting credit back every half window taken; the end or an error ends it"
        )
    }

    /// The next message decoded as a `T`; `None` once the stream has ended.
    ///
    /// # Errors
    ///
    /// As [`Subscription::next_raw`], and when the message is not a `T`.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Option<Result<T, Error>> {
        let bytes = match self.next_raw().await? {
            Ok(bytes) => bytes,
            Err(err) => return Some(Err(err)),
        };
        Some(decode_answer(&self.method, &bytes))
    }

    /// Ends the stream: the server's handler is stopped.
    pub fn close(self) {}
}

impl Drop for Subscription {
    fn drop(&mut self) {
        todo!("stage 4: unless the stream has ended, cancel it (which also stops waiting for its frames)")
    }
}
