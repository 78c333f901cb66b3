//! etcd's JSON gateway, asked over HTTP/1.1: one request, one connection, a deadline. etcd
//! serves its v3 API as JSON on its client port (`POST /v3/kv/range`, `/v3/lease/grant`, …), so
//! the platform needs no gRPC stack to hold a lease.
//!
//! Plumbing, not the lesson: given.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::lease::LeaseError;

/// The longest one request to etcd may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// POSTs `body` to `path` on the gateway at `endpoint` (`host:port`) and reads the JSON answer.
///
/// # Errors
///
/// [`LeaseError::Etcd`] when etcd cannot be reached within [`REQUEST_TIMEOUT`], answers with a
/// status other than 2xx, or with what is not JSON.
pub async fn post(endpoint: &str, path: &str, body: &Value) -> Result<Value, LeaseError> {
    let fail = |reason: String| LeaseError::Etcd { endpoint: endpoint.to_string(), reason };
    let exchange = async {
        let stream = TcpStream::connect(endpoint).await.map_err(|err| fail(format!("connect: {err}")))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| fail(format!("{path}: {err}")))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = hyper::Request::post(path)
            .header(hyper::header::HOST, endpoint)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|err| fail(format!("{path}: {err}")))?;
        let response = sender.send_request(request).await.map_err(|err| fail(format!("{path}: {err}")))?;
        let status = response.status();
        let bytes =
            response.into_body().collect().await.map_err(|err| fail(format!("{path}: {err}")))?.to_bytes();
        if !status.is_success() {
            return Err(fail(format!("{path} answered {status}: {}", String::from_utf8_lossy(&bytes))));
        }
        serde_json::from_slice(&bytes).map_err(|err| fail(format!("{path}: {err}")))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(fail(format!("{path}: no answer within {REQUEST_TIMEOUT:?}"))))
}
