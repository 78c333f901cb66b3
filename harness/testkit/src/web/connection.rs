//! One connection's life: read a request, apply the route's faults, write the answer, repeat while
//! the connection is kept alive.

use std::cell::Cell;
use std::io::Read;
use std::net::{Shutdown as Direction, TcpStream};
use std::time::{Duration, Instant};

use super::answer::{self, Answer, Framing, RangeFaults};
use super::log::RequestLog;
use super::request::{Next, Request, RequestReader};
use super::route::ServedRoute;
use super::server::Shared;
use super::writer::Out;
use super::{Fault, RequestRecord, Route, socket};

/// The `Content-Length` a [`Fault::NeverEnds`] answer announces: more than it will ever send.
const NEVER_LENGTH: u64 = 1 << 30;
/// How long a closing connection waits for the peer to close first (so the peer sees a FIN, not a
/// reset caused by bytes it sent that the server never read).
const LINGER: Duration = Duration::from_millis(500);

/// How a connection continues after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    KeepAlive,
    /// Close gracefully.
    Close,
    /// Close with a TCP reset.
    Reset,
    /// The connection is finished already (a write failed, a stall ended, the server stopped).
    Gone,
}

/// How the body is delivered, from the route's faults.
#[derive(Debug, Clone, Copy, Default)]
struct Plan {
    trickle: Option<(usize, Duration)>,
    end: End,
    chunked: bool,
    close_delimited: bool,
    range: RangeFaults,
}

#[derive(Debug, Clone, Copy, Default)]
enum End {
    #[default]
    Complete,
    ResetAfter(usize),
    Stall(usize),
    NeverEnds,
}

/// A request being answered: finished in the log just before the last bytes of its answer are
/// written (so a client holding the whole answer always finds it finished, and a client that sends
/// its next request on another connection never overlaps with it), or when dropped, whatever path
/// the answer took.
struct InFlight<'a> {
    log: &'a RequestLog,
    index: usize,
    done: Cell<bool>,
}

