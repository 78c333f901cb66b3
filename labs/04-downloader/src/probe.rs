//! Stage 1: asking the server what the file is before fetching it.

use std::sync::atomic::AtomicBool;

use crate::http::Response;
use crate::{Config, Error};

// TODO(stage 1): one attempt as a private function over crate::http::Connection, returning the
// Remote or a retry::Attempt (Retry for a network failure or is_retryable_status, Fatal for a
// final status such as 404), keeps probe a short loop: attempt, then Backoff::wait, until
// config.retries run out.

/// What identifies one version of a file on the server: if either changes, the bytes may have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validator {
    /// The `ETag` header, quotes and any `W/` prefix included.
    pub etag: Option<String>,
    /// The `Last-Modified` header, as sent.
    pub last_modified: Option<String>,
}

impl Validator {
    /// The validators of an answer.
    pub fn of(response: &Response) -> Validator {
        Validator {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
        }
    }

    /// The value for an `If-Range` header: the `ETag` when it is strong (`If-Range` does not accept
    /// weak ones), else the `Last-Modified` date.
    pub fn if_range(&self) -> Option<&str> {
        match &self.etag {
            Some(etag) if !etag.starts_with("W/") => Some(etag),
            _ => self.last_modified.as_deref(),
        }
    }

    /// What differs between `self` (before) and `now`, for an error message; `None` when they name
    /// the same version. A validator absent on either side is not compared.
    pub fn difference(&self, now: &Validator) -> Option<String> {
        let differs = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a != b);
        if differs(&self.etag, &now.etag) {
            return Some(format!("ETag was {}, is {}", show(&self.etag), show(&now.etag)));
        }
        if differs(&self.last_modified, &now.last_modified) {
            return Some(format!(
                "Last-Modified was {}, is {}",
                show(&self.last_modified),
                show(&now.last_modified)
            ));
        }
        None
    }
}

fn show(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(none)")
}

/// What the probe learned about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Its size in bytes, when the server said.
    pub size: Option<u64>,
    /// Whether the server said it answers range requests (`Accept-Ranges: bytes`, or a `206` to one).
    /// A server can still ignore them: the download checks the first answer.
    pub ranges: bool,
    /// Its `ETag` and `Last-Modified`.
    pub validator: Validator,
}

/// Asks the server for the size, range support and validators of `config.url`: a `HEAD` request,
/// and when that fails or gives no length, a `GET` of the first byte (`Range: bytes=0-0`), whose
/// `Content-Range` tells the size. Retries network failures and `408`, `429` and `5xx` answers as
/// the download does (see [`Config::retries`]).
///
/// # Errors
///
/// [`Error::Status`] for an answer such as `404`; [`Error::Network`] when the server cannot be
/// reached or keeps failing.
pub fn probe(config: &Config, stop: &AtomicBool) -> Result<Remote, Error> {
    todo!("stage 1: HEAD the URL (or GET its first byte) for size, ranges, ETag and Last-Modified, retrying")
}
