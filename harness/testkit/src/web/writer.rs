//! Writing one answer's bytes: small writes gathered into one, large bodies written in place, and
//! the chunked encoding, trickling and never-ending bodies that faults ask for.

use std::io::{self, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::shutdown::Shutdown;

/// Writes of at most this many bytes are gathered into one buffer; larger slices are written
/// straight from the body, so a large file is never copied.
const GATHER: usize = 64 * 1024;
/// The bytes a [`Fault::NeverEnds`](super::Fault::NeverEnds) answer sends per tick, and the tick.
const NEVER_PIECE: usize = 16;
const NEVER_TICK: Duration = Duration::from_millis(10);

/// The writer of one answer: gathers small writes into one buffer, and encodes chunks and
/// trickles as the plan says.
pub(super) struct Out<'a> {
    stream: &'a TcpStream,
    shutdown: &'a Shutdown,
    buf: Vec<u8>,
    trickle: Option<(usize, Duration)>,
    chunked: bool,
    chunks: usize,
}

impl<'a> Out<'a> {
    pub(super) fn new(
        stream: &'a TcpStream,
        shutdown: &'a Shutdown,
        head: Vec<u8>,
        trickle: Option<(usize, Duration)>,
        chunked: bool,
    ) -> Self {
        Out { stream, shutdown, buf: head, trickle, chunked, chunks: 0 }
    }

    /// Sends `bytes` of the body (not the end of a chunked body: see [`Out::finish`]).
    pub(super) fn body(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some((size, pause)) = self.trickle {
            for (i, piece) in bytes.chunks(size).enumerate() {
                if i > 0 && !self.shutdown.pause(pause) {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                self.piece(piece)?;
                // The last piece waits for `finish`, which marks the request finished first.
                if (i + 1) * size < bytes.len() {
                    self.flush()?;
                }
            }
            Ok(())
        } else if self.chunked {
            varied_pieces(bytes).try_for_each(|piece| self.piece(piece))
        } else {
            self.piece(bytes)
        }
    }

    /// A few bytes every tick, cycling through `filler`, until the peer goes or the server stops.
    pub(super) fn forever(&mut self, filler: &[u8]) -> io::Result<()> {
        let filler = if filler.is_empty() { &b"never ends "[..] } else { filler };
        let mut at = 0;
        self.flush()?;
        loop {
            let piece: Vec<u8> = filler.iter().cycle().skip(at).take(NEVER_PIECE).copied().collect();
            at = (at + NEVER_PIECE) % filler.len();
            self.piece(&piece)?;
            self.flush()?;
            if !self.shutdown.pause(NEVER_TICK) {
                return Ok(());
            }
        }
    }

    /// One piece of body: one chunk when chunked.
    fn piece(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            // An empty chunk would end a chunked body.
            return Ok(());
        }
        if self.chunked {
            self.buf.extend_from_slice(format!("{:x}", bytes.len()).as_bytes());
            if self.chunks == 1 {
                // A chunk extension, which a parser must skip.
                self.buf.extend_from_slice(b";testkit=ext");
            }
            self.buf.extend_from_slice(b"\r\n");
        }
        if bytes.len() > GATHER {
            // Straight from the body, but for a last stretch kept for `finish`.
            let (most, tail) = bytes.split_at(bytes.len() - GATHER);
            self.flush()?;
            self.stream_write(most)?;
            self.buf.extend_from_slice(tail);
        } else {
            self.buf.extend_from_slice(bytes);
        }
        if self.chunked {
            self.buf.extend_from_slice(b"\r\n");
        }
        self.chunks += 1;
        if self.buf.len() > GATHER { self.flush() } else { Ok(()) }
    }

    /// Ends the body (the last chunk and a trailer when chunked) and sends what is buffered, calling
    /// `last` just before that final write.
    pub(super) fn finish(&mut self, last: impl FnOnce()) -> io::Result<()> {
        if self.chunked {
            self.buf.extend_from_slice(b"0\r\nX-Testkit-Trailer: end\r\n\r\n");
        }
        last();
        self.flush()
    }

    pub(super) fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            self.stream_write(&buf)?;
            self.buf = buf;
            self.buf.clear();
        }
        Ok(())
    }

    fn stream_write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut stream = self.stream;
        stream.write_all(bytes)
    }
}

/// Splits a body into chunks of varied sizes (1 byte, a few, a few hundred, up to 64 KiB), so a
/// chunked decoder meets small, odd and large chunks alike.
fn varied_pieces(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    const SIZES: [usize; 6] = [1, 7, 300, 4096, 17, 65536];
    let mut rest = bytes;
    let mut i = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (piece, tail) = rest.split_at(SIZES[i % SIZES.len()].min(rest.len()));
        rest = tail;
        i += 1;
        Some(piece)
    })
}
