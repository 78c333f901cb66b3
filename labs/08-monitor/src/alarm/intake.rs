//! Events across processes: the alarm's `POST /api/v1/events` (a JSON array of the judge's
//! events), and [`RemoteAlarm`], the judge's side, which posts them in order and tries again until
//! the alarm takes them.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;
use tracing::warn;

use super::service::AlarmCore;
use crate::error::Error;
use crate::judge::{Event, EventSink};
use crate::relay::http::{HttpClient, HttpEndpoint};
use crate::shutdown::Shutdown;
use crate::wire::backoff::Backoff;

/// The most events one post carries.
pub const MAX_EVENTS_A_POST: usize = 1000;

/// The alarm's HTTP intake over `core`: `POST /api/v1/events`.
pub fn intake_router(core: Arc<AlarmCore>) -> Router {
    Router::new().route("/api/v1/events", post(take_events)).with_state(core)
}

/// Takes a JSON array of events: 200 with how many, or 400 saying where the body is wrong.
async fn take_events(
    State(core): State<Arc<AlarmCore>>,
    body: Bytes,
) -> (StatusCode, axum::Json<serde_json::Value>) {
    todo!(
        "stage 7: the body as a JSON array of events: deliver them, 200 with data.taken; else 400 bad_data, the error starting events:"
    )
}

/// An alarm in another process, as a judge's [`EventSink`]: events are queued and posted, in
/// order, by a thread of their own, again and again until the alarm takes them or the stop.
#[derive(Debug)]
pub struct RemoteAlarm {
    /// The events not yet taken, oldest first.
    queue: Arc<(Mutex<VecDeque<Event>>, Condvar)>,
    /// The poster.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl RemoteAlarm {
    /// Posts to the alarm at `url` (`http://HOST:PORT`), until `shutdown`.
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for a URL that is not `http://`, [`Error::Sys`] when the thread cannot
    /// be started.
    pub fn start(url: &str, shutdown: &Shutdown) -> crate::Result<RemoteAlarm> {
        todo!(
            "stage 7: the endpoint url/api/v1/events (a bad one is a BadOption naming --alarm), a wake at the stop, and a thread judge-to-alarm running post_events"
        )
    }

    /// Waits for the poster, which ends at the stop.
    pub fn join(&self) {
        todo!("stage 7: take the thread, if it is still there, and join it")
    }
}

impl EventSink for RemoteAlarm {
    fn deliver(&self, events: &[Event]) {
        todo!("stage 7: queue copies of the events and wake the poster")
    }
}

/// The poster: the oldest events, up to [`MAX_EVENTS_A_POST`], until the alarm answers 2xx.
fn post_events(queue: &(Mutex<VecDeque<Event>>, Condvar), client: HttpClient, stop: &Shutdown) {
    todo!(
        "stage 7: wait for events or the stop; post the oldest MAX_EVENTS_A_POST as JSON; on a 2xx take them off the queue, else warn and wait backoff.next() or the stop"
    )
}
