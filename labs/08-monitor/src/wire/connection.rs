//! One connection from the agent's sender to a relay: a spooled batch written as a frame, then its
//! ack awaited until a deadline, whatever the relay sends or fails to send meanwhile.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::frame::{FrameDecoder, write_frame};
use super::message::Message;

/// An open connection to a relay.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The socket.
    stream: TcpStream,
    /// What the relay has sent that is not yet a whole frame.
    decoder: FrameDecoder,
    /// The relay's address.
    addr: SocketAddr,
    /// Batches acked on this connection.
    acked: u64,
}

/// Why a batch was not acked.
#[derive(Debug)]
pub(crate) enum Fault {
    /// The connection failed or timed out.
    Io(io::Error),
    /// The relay refused.
    Refused(String),
    /// The relay said something this protocol does not allow.
    Protocol(String),
}

impl Connection {
    /// Connects to the relay at `addr`, waiting at most `timeout`.
    pub(crate) fn open(addr: SocketAddr, timeout: Duration) -> io::Result<Connection> {
        todo!("stage 2: connect within timeout, with TCP_NODELAY")
    }

    /// The relay's address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many batches were acked on this connection.
    pub(crate) fn acked(&self) -> u64 {
        self.acked
    }

    /// Sends `record`, the payload of batch `seq`, and waits up to `timeout` for its ack: the
    /// ack's accepted and rejected counts.
    pub(crate) fn exchange(
        &mut self,
        record: &[u8],
        seq: u64,
        timeout: Duration,
    ) -> Result<(u32, u32), Fault> {
        todo!(
            "stage 2: write the frame, then read until the ack of seq comes, a refusal, a fault, or the deadline"
        )
    }
}
