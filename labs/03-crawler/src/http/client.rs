//! The HTTP client: one request at a time per connection, connections kept alive and reused per
//! host, redirects followed, every wait bounded by a timeout.

use std::time::Duration;

use crate::error::HttpError;
use crate::http::ResponseHead;
use crate::url::Url;

/// The client's limits and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// How long to wait for the TCP connection.
    pub connect_timeout: Duration,
    /// How long to wait, once the request is sent, for the complete response head.
    pub header_timeout: Duration,
    /// How long the whole body may take once the head has arrived (a total, not an idle time:
    /// a server trickling bytes forever still hits it).
    pub body_timeout: Duration,
    /// The largest body accepted. A larger one is an error ([`HttpError::BodyTooLarge`]), not a
    /// truncated response: a crawler must not parse half a page as if it were the page.
    pub max_body: u64,
    /// How many redirects to follow before giving up ([`HttpError::TooManyRedirects`]).
    pub max_redirects: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How many idle connections to keep per host.
    pub max_idle_per_host: usize,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_body: 16 * 1024 * 1024,
            max_redirects: 10,
            user_agent: crate::DEFAULT_USER_AGENT.to_owned(),
            max_idle_per_host: 16,
        }
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL that gave this response: the one requested, or where its redirects led.
    pub url: Url,
    /// The status line and headers.
    pub head: ResponseHead,
    /// The decoded body (de-chunked; no content coding is asked for, so none is undone).
    pub body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// Whether the `Content-Type` is `text/html` (any parameters, any case).
    pub fn is_html(&self) -> bool {
        self.head.header("content-type").is_some_and(|value| {
            value.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/html")
        })
    }
}

/// An HTTP/1.1 client over plain TCP. Share it between tasks (`Arc<Client>`): the pool of idle
/// connections is behind a lock that is never held across an `.await`.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    // TODO(stage 1): a pool of idle kept-alive connections (tokio::net::TcpStream) by host and
    // port, behind a std::sync::Mutex.
}

impl Client {
    /// A client with no connections yet.
    pub fn new(config: ClientConfig) -> Client {
        Client { config }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `GET url`, following redirects (301, 302, 303, 307, 308; relative `Location`s resolved
    /// against the URL that sent them) up to [`ClientConfig::max_redirects`].
    ///
    /// # Errors
    ///
    /// Everything [`Client::get_once`] reports, and [`HttpError::TooManyRedirects`],
    /// [`HttpError::RedirectLoop`] (a URL seen twice in one chain, compared normalised) and
    /// [`HttpError::BadLocation`].
    pub async fn get(&self, url: &Url) -> Result<Response, HttpError> {
        todo!("stage 1: get_once, and while the answer is a redirect, join its Location and go again")
    }

    /// `GET url`, one exchange, no redirect followed. Reuses an idle connection to the same host
    /// and port when there is one; if that connection turns out to have been closed by the server
    /// (it fails before any byte of an answer), sends the request once more on a new connection.
    ///
    /// # Errors
    ///
    /// [`HttpError::UnsupportedScheme`] for anything but `http:`, a URL without a host, a failed or
    /// slow connect, a head or body not complete in time, a reset, a body larger than the cap, a
    /// malformed head or body.
    pub async fn get_once(&self, url: &Url) -> Result<Response, HttpError> {
        todo!("stage 1: take an idle connection or connect, write the request, read the head and the body")
    }

    /// How many idle connections the pool holds, over all hosts.
    pub fn idle_connections(&self) -> usize {
        todo!("stage 1: count the pooled connections")
    }
}
