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
    // postcard writes byte by byte: room for a small value up front saves growing the vector
    // (a reallocation) several times per call.
    postcard::to_extend(value, Vec::with_capacity(SMALL_PAYLOAD))
}

/// Bytes reserved for a payload before encoding it: most requests and answers fit.
pub(crate) const SMALL_PAYLOAD: usize = 64;

/// A `T` from postcard bytes.
///
/// # Errors
///
/// When the bytes are not a `T`.
pub fn from_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// A call's request in postcard; a failure names the method it was for.
pub(crate) fn encode_request<T: Serialize + ?Sized>(method: &str, request: &T) -> Result<Vec<u8>, Error> {
    let mut payload = Vec::with_capacity(SMALL_PAYLOAD);
    encode_request_into(method, request, &mut payload)?;
    Ok(payload)
}

/// A call's request in postcard, appended to `out` (the request frame being written).
pub(crate) fn encode_request_into<T: Serialize + ?Sized>(
    method: &str,
    request: &T,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    // Through a borrow, so that on a failure `out` keeps what it held (the frame's header), for
    // the frame's encoder to cut back; moved into postcard, it would be lost with the error.
    postcard::to_extend(request, Append(out))
        .map(drop)
        .map_err(|source| Error::Payload { method: method.to_owned(), source })
}

/// Appends to a borrowed vector: postcard's `to_extend` takes its writer by value.
struct Append<'a>(&'a mut Vec<u8>);

impl Extend<u8> for Append<'_> {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, bytes: I) {
        self.0.extend(bytes);
    }
}

/// A call's answer from postcard; a failure names the method it came from.
pub(crate) fn decode_answer<T: DeserializeOwned>(method: &str, answer: &[u8]) -> Result<T, Error> {
    from_payload(answer).map_err(|source| Error::Payload { method: method.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use serde::Serializer;
    use serde::ser::Error as _;

    use super::*;
    use crate::frame::{Kind, encode_with};

    /// A value whose serialization always fails.
    struct Unencodable;

    impl Serialize for Unencodable {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("cannot be encoded"))
        }
    }

    #[test]
    fn a_request_that_cannot_be_encoded_leaves_the_buffer_as_it_was() {
        let mut out = b"frames before".to_vec();
        let encoded = encode_with(Kind::Request, 1, "m", None, &mut out, |out| {
            encode_request_into("m", &Unencodable, out)
        });
        assert!(matches!(encoded, Err(Error::Payload { .. })), "{encoded:?}");
        assert_eq!(out, b"frames before");
    }
}
