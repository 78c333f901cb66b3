//! What the server saw: one record per request, for the test to inspect.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::range::{self, ByteRange};

/// One request the server read, and how it answered.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    /// The request headers, names as sent.
    pub headers: Vec<(String, String)>,
    /// Which connection it came on: connections are numbered from 0 in the order accepted, so
    /// requests sharing a number shared a kept-alive connection.
    pub connection: u64,
    /// The status the server answered (0 when it reset the connection without answering).
    pub status: u16,
    /// When the request head had been read.
    pub started: Instant,
    /// When the answer had been written (or the connection dropped), `None` while still in flight.
    pub finished: Option<Instant>,
}

impl RequestRecord {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `(first, last)` bytes of a `Range: bytes=first-last` header, `last` `None` when open-ended.
    ///
    /// `None` when there is no `Range` header or it is not a single `first-last` or `first-` range
    /// (a suffix range `bytes=-n`, several ranges, or a malformed value).
    pub fn range(&self) -> Option<(u64, Option<u64>)> {
        match range::parse(self.header("range")?)? {
            ByteRange::FromTo(first, last) => Some((first, Some(last))),
            ByteRange::From(first) => Some((first, None)),
            ByteRange::Suffix(_) => None,
        }
    }
}

/// The server's log, and the count of requests in flight kept under the same lock, so the peak is
/// exact rather than reconstructed from timestamps afterwards.
#[derive(Debug, Default)]
pub(super) struct RequestLog {
    state: Mutex<LogState>,
}

#[derive(Debug, Default)]
struct LogState {
    records: Vec<RequestRecord>,
    in_flight: usize,
    max_in_flight: usize,
}

impl RequestLog {
    /// Records a request whose head was just read; returns its index for [`RequestLog::finish`].
    pub(super) fn start(&self, record: RequestRecord) -> usize {
        let mut state = self.lock();
        state.records.push(record);
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        state.records.len() - 1
    }

    /// Sets the status the server answered request `index` with.
    pub(super) fn set_status(&self, index: usize, status: u16) {
        self.lock().records[index].status = status;
    }

    /// Marks request `index` finished: its answer is written or its connection is gone.
    pub(super) fn finish(&self, index: usize) {
        let mut state = self.lock();
        state.records[index].finished = Some(Instant::now());
        state.in_flight -= 1;
    }

    pub(super) fn records(&self) -> Vec<RequestRecord> {
        self.lock().records.clone()
    }

    pub(super) fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    pub(super) fn len(&self) -> usize {
        self.lock().records.len()
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panicking connection thread must not take the log down with it: the state is updated
        // in single statements, so it is consistent even after a panic elsewhere.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
