//! Decoding a response body as its bytes arrive, in whatever pieces the network delivers them.
//!
//! [`BodyDecoder`] is a state machine: feed it bytes with [`BodyDecoder::decode`] until
//! [`BodyDecoder::is_done`], or tell it the connection ended with [`BodyDecoder::finish`]. It never
//! reads past the end of the body, so bytes after it (the next response on a kept-alive
//! connection) stay with the caller.

use crate::error::HttpError;
use crate::http::BodyKind;

/// The longest line of chunked framing accepted: a chunk-size line with its extensions, or a
/// trailer field.
const MAX_LINE: usize = 8 * 1024;

/// Decodes one body: by length, chunked (RFC 9112 section 7.1, with extensions and trailers), or up
/// to the end of the connection.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    /// A partial line of chunked framing (a size line or a trailer) carried between calls.
    line: Vec<u8>,
    trailers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many body bytes still to come (`Content-Length`).
    Length(u64),
    /// Until the connection closes.
    Close,
    /// Reading a chunk-size line (`1a;ext=v`).
    ChunkSize,
    /// Inside a chunk's data, this many bytes still to come.
    ChunkData(u64),
    /// After a chunk's data: its CRLF.
    ChunkEnd,
    /// After the last chunk: trailer lines, up to an empty one.
    Trailers,
    Done,
}

impl BodyDecoder {
    /// A decoder for a body framed as `kind`.
    pub fn new(kind: BodyKind) -> BodyDecoder {
        let state = match kind {
            BodyKind::Empty | BodyKind::Length(0) => State::Done,
            BodyKind::Length(n) => State::Length(n),
            BodyKind::Chunked => State::ChunkSize,
            BodyKind::Close => State::Close,
        };
        BodyDecoder { state, line: Vec::new(), trailers: Vec::new() }
    }

    /// Decodes from the start of `input`, appending body bytes to `out`, and returns how many bytes
    /// of `input` it used: all of them, or fewer when the body ended inside `input`.
    ///
    /// # Errors
    ///
    /// [`HttpError::BadChunk`] when chunked framing is broken (a size that is not hex or
    /// overflows, data not followed by CRLF, a size line or trailer longer than 8 KiB).
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        // ANCHOR: decode
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            match self.state {
                State::Done => break,
                State::Close => {
                    out.extend_from_slice(rest);
                    used += rest.len();
                }
                State::Length(left) | State::ChunkData(left) => {
                    let take = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    out.extend_from_slice(&rest[..take]);
                    used += take;
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), _) => State::Length(left),
                        (_, 0) => State::ChunkEnd,
                        _ => State::ChunkData(left),
                    };
                }
                State::ChunkSize | State::ChunkEnd | State::Trailers => {
                    let Some(line) = self.take_line(rest, &mut used)? else { break };
                    self.state = match self.state {
                        State::ChunkSize => match chunk_size(&line)? {
                            0 => State::Trailers,
                            n => State::ChunkData(n),
                        },
                        State::ChunkEnd if line.is_empty() => State::ChunkSize,
                        State::ChunkEnd => return Err(bad_chunk("chunk data not followed by CRLF")),
                        _ if line.is_empty() => State::Done,
                        _ => {
                            self.add_trailer(&line);
                            State::Trailers
                        }
                    };
                }
            }
        }
        Ok(used)
        // ANCHOR_END: decode
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Tells the decoder the connection has ended, and returns whether the body is complete. That
    /// completes a body read to the end of the connection; any other unfinished body was cut short
    /// (the caller, which knows the URL, reports [`HttpError::Truncated`]).
    pub fn finish(&mut self) -> bool {
        if self.state == State::Close {
            self.state = State::Done;
        }
        self.state == State::Done
    }

    /// The trailer fields of a chunked body (after the last chunk), names as sent.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Takes one line (without its `\r\n` or `\n`) from `rest`, joining it with what earlier calls
    /// left in `self.line`; `None` when the line has not ended yet.
    fn take_line(&mut self, rest: &[u8], used: &mut usize) -> Result<Option<Vec<u8>>, HttpError> {
        let newline = rest.iter().position(|&b| b == b'\n');
        let piece = &rest[..newline.unwrap_or(rest.len())];
        if self.line.len() + piece.len() > MAX_LINE {
            return Err(bad_chunk("framing line longer than 8 KiB"));
        }
        self.line.extend_from_slice(piece);
        let Some(newline) = newline else {
            *used += rest.len();
            return Ok(None);
        };
        *used += newline + 1;
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }

    fn add_trailer(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        if let Some((name, value)) = text.split_once(':') {
            self.trailers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
}

/// The size of a chunk-size line: hex digits, then optional whitespace and `;extensions`, ignored.
fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let after = &line[digits..];
    if digits == 0 || !(after.is_empty() || matches!(after[0], b';' | b' ' | b'\t')) {
        let shown = String::from_utf8_lossy(line);
        return Err(bad_chunk(&format!("invalid chunk size line {shown:?}")));
    }
    let text = std::str::from_utf8(&line[..digits]).unwrap_or_default();
    u64::from_str_radix(text, 16).map_err(|_| bad_chunk(&format!("chunk size {text} is too large")))
}

fn bad_chunk(reason: &str) -> HttpError {
    HttpError::BadChunk { reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_trailers_and_stops_at_the_end() {
        let mut decoder = BodyDecoder::new(BodyKind::Chunked);
        let mut out = Vec::new();
        let input = b"3;x=y\r\nabc\r\n0\r\nExpires: never\r\n\r\nNEXT";
        let used = decoder.decode(input, &mut out).unwrap();
        assert_eq!((out.as_slice(), used, decoder.is_done()), (&b"abc"[..], input.len() - 4, true));
        assert_eq!(decoder.trailers(), [("Expires".to_owned(), "never".to_owned())]);
    }
}
