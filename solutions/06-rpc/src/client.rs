//! The long-connection client: one connection multiplexes every concurrent call by request id,
//! and is re-established with exponential backoff when it breaks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::frame::MAX_FRAME;
use crate::link::Link;
use crate::push::Subscription;
use crate::status::{decode_answer, encode_request, encode_request_into};

/// The client's timeouts and limits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// How long a call waits for its answer (also sent as the server's deadline); `None` waits
    /// for ever.
    pub call_timeout: Option<Duration>,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// Connection attempts before a call fails with [`Error::Connect`].
    pub connect_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each one.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// The largest frame accepted, in bytes.
    pub max_frame: usize,
    /// Messages a stream may send before the subscriber takes them (its credit window).
    pub window: u32,
    /// Frames queued for the writer before callers wait.
    pub queue: usize,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            call_timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(5),
            connect_attempts: 4,
            backoff: Duration::from_millis(20),
            backoff_max: Duration::from_secs(1),
            max_frame: MAX_FRAME,
            window: 32,
            queue: 1024,
        }
    }
}

/// A client of one server over one long connection, shared by every call.
///
/// # Examples
///
/// ```no_run
/// # async fn example(addr: std::net::SocketAddr) -> Result<(), rpc::Error> {
/// let client = rpc::Client::connect(addr, rpc::ClientConfig::default()).await?;
/// let words: Vec<String> = client.call("echo", &vec!["hello".to_string()]).await?;
/// assert_eq!(words, ["hello"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    config: ClientConfig,
    /// Shared behind one `Arc`: each call takes a clone, one reference count to bump rather than
    /// the several a `Link` holds.
    link: Mutex<Option<Arc<Link>>>,
    /// Held while connecting, so one caller reconnects and the others wait for it.
    connecting: tokio::sync::Mutex<()>,
}

impl Client {
    /// A client of `addr` that connects on its first call.
    pub fn new(addr: SocketAddr, config: ClientConfig) -> Client {
        Client { addr, config, link: Mutex::new(None), connecting: tokio::sync::Mutex::new(()) }
    }

    /// A client of `addr`, connected.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] when every attempt failed.
    pub async fn connect(addr: SocketAddr, config: ClientConfig) -> Result<Client, Error> {
        let client = Client::new(addr, config);
        client.link().await?;
        Ok(client)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    // ANCHOR: link
    /// The live connection, reconnecting with backoff if there is none.
    async fn link(&self) -> Result<Arc<Link>, Error> {
        if let Some(link) = self.live() {
            return Ok(link);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(link) = self.live() {
            return Ok(link);
        }
        let link = Arc::new(connect_with_backoff(self.addr, &self.config).await?);
        *self.link.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&link));
        Ok(link)
    }
    // ANCHOR_END: link

    fn live(&self) -> Option<Arc<Link>> {
        self.link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|link| !link.is_closed())
            .cloned()
    }

    /// Calls `method` with raw bytes, waiting at most `timeout` (`None`: for ever). Dropping the
    /// future cancels the call on the server.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`], [`Error::ConnectionLost`], [`Error::Timeout`] or the server's
    /// [`Error::Remote`]. A call whose connection broke is not retried: it may have run.
    pub async fn call_raw(
        &self,
        method: &str,
        payload: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        self.call_slice(method, &payload, timeout).await
    }

    /// [`Client::call_raw`] with borrowed bytes: a caller that may send them again (a pool's
    /// failover) keeps them without a copy per attempt.
    pub(crate) async fn call_slice(
        &self,
        method: &str,
        payload: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, Error> {
        self.link().await?.call(method, payload, timeout).await
    }

    /// Calls `method` with `request` encoded in postcard and decodes the answer, within the
    /// configured call timeout.
    ///
    /// # Errors
    ///
    /// As [`Client::call_raw`], and [`Error::Payload`] when a value cannot be encoded or decoded.
    pub async fn call<Req, Resp>(&self, method: &str, request: &Req) -> Result<Resp, Error>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let link = self.link().await?;
        let encode = |out: &mut Vec<u8>| encode_request_into(method, request, out);
        let answer = link.call_with(method, self.config.call_timeout, encode).await?;
        decode_answer(method, &answer)
    }

    /// Subscribes to the stream `method` with `request` encoded in postcard.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] or [`Error::ConnectionLost`]; the server's refusal comes as the
    /// stream's first message.
    pub async fn subscribe<Req: Serialize + ?Sized>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<Subscription, Error> {
        let payload = encode_request(method, request)?;
        self.subscribe_raw(method, payload).await
    }

    /// Subscribes to the stream `method` with raw bytes.
    ///
    /// # Errors
    ///
    /// As [`Client::subscribe`].
    pub async fn subscribe_raw(&self, method: &str, payload: Vec<u8>) -> Result<Subscription, Error> {
        self.link().await?.subscribe(method, payload, self.config.window).await
    }
}

/// Connects to `addr`, trying again after 1, 2, 4… times the backoff, at most the configured
/// number of attempts.
pub(crate) async fn connect_with_backoff(addr: SocketAddr, config: &ClientConfig) -> Result<Link, Error> {
    let mut wait = config.backoff;
    let mut attempt = 1;
    loop {
        match Link::connect(addr, config).await {
            Ok(link) => return Ok(link),
            Err(err) if attempt >= config.connect_attempts.max(1) => return Err(err),
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(config.backoff_max);
                attempt += 1;
            }
        }
    }
}
