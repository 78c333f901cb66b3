//! The error a server sends back in an error frame ([`RemoteError`]), and the payload codec
//! ([`to_payload`], [`from_payload`]): serde values in postcard, a compact binary format.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Why a call failed on the server, as a code a program can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The frame's protocol version is not spoken here.
    UnsupportedVersion,
    /// The frame's kind is not known, or not expected in this direction.
    UnknownKind,
    /// The frame is over the maximum size or malformed; the connection closes.
    BadFrame,
    /// No method of that name is registered.
    UnknownMethod,
    /// The payload could not be decoded as the method's argument.
    BadRequest,
    /// The request's deadline passed before the handler finished.
    DeadlineExceeded,
    /// The server is shutting down and did not finish the call in time.
    ShuttingDown,
    /// Too many streams are open on this connection.
    Busy,
    /// The request is not signed, wrongly signed, expired or replayed.
    Unauthenticated,
    /// The request is authenticated but not allowed (a program not on the allow-list).
    Forbidden,
    /// The handler failed.
    Internal,
}

/// An error answered by the server: a code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct RemoteError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// The details.
    pub message: String,
}

impl RemoteError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> RemoteError {
        RemoteError { code, message: message.into() }
    }

    /// An [`ErrorCode::Internal`] error.
    pub fn internal(message: impl Into<String>) -> RemoteError {
        RemoteError::new(ErrorCode::Internal, message)
    }

    /// The error an error frame carries; an internal error if its payload is not one.
    pub(crate) fn from_error_payload(payload: &[u8]) -> RemoteError {
        from_payload(payload).unwrap_or_else(|_| RemoteError::internal("undecodable error frame"))
    }

    /// This error as an error frame's payload.
    pub fn to_payload(&self) -> Vec<u8> {
        // A struct of an enum and a string always serializes.
        to_payload(self).unwrap_or_default()
    }
}

/// `value` in postcard.
///
/// # Errors
///
/// When serde cannot serialize it (a map with non-string keys is fine; a failing `Serialize` impl).
pub fn to_payload<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    todo!("stage 1: encode the value in postcard")
}

/// A `T` from postcard bytes.
///
/// # Errors
///
/// When the bytes are not a `T`.
pub fn from_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    todo!("stage 1: decode the bytes from postcard")
}

/// A call's request in postcard; a failure names the method it was for.
pub(crate) fn encode_request<T: Serialize + ?Sized>(method: &str, request: &T) -> Result<Vec<u8>, Error> {
    to_payload(request).map_err(|source| Error::Payload { method: method.to_owned(), source })
}

/// A call's answer from postcard; a failure names the method it came from.
pub(crate) fn decode_answer<T: DeserializeOwned>(method: &str, answer: &[u8]) -> Result<T, Error> {
    from_payload(answer).map_err(|source| Error::Payload { method: method.to_owned(), source })
}
