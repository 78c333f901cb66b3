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
    match serde_json::from_slice::<Vec<Event>>(&body) {
        Ok(events) => {
            core.deliver(&events);
            (StatusCode::OK, axum::Json(json!({ "status": "success", "data": { "taken": events.len() } })))
        }
        Err(err) => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({ "status": "error", "errorType": "bad_data", "error": format!("events: {err}") }),
            ),
        ),
    }
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
        let endpoint = HttpEndpoint::parse(&format!("{}/api/v1/events", url.trim_end_matches('/')))
            .map_err(|err| Error::BadOption(format!("--alarm {url}: {err}")))?;
        let queue: Arc<(Mutex<VecDeque<Event>>, Condvar)> = Arc::default();
        let wake = Arc::clone(&queue);
        shutdown.on_stop(move || {
            let _events = wake.0.lock().unwrap_or_else(PoisonError::into_inner);
            wake.1.notify_all();
        });
        let posting = Arc::clone(&queue);
        let stop = shutdown.clone();
        let client = HttpClient::new(endpoint, Duration::from_secs(2), Duration::from_secs(10));
        let thread = thread::Builder::new()
            .name("judge-to-alarm".to_owned())
            .spawn(move || post_events(&posting, client, &stop))
            .map_err(Error::sys("start the judge's poster"))?;
        Ok(RemoteAlarm { queue, thread: Mutex::new(Some(thread)) })
    }

    /// Waits for the poster, which ends at the stop.
    pub fn join(&self) {
        if let Some(thread) = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = thread.join();
        }
    }
}

impl EventSink for RemoteAlarm {
    fn deliver(&self, events: &[Event]) {
        let (queue, ready) = &*self.queue;
        queue.lock().unwrap_or_else(PoisonError::into_inner).extend(events.iter().cloned());
        ready.notify_one();
    }
}

/// The poster: the oldest events, up to [`MAX_EVENTS_A_POST`], until the alarm answers 2xx.
fn post_events(queue: &(Mutex<VecDeque<Event>>, Condvar), mut client: HttpClient, stop: &Shutdown) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        let batch: Vec<Event> = {
            let mut events = queue.0.lock().unwrap_or_else(PoisonError::into_inner);
            while events.is_empty() && !stop.is_stopped() {
                events = queue.1.wait(events).unwrap_or_else(PoisonError::into_inner);
            }
            if stop.is_stopped() {
                return;
            }
            events.iter().take(MAX_EVENTS_A_POST).cloned().collect()
        };
        let body = serde_json::to_vec(&batch).unwrap_or_default();
        match client.post(&[("Content-Type", "application/json")], &body) {
            Ok(answer) if (200..300).contains(&answer.status) => {
                backoff.reset();
                queue.0.lock().unwrap_or_else(PoisonError::into_inner).drain(..batch.len());
            }
            answer => {
                let cause =
                    answer.map_or_else(|err| err.to_string(), |answer| format!("answered {}", answer.status));
                warn!(%cause, events = batch.len(), "the alarm did not take the events; trying again");
                if stop.wait_timeout(backoff.next()) {
                    return;
                }
            }
        }
    }
}
