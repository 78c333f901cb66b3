//! One result of a crawl: what happened to one URL, as one JSON line.

use serde::Serialize;

/// What fetching one URL gave. Written as one JSON object per line:
/// `{"url":…,"status":200,"depth":1,"bytes":5120,"links":12,"ms":3,"error":null,…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageResult {
    /// The URL, normalised.
    pub url: String,
    /// The final status (after redirects and retries), `null` when no response came.
    pub status: Option<u16>,
    /// Links followed from the start page to reach it (the start page is 0).
    pub depth: usize,
    /// Body bytes received.
    pub bytes: u64,
    /// Distinct links found on the page (0 for anything but HTML).
    pub links: usize,
    /// Milliseconds from the first request's start to the end of the last attempt.
    pub ms: u64,
    /// Why the fetch failed, `null` on success (an HTTP error status is a success: it is in `status`).
    pub error: Option<String>,
    /// The `Content-Type` of the response, `null` when none.
    pub content_type: Option<String>,
    /// Requests made for it: 1, or more when it was retried.
    pub attempts: u32,
    /// Where the redirects led, when it was redirected.
    pub redirected_to: Option<String>,
}
