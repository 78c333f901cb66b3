//! Waking a loop from another thread: a channel of [`Message`]s and a `mio::Waker` that makes the
//! loop's `poll` return so it reads them.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use mio::net::TcpStream;

use crate::connection::ConnId;

/// What other threads ask of a loop.
#[derive(Debug)]
pub enum Message {
    /// Queue these bytes on a connection (a response computed elsewhere).
    Write(ConnId, Vec<u8>),
    /// Take on this connection (the acceptor handing it to a worker).
    Adopt(TcpStream),
    /// Stop accepting, finish writing, close everything and return from `run`.
    Shutdown,
}

/// A cloneable, `Send` way to reach one loop from any thread.
#[derive(Debug, Clone)]
pub struct Handle {
    sender: Sender<Message>,
    waker: Arc<mio::Waker>,
}

impl Handle {
    /// A handle sending on `sender` and waking the loop with `waker`.
    pub fn new(sender: Sender<Message>, waker: Arc<mio::Waker>) -> Self {
        Handle { sender, waker }
    }

    /// Sends `message` and wakes the loop; `false` when the loop has ended.
    pub fn send(&self, message: Message) -> bool {
        self.sender.send(message).is_ok() && self.waker.wake().is_ok()
    }

    /// Writes `bytes` to connection `to` (if it is still open): how a thread that computed a
    /// response hands it back to the loop, which alone touches the socket.
    pub fn write(&self, to: ConnId, bytes: Vec<u8>) -> bool {
        self.send(Message::Write(to, bytes))
    }

    /// Asks the loop to shut down gracefully.
    pub fn shutdown(&self) {
        self.send(Message::Shutdown);
    }
}
