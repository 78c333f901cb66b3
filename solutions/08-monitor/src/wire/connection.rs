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
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        // Frames are written whole: Nagle's delay would only hold back their last packet.
        stream.set_nodelay(true)?;
        Ok(Connection { stream, decoder: FrameDecoder::default(), addr, acked: 0 })
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
        let deadline = Instant::now() + timeout;
        self.stream.set_write_timeout(Some(timeout)).map_err(Fault::Io)?;
        write_frame(&mut self.stream, record).map_err(Fault::Io)?;
        let mut chunk = [0u8; 4096];
        loop {
            match self.decoder.next_message() {
                Ok(Some(Message::Ack { seq: acked, accepted, rejected })) if acked == seq => {
                    self.acked += 1;
                    return Ok((accepted, rejected));
                }
                // The late ack of a batch sent before: the one awaited follows.
                Ok(Some(Message::Ack { seq: acked, .. })) if acked < seq => continue,
                Ok(Some(Message::Ack { seq: acked, .. })) => {
                    return Err(Fault::Protocol(format!("ack of batch {acked}, never sent (sent {seq})")));
                }
                Ok(Some(Message::Refused { reason })) => return Err(Fault::Refused(reason)),
                Ok(Some(Message::Batch { .. })) => {
                    return Err(Fault::Protocol("a batch from a relay".into()));
                }
                Ok(None) => {}
                Err(err) => return Err(Fault::Protocol(err.to_string())),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Fault::Io(io::Error::new(io::ErrorKind::TimedOut, "no ack in time")));
            }
            self.stream.set_read_timeout(Some(left)).map_err(Fault::Io)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    let closed = io::Error::new(io::ErrorKind::UnexpectedEof, "relay closed the connection");
                    return Err(Fault::Io(closed));
                }
                Ok(read) => self.decoder.extend(&chunk[..read]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(Fault::Io(err)),
            }
        }
    }
}
