//! `crawler`: an HTTP/1.1 client written over a TCP stream, and a polite concurrent web crawler on
//! top of it. Lab 03 of the course.
//!
//! Given a start URL it fetches the page, finds its links, and fetches those, breadth-first, up to a
//! depth and a number of pages, many requests at once but never too many to one host, obeying each
//! host's `robots.txt`; it reports every URL as a JSON line and can mirror the pages to disk.
//!
//! # Layout
//!
//! - [`http`]: the protocol. A sans-IO core ([`http::encode_request`], [`ResponseHead`],
//!   [`BodyDecoder`]) and the async [`Client`] over [`tokio::net::TcpStream`].
//! - [`url`]: URLs, resolution and normalisation ([`Url`]); [`links`]: finding the links of a
//!   page ([`extract_links`]).
//! - [`robots`]: `robots.txt` ([`Robots`]).
//! - [`frontier`]: the URLs waiting, shallowest first ([`Frontier`]); [`host`]: per-host limits and
//!   politeness ([`Host`]); [`crawl`](mod@crawl): the crawl ([`crawl()`], [`CrawlConfig`]);
//!   [`page`]: one result ([`PageResult`]); [`save`]: mirroring pages to disk ([`save_path`]).
//! - [`config`]: one run ([`Config`]); [`cli`]: the command line; [`run()`]: running it, JSON lines
//!   out; [`error`]: what can go wrong ([`Error`], [`HttpError`], [`UrlError`]).

// The todo!() bodies leave their arguments, and the imports, fields and helpers they will use,
// unused until you write them: delete this line when the lab is done, and the compiler will point
// at anything left over.
#![allow(unused_variables, unused_imports, dead_code)]

pub mod cli;
pub mod config;
pub mod crawl;
pub mod error;
pub mod frontier;
pub mod host;
pub mod http;
pub mod links;
pub mod page;
pub mod robots;
pub mod run;
pub mod save;
pub mod url;

pub use config::Config;
pub use crawl::{CrawlConfig, CrawlSummary, crawl};
pub use error::{Error, HttpError, UrlError};
pub use frontier::Frontier;
pub use host::Host;
pub use http::{BodyDecoder, BodyKind, Client, ClientConfig, Response, ResponseHead};
pub use links::extract_links;
pub use page::PageResult;
pub use robots::Robots;
pub use run::{Outcome, run};
pub use save::save_path;
pub use url::Url;

/// The `User-Agent` sent unless configured otherwise; its product token, `crawler-lab`, is the name
/// `robots.txt` groups are matched against.
pub const DEFAULT_USER_AGENT: &str = "crawler-lab/0.1 (course lab; +https://example.invalid/crawler)";

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
