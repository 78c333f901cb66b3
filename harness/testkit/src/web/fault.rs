//! The ways a route can misbehave on purpose.

use std::time::Duration;

/// One deliberate misbehaviour of a [`Route`](super::Route). A route may carry several; they apply
/// in the order given where that matters (for example [`Fault::FailTimes`] before [`Fault::Delay`]).
///
/// Precisely: for each request the server walks the faults in order. A [`Fault::Delay`] waits where
/// it stands. A counted fault ([`Fault::FailTimes`], [`Fault::ResetTimes`]) counts the requests that
/// reach it (per route, across connections; [`WebServer::set_route`](super::WebServer::set_route)
/// starts a fresh count) and, while its count lasts, answers at once and ends the walk: so
/// `[Delay, FailTimes]` delays the failures too, `[FailTimes, Delay]` only the successes, and
/// `[ResetTimes(1), FailTimes(1, 503)]` resets the first request, fails the second and serves the
/// third. The other faults shape how the normal answer is delivered and combine freely (a
/// [`Fault::Trickle`] of a [`Fault::Chunked`] body, a [`Fault::Stall`] after a wrong range…); of
/// [`Fault::ResetAfter`], [`Fault::Stall`] and [`Fault::NeverEnds`] the last one given wins.
///
/// [`Fault::ResetAfter`]`(K)` and [`Fault::Stall`]`(K)` cut only a body longer than K bytes (the
/// part a range asks for, if it asks): a shorter body, and the answer to a `HEAD`, which has none,
/// are sent whole and the connection carries on normally. [`Fault::NeverEnds`] and
/// [`Fault::Trickle`] do not change the answer to a `HEAD` either (beyond its `Content-Length`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long after reading the request before sending anything (a slow server).
    Delay(Duration),
    /// Send the body in pieces of `chunk` bytes with `pause` between them (a slow link). Lets a test
    /// watch a transfer in progress, or kill a client in the middle of one.
    Trickle {
        /// Bytes per piece.
        chunk: usize,
        /// Pause between pieces.
        pause: Duration,
    },
    /// Send the head and the first K body bytes, then reset the connection (TCP RST, `SO_LINGER` 0).
    /// The head announces the full length, so the client sees an error or an early end of the body.
    ResetAfter(usize),
    /// Send the head and the first K body bytes, then send nothing more but keep the connection open
    /// until the server is dropped: a stalled peer, which only a read timeout detects.
    Stall(usize),
    /// Send a head and then body bytes forever, slowly, never finishing (a response that never ends):
    /// a `Content-Length` of 1 GiB (or a chunked body with [`Fault::Chunked`], or a close-delimited
    /// one with [`Fault::NoContentLength`]), then 16 bytes of the body, over and over, every 10 ms.
    NeverEnds,
    /// Send the body with `Transfer-Encoding: chunked` (in several chunks) instead of `Content-Length`.
    /// The chunks vary in size (1 byte to 64 KiB), the second carries a chunk extension
    /// (`;testkit=ext`), and a trailer field `X-Testkit-Trailer: end` follows the last chunk.
    Chunked,
    /// Send no `Content-Length` and close the connection after the body (a close-delimited body).
    /// The answer says `Connection: close`.
    NoContentLength,
    /// Ignore `Range` requests: answer `200` with the whole body, as servers without range support do
    /// (and, like them, send no `Accept-Ranges` header).
    IgnoreRange,
    /// Answer a `Range` request with `206` but a `Content-Range` that starts one byte later than asked,
    /// and the bytes to match it: a lying server that only a careful client notices.
    WrongContentRange,
    /// The first N requests for this route are answered with this status (and a small body), the rest
    /// normally: a flaky server for retry tests.
    FailTimes(usize, u16),
    /// The first N requests for this route are reset before any byte of the answer is sent (their
    /// [`RequestRecord::status`](super::RequestRecord::status) is 0).
    ResetTimes(usize),
}
