//! Stage 1: asking the server what the file is before fetching it.

use std::sync::atomic::AtomicBool;

use crate::http::{Connection, Response};
use crate::retry::{Attempt, Backoff, Failure, is_retryable_status, raised};
use crate::{Config, ContentRange, Error};

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
    // ANCHOR: probe
    let mut backoff = Backoff::new(config);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let failure = match probe_once(config) {
            Ok(remote) => return Ok(remote),
            Err(Attempt::Fatal(err)) => return Err(err),
            Err(Attempt::Retry(failure)) => failure,
        };
        if attempts > config.retries || !backoff.wait(raised(stop)) {
            return Err(failure.into_error(&config.url, attempts));
        }
    }
    // ANCHOR_END: probe
}

// ANCHOR: probe_once
fn probe_once(config: &Config) -> Result<Remote, Attempt> {
    let url = &config.url;
    let mut conn = Connection::open(url, config.connect_timeout, config.stall_timeout)?;
    let head = conn.send("HEAD", url.target(), &[])?;
    match head.status {
        200..=299 if head.content_length().is_some() => {
            let ranges = head.header("accept-ranges").is_some_and(|v| v.eq_ignore_ascii_case("bytes"));
            return Ok(Remote { size: head.content_length(), ranges, validator: Validator::of(&head) });
        }
        404 | 410 | 401 | 403 => return Err(fatal_status(config, head.status)),
        // No length, HEAD not allowed (405, 501), or a failure that may pass (503): the GET of the
        // first byte decides, and is retried if it fails too.
        _ => {}
    }
    if !conn.is_reusable() {
        conn = Connection::open(url, config.connect_timeout, config.stall_timeout)?;
    }
    let get = conn.send("GET", url.target(), &[("Range", "bytes=0-0")])?;
    let validator = Validator::of(&get);
    match get.status {
        206 => {
            let range = get.header("content-range").and_then(ContentRange::parse);
            let Some(ContentRange { first: 0, last: 0, complete }) = range else {
                return Err(Attempt::Fatal(Error::WrongRange {
                    url: url.to_string(),
                    first: 0,
                    last: 0,
                    got: get.header("content-range").unwrap_or_default().to_owned(),
                }));
            };
            Ok(Remote { size: complete, ranges: true, validator })
        }
        // An empty file: no byte 0 to send.
        416 if get.header("content-range").is_some_and(|v| v.trim().ends_with("/0")) => {
            Ok(Remote { size: Some(0), ranges: true, validator })
        }
        200 => Ok(Remote { size: get.content_length(), ranges: false, validator }),
        status if is_retryable_status(status) => Err(Attempt::Retry(Failure::Status(status))),
        status => Err(fatal_status(config, status)),
    }
}
// ANCHOR_END: probe_once

fn fatal_status(config: &Config, status: u16) -> Attempt {
    Attempt::Fatal(Error::Status { url: config.url.to_string(), status })
}
