//! A loopback web server for the HTTP labs' tests (crawler, downloader), able to misbehave on purpose.
//!
//! A test builds a [`Site`] (paths mapped to [`Route`]s, each with optional [`Fault`]s), starts a
//! [`WebServer`] on `127.0.0.1:0`, points the code under test at [`WebServer::url`], and afterwards reads
//! the server's [`RequestRecord`] log to check what was asked: how many requests were in flight at once,
//! how far apart they came, which byte ranges were requested.
//!
//! ```no_run
//! use testkit::web::{Fault, Route, Site, WebServer};
//!
//! let site = Site::new()
//!     .page("/", r#"<a href="/a">a</a>"#)
//!     .route("/a", Route::html("<p>slow</p>").with(Fault::Delay(std::time::Duration::from_millis(50))));
//! let server = WebServer::start(site);
//! let url = server.url("/");
//! // … run the crawler on `url` …
//! assert!(server.max_in_flight() <= 2);
//! ```
//!
//! Every route answers `GET` and `HEAD`; bodies of `200` answers carry `Accept-Ranges: bytes`, a strong
//! `ETag` derived from the body, and a fixed `Last-Modified`, and a single `Range: bytes=…` request is
//! answered with `206 Partial Content` (or `416` when unsatisfiable) unless a fault says otherwise. An
//! unknown path is a `404`. Dropping the server stops it and closes every connection, including the
//! ones a [`Fault::Stall`] or [`Fault::NeverEnds`] is holding open.
//!
//! The answers are deterministic: no `Date` header, `Server: testkit`, `ETag` the quoted hex of the
//! body's 64-bit FNV-1a hash, `Last-Modified: Mon, 02 Nov 2026 10:00:00 GMT` (a route's own `ETag` or
//! `Last-Modified` header replaces these). `If-Range` is honoured. Connections are kept alive for
//! HTTP/1.1 unless the request says `Connection: close`; pipelined requests are answered in order.
//! A request the server cannot parse is answered `400` and its connection closed; it is not logged.
//!
//! # Layout
//!
//! - `site.rs`, `route.rs`, `fault.rs`: what to serve ([`Site`], [`Route`], [`Fault`]).
//! - `server.rs`: [`WebServer`], its accept loop and the state its threads share.
//! - `connection.rs`: one connection's loop, where the faults act; `writer.rs`: writing an answer.
//! - `request.rs`, `range.rs`, `answer.rs`: reading requests, `Range` headers, building answers.
//! - `log.rs`: the [`RequestRecord`] log and the in-flight count.
//! - `shutdown.rs`, `socket.rs`: stopping everything on drop; the TCP reset.
//! - `generated.rs`: [`SiteSpec`], a large generated site with known link depths.

mod answer;
mod connection;
mod fault;
mod generated;
mod log;
mod range;
mod request;
mod route;
mod server;
mod shutdown;
mod site;
mod socket;
mod writer;

pub use fault::Fault;
pub use generated::{GeneratedSite, SiteSpec};
pub use log::RequestRecord;
pub use route::Route;
pub use server::WebServer;
pub use site::Site;
