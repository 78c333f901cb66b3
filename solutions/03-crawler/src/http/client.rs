//! The HTTP client: one request at a time per connection, connections kept alive and reused per
//! host, redirects followed, every wait bounded by a timeout.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use crate::error::{HttpError, UrlError};
use crate::http::{BodyDecoder, BodyKind, ResponseHead, encode_request};
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
    /// Idle kept-alive connections by `host:port`.
    idle: Mutex<HashMap<String, Vec<TcpStream>>>,
}

/// How one exchange on one connection failed.
struct Failed {
    error: HttpError,
    /// The connection came from the pool and died before answering anything: the server had
    /// closed it while it was idle, and the request is safe to send again on a new one.
    stale: bool,
}

impl From<HttpError> for Failed {
    fn from(error: HttpError) -> Failed {
        Failed { error, stale: false }
    }
}

impl Client {
    /// A client with no connections yet.
    pub fn new(config: ClientConfig) -> Client {
        Client { config, idle: Mutex::new(HashMap::new()) }
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
        // ANCHOR: get
        let mut current = url.clone();
        let mut chain = vec![url.normalize()];
        loop {
            let response = self.get_once(&current).await?;
            if !response.head.is_redirect() {
                return Ok(response);
            }
            let location = response.head.header("location").unwrap_or_default();
            let bad = || HttpError::BadLocation {
                url: current.to_string(),
                status: response.status(),
                location: location.to_owned(),
            };
            if location.is_empty() {
                return Err(bad());
            }
            let next = current.join(location).map_err(|_| bad())?;
            if chain.len() > self.config.max_redirects {
                let limit = self.config.max_redirects;
                return Err(HttpError::TooManyRedirects { url: url.to_string(), limit });
            }
            let key = next.normalize();
            if chain.contains(&key) {
                return Err(HttpError::RedirectLoop { url: url.to_string(), again: key.to_string() });
            }
            chain.push(key);
            current = next;
        }
        // ANCHOR_END: get
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
        // ANCHOR: get_once
        if !url.scheme().eq_ignore_ascii_case("http") {
            return Err(HttpError::UnsupportedScheme { url: url.to_string() });
        }
        let host = url.host().filter(|host| !host.is_empty());
        let host = host.ok_or_else(|| UrlError::NoHost { input: url.to_string() })?;
        let port = url.port_or_default().unwrap_or(80);
        let key = format!("{host}:{port}");
        let request = encode_request(
            "GET",
            url,
            &[("User-Agent", &self.config.user_agent), ("Accept", "*/*"), ("Accept-Encoding", "identity")],
        );
        if let Some(stream) = self.take_idle(&key) {
            match self.exchange(stream, &key, url, &request, true).await {
                Ok(response) => return Ok(response),
                Err(Failed { stale: true, .. }) => {}
                Err(failed) => return Err(failed.error),
            }
        }
        let stream = self.connect(host, port, &key).await?;
        self.exchange(stream, &key, url, &request, false).await.map_err(|failed| failed.error)
        // ANCHOR_END: get_once
    }

    /// How many idle connections the pool holds, over all hosts.
    pub fn idle_connections(&self) -> usize {
        self.idle().values().map(Vec::len).sum()
    }

    async fn connect(&self, host: &str, port: u16, key: &str) -> Result<TcpStream, HttpError> {
        let after = self.config.connect_timeout;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let stream = match timeout(after, TcpStream::connect((host, port))).await {
            Err(_) => return Err(HttpError::ConnectTimeout { addr: key.to_owned(), after }),
            Ok(Err(source)) => return Err(HttpError::Connect { addr: key.to_owned(), source }),
            Ok(Ok(stream)) => stream,
        };
        // Requests are written whole; Nagle's algorithm would only delay them.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// Sends `request` on `stream` and reads the response; returns the connection to the pool when
    /// it can carry another request.
    async fn exchange(
        &self,
        mut stream: TcpStream,
        key: &str,
        url: &Url,
        request: &[u8],
        reused: bool,
    ) -> Result<Response, Failed> {
        // ANCHOR: exchange
        let io = |source| HttpError::Io { url: url.to_string(), source };
        if let Err(source) = stream.write_all(request).await {
            return Err(Failed { error: io(source), stale: reused });
        }
        let mut buf = Vec::with_capacity(8 * 1024);
        let deadline = Instant::now() + self.config.header_timeout;
        let (head, head_len) = loop {
            if let Some((head, len)) = ResponseHead::parse(&buf)? {
                if (100..200).contains(&head.status) && head.status != 101 {
                    // An interim answer (100 Continue): the real one follows.
                    buf.drain(..len);
                    continue;
                }
                break (head, len);
            }
            let after = self.config.header_timeout;
            let stale = reused && buf.is_empty();
            match timeout_at(deadline, stream.read_buf(&mut buf)).await {
                Err(_) => return Err(HttpError::HeaderTimeout { url: url.to_string(), after }.into()),
                Ok(Err(source)) => return Err(Failed { error: io(source), stale }),
                Ok(Ok(0)) => return Err(Failed { error: HttpError::Closed { url: url.to_string() }, stale }),
                Ok(Ok(_)) => {}
            }
        };
        let kind = head.body_kind(false)?;
        let too_large = || HttpError::BodyTooLarge { url: url.to_string(), limit: self.config.max_body };
        if matches!(kind, BodyKind::Length(n) if n > self.config.max_body) {
            return Err(too_large().into());
        }
        let mut decoder = BodyDecoder::new(kind);
        let mut body = Vec::new();
        let used = decoder.decode(&buf[head_len..], &mut body)?;
        let mut extra = buf.len() - head_len - used;
        let deadline = Instant::now() + self.config.body_timeout;
        let mut chunk = vec![0; 16 * 1024];
        while !decoder.is_done() {
            if body.len() as u64 > self.config.max_body {
                return Err(too_large().into());
            }
            let after = self.config.body_timeout;
            let n = match timeout_at(deadline, stream.read(&mut chunk)).await {
                Err(_) => return Err(HttpError::BodyTimeout { url: url.to_string(), after }.into()),
                Ok(Err(source)) => return Err(io(source).into()),
                Ok(Ok(0)) if decoder.finish() => break,
                Ok(Ok(0)) => return Err(HttpError::Truncated { url: url.to_string() }.into()),
                Ok(Ok(n)) => n,
            };
            let used = decoder.decode(&chunk[..n], &mut body)?;
            extra += n - used;
        }
        if body.len() as u64 > self.config.max_body {
            return Err(too_large().into());
        }
        // Bytes after the body would be an answer to nothing: such a connection is not reused.
        if head.keep_alive() && kind != BodyKind::Close && extra == 0 {
            self.put_idle(key, stream);
        }
        Ok(Response { url: url.clone(), head, body })
        // ANCHOR_END: exchange
    }

    fn take_idle(&self, key: &str) -> Option<TcpStream> {
        self.idle().get_mut(key)?.pop()
    }

    fn put_idle(&self, key: &str, stream: TcpStream) {
        let mut idle = self.idle();
        let streams = idle.entry(key.to_owned()).or_default();
        if streams.len() < self.config.max_idle_per_host {
            streams.push(stream);
        }
    }

    /// The idle connections, locked. A thread that panicked holding them left whole streams in
    /// whole vectors: carry on with them.
    fn idle(&self) -> MutexGuard<'_, HashMap<String, Vec<TcpStream>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
