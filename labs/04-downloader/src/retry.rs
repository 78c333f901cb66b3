//! Waiting between retries: exponential backoff, interruptible by the stop flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::http::HttpError;
use crate::{Config, Error, Url};

/// Whether a status is worth retrying: the server is overloaded or failing for now (`408`, `429`,
/// `5xx`), as opposed to a `404` that will be a `404` again.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// The delays between the attempts of one request: `backoff`, then twice that, and so on, up to
/// `max_backoff`. No jitter: the workers of one download already fail at different moments, and
/// the tests want predictable delays. A client run by thousands of users at once should add some, so
/// their retries do not arrive at the server together.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The next delay to sleep.
    pub next: Duration,
    /// The first delay, where [`Backoff::reset`] starts again.
    pub first: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delays `config` asks for.
    pub fn new(config: &Config) -> Backoff {
        Backoff { next: config.backoff, first: config.backoff, max: config.max_backoff }
    }

    /// Starts again from the first delay: the request made progress, so the failures in a row ended.
    pub fn reset(&mut self) {
        self.next = self.first;
    }

    /// Sleeps the next delay, and doubles it. Returns `false`, early, when `stop` is raised.
    pub fn wait(&mut self, stop: impl Fn() -> bool) -> bool {
        todo!(
            "stage 1 (the probe retries), stage 3 (the workers): sleep the next delay, waking early on stop, then double it"
        )
    }
}

/// `stop` read as a condition for [`Backoff::wait`].
pub fn raised(stop: &AtomicBool) -> impl Fn() -> bool + '_ {
    move || stop.load(Ordering::Relaxed)
}

/// How one attempt at a request ended when it did not succeed.
#[derive(Debug)]
pub enum Attempt {
    /// Another attempt may succeed: a network failure, a `503`.
    Retry(Failure),
    /// No attempt will: a `404`, a lying `Content-Range`, a changed file, a local write error.
    Fatal(Error),
}

/// A failure worth retrying.
#[derive(Debug)]
pub enum Failure {
    /// A status such as `503` (see [`is_retryable_status`]).
    Status(u16),
    /// A failed connection, a reset, a stall, a body cut short.
    Http(HttpError),
}

impl Failure {
    /// The error to report when this was the last of `attempts` attempts at `url`.
    pub fn into_error(self, url: &Url, attempts: u32) -> Error {
        match self {
            Failure::Status(status) => Error::Status { url: url.to_string(), status },
            Failure::Http(source) => Error::Network { url: url.to_string(), attempts, source },
        }
    }
}

impl From<HttpError> for Attempt {
    fn from(err: HttpError) -> Attempt {
        Attempt::Retry(Failure::Http(err))
    }
}
