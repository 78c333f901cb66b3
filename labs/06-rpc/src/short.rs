//! The short-connection client: a new connection for every call, closed after the answer. It is
//! here to measure what a long connection saves (a handshake and slow start per call).

use std::net::SocketAddr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::ClientConfig;
use crate::error::Error;
use crate::status::{decode_answer, encode_request};

/// A client that connects once per call.
#[derive(Debug, Clone)]
pub struct ShortClient {
    addr: SocketAddr,
    config: ClientConfig,
}

impl ShortClient {
    /// A client of `addr`.
    pub fn new(addr: SocketAddr, config: ClientConfig) -> ShortClient {
        ShortClient { addr, config }
    }

    /// Connects, calls `method` with raw bytes, and closes.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::call_raw`].
    pub async fn call_raw(&self, method: &str, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        todo!("stage 3: connect once (a Link), make the call, and let the connection close")
    }

    /// Connects, calls `method` with `request` in postcard, decodes the answer, and closes.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::call`].
    pub async fn call<Req, Resp>(&self, method: &str, request: &Req) -> Result<Resp, Error>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let payload = encode_request(method, request)?;
        let answer = self.call_raw(method, payload).await?;
        decode_answer(method, &answer)
    }
}
