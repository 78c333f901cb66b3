//! One path's answer: status, headers, body, and any faults.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::Fault;
use super::answer::reason;

/// What the server answers for one path. Build with [`Route::html`], [`Route::ok`],
/// [`Route::status`] or [`Route::redirect`], then adjust with [`Route::header`] and [`Route::with`].
#[derive(Debug, Clone)]
pub struct Route {
    /// The status code of a normal answer.
    pub status: u16,
    /// Extra headers sent with every answer (the server adds `Content-Length`, `ETag` and the like).
    /// A header named like one the server adds by default (`Server`, `Content-Type`, `ETag`,
    /// `Last-Modified`, `Accept-Ranges`) replaces it; the framing headers (`Content-Length`,
    /// `Content-Range`, `Transfer-Encoding`, `Connection`) are the server's alone and are not sent
    /// from here.
    pub headers: Vec<(String, String)>,
    /// The full body; range requests are answered from it.
    pub body: Arc<[u8]>,
    /// Deliberate misbehaviours, applied in order.
    pub faults: Vec<Fault>,
}

impl Route {
    /// A `200 OK` HTML page.
    pub fn html(body: impl Into<String>) -> Route {
        Route::ok("text/html; charset=utf-8", body.into().into_bytes())
    }

    /// A `200 OK` answer with this content type and body (images, text, a large binary file…).
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route::with_body(200, content_type, body.into().into())
    }

    /// An answer with this status and a short plain-text body naming it (`404`, `500`, `503`…).
    pub fn status(code: u16) -> Route {
        let text = format!("{code} {}\n", reason(code));
        Route::with_body(code, "text/plain; charset=utf-8", text.into_bytes().into())
    }

    /// A redirect (`301`, `302`, `303`, `307` or `308`) to `location`, which is sent as given
    /// (absolute or relative).
    pub fn redirect(code: u16, location: &str) -> Route {
        let text = format!("{code} {}: {location}\n", reason(code));
        Route::with_body(code, "text/plain; charset=utf-8", text.into_bytes().into())
            .header("Location", location)
    }

    /// Adds a header to every answer of this route.
    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a fault.
    pub fn with(mut self, fault: Fault) -> Route {
        self.faults.push(fault);
        self
    }

    /// The first of this route's own headers with this name, compared case-insensitively.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn with_body(status: u16, content_type: &str, body: Arc<[u8]>) -> Route {
        Route {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body,
            faults: Vec::new(),
        }
    }
}

/// A route as the server holds it: the route, its entity tag (computed once, on first use, because
/// hashing a large body on every request would dominate a download benchmark), and one request
/// counter per fault for the counted faults ([`Fault::FailTimes`], [`Fault::ResetTimes`]).
#[derive(Debug)]
pub(super) struct ServedRoute {
    pub(super) route: Route,
    etag: OnceLock<String>,
    counters: Vec<AtomicUsize>,
}

impl ServedRoute {
    pub(super) fn new(route: Route) -> ServedRoute {
        let counters = route.faults.iter().map(|_| AtomicUsize::new(0)).collect();
        ServedRoute { route, etag: OnceLock::new(), counters }
    }

    /// The strong entity tag of the body: a quoted FNV-1a hash in hex.
    pub(super) fn etag(&self) -> &str {
        self.etag.get_or_init(|| format!("\"{:016x}\"", fnv1a(&self.route.body)))
    }

    /// Counts one more request reaching fault number `index`; returns how many came before it.
    pub(super) fn count(&self, index: usize) -> usize {
        self.counters[index].fetch_add(1, Ordering::SeqCst)
    }
}

/// The 64-bit FNV-1a hash: tiny, dependency-free, and stable across releases.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}