impl InFlight<'_> {
    fn finish(&self) {
        if !self.done.replace(true) {
            self.log.finish(self.index);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Serves connection number `id` until it closes or the server stops.
pub(super) fn serve(shared: &Shared, stream: TcpStream, id: u64) {
    let _ = stream.set_nodelay(true);
    let mut reader = RequestReader::default();
    while !shared.shutdown.is_stopping() {
        let request = match reader.next(&stream) {
            Next::Request(request) => request,
            Next::Closed => break,
            Next::Bad(why) => {
                let bad = ServedRoute::new(Route::status(400).header("X-Testkit-Error", &why));
                let answer = answer::build(&bad, &Request::unparsed(), RangeFaults::default());
                let mut out = Out::new(
                    &stream,
                    &shared.shutdown,
                    answer::head(&answer, Framing::Length(answer.part.len() as u64), Some("close")),
                    None,
                    false,
                );
                if out.body(answer.part()).and_then(|()| out.finish(|| ())).is_ok() {
                    close_gracefully(&stream);
                }
                break;
            }
        };
        let record = RequestRecord {
            method: request.method.clone(),
            target: request.target.clone(),
            headers: request.headers.clone(),
            connection: id,
            status: 0,
            started: Instant::now(),
            finished: None,
        };
        let flight = InFlight { log: &shared.log, index: shared.log.start(record), done: Cell::new(false) };
        match respond(shared, &stream, &request, &flight) {
            After::KeepAlive => {}
            After::Close => {
                drop(flight);
                close_gracefully(&stream);
                break;
            }
            After::Reset => {
                shared.shutdown.unregister(id);
                socket::wait_sent(&stream, &shared.shutdown);
                flight.finish();
                socket::reset(stream);
                return;
            }
            After::Gone => break,
        }
    }
    shared.shutdown.unregister(id);
}

/// Answers one request, faults included.
fn respond(shared: &Shared, stream: &TcpStream, request: &Request, flight: &InFlight<'_>) -> After {
    let Some(served) = shared.route(&request.target) else {
        return deliver(shared, stream, request, flight, &plain(404, request), Plan::default());
    };
    if request.method != "GET" && request.method != "HEAD" {
        let mut answer = plain(405, request);
        answer.headers.push(("Allow".to_owned(), "GET, HEAD".to_owned()));
        return deliver(shared, stream, request, flight, &answer, Plan::default());
    }
    let mut plan = Plan::default();
    for (index, fault) in served.route.faults.iter().enumerate() {
        match *fault {
            Fault::Delay(duration) => {
                if !shared.shutdown.pause(duration) {
                    return After::Gone;
                }
            }
            Fault::ResetTimes(n) => {
                if served.count(index) < n {
                    return After::Reset;
                }
            }
            Fault::FailTimes(n, code) => {
                if served.count(index) < n {
                    return deliver(shared, stream, request, flight, &plain(code, request), Plan::default());
                }
            }
            Fault::Trickle { chunk, pause } => plan.trickle = Some((chunk.max(1), pause)),
            Fault::ResetAfter(k) => plan.end = End::ResetAfter(k),
            Fault::Stall(k) => plan.end = End::Stall(k),
            Fault::NeverEnds => plan.end = End::NeverEnds,
            Fault::Chunked => plan.chunked = true,
            Fault::NoContentLength => plan.close_delimited = true,
            Fault::IgnoreRange => plan.range.ignore = true,
            Fault::WrongContentRange => plan.range.lie = true,
        }
    }
    let answer = answer::build(&served, request, plan.range);
    deliver(shared, stream, request, flight, &answer, plan)
}

/// The plain answer with this status that the server gives on its own (404, 405, a `FailTimes`).
fn plain(code: u16, request: &Request) -> Answer {
    answer::build(&ServedRoute::new(Route::status(code)), request, RangeFaults::default())
}

/// Writes `answer` as `plan` says.
fn deliver(
    shared: &Shared,
    stream: &TcpStream,
    request: &Request,
    flight: &InFlight<'_>,
    answer: &Answer,
    plan: Plan,
) -> After {
    let close = !request.keep_alive || plan.close_delimited || shared.shutdown.is_stopping();
    let chunked = plan.chunked && !answer.is_bodiless();
    let framing = if answer.is_bodiless() {
        Framing::Bodiless
    } else if chunked {
        Framing::Chunked
    } else if plan.close_delimited {
        Framing::CloseDelimited
    } else if let End::NeverEnds = plan.end {
        Framing::Length(NEVER_LENGTH)
    } else {
        Framing::Length(answer.part.len() as u64)
    };
    let connection = if close {
        Some("close")
    } else if request.http10 {
        Some("keep-alive")
    } else {
        None
    };
    flight.log.set_status(flight.index, answer.status);
    // The head of a HEAD answer announces the framing a GET would get, but no body (not even the
    // last chunk) follows it.
    let mut out = Out::new(
        stream,
        &shared.shutdown,
        answer::head(answer, framing, connection),
        plan.trickle,
        chunked && !request.is_head(),
    );
    let body = if request.is_head() || answer.is_bodiless() { &[][..] } else { answer.part() };
    // A cut that would not cut anything leaves a complete answer, and a complete answer is answered
    // normally: a probe with HEAD, or the last short range of a file, goes through.
    let end = match plan.end {
        End::ResetAfter(k) | End::Stall(k) if k >= body.len() => End::Complete,
        End::NeverEnds if request.is_head() => End::Complete,
        end => end,
    };
    let written = match end {
        End::Complete => out
            .body(body)
            .and_then(|()| out.finish(|| flight.finish()))
            .map(|()| if close { After::Close } else { After::KeepAlive }),
        End::ResetAfter(k) => out.body(&body[..k]).and_then(|()| out.flush()).map(|()| After::Reset),
        End::Stall(k) => out.body(&body[..k]).and_then(|()| out.flush()).map(|()| {
            hold(stream);
            After::Gone
        }),
        End::NeverEnds => out.forever(&answer.body).map(|()| After::Gone),
    };
    // A write error means the peer went away (or the server is stopping): nothing left to do.
    written.unwrap_or(After::Gone)
}

/// Keeps a connection open, sending nothing, until the peer closes it or the server shuts it down.
fn hold(mut stream: &TcpStream) {
    let mut sink = [0u8; 4096];
    while let Ok(n) = stream.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

/// Ends the sending side and waits briefly for the peer to close its side, discarding what it sends.
fn close_gracefully(mut stream: &TcpStream) {
    let _ = stream.shutdown(Direction::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let start = Instant::now();
    let mut sink = [0u8; 4096];
    while start.elapsed() < LINGER * 2 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
