//! Sessions: a Noise handshake at connect time authenticates both ends over their enrolled keys,
//! and then every frame is sealed ([`Session::seal`], [`Session::open`]).
//!
//! The pattern is IK: the agent knows the master's key before it dials (it pinned it), and its own
//! key travels, encrypted, in the first message. One round trip: the agent's first message
//! carries its id, the master's answer carries its verdict (admitted, pending, refused), sealed
//! under keys only the two ends have. After it each side holds a pair of ChaCha20-Poly1305 keys
//! and a message counter per direction: a frame tampered with, replayed, dropped or taken from
//! another session fails to open, and the connection closes. The prologue names the protocol's
//! version, so a peer of another version cannot complete a handshake: no downgrade.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::keys::{Admission, Identity, PublicKey};
use crate::wire::{FrameReader, MAX_FRAME, WireError, decode, encode, read_frame, write_frame};

/// The Noise protocol: IK handshake, X25519, ChaCha20-Poly1305, BLAKE2s.
pub const NOISE_PARAMS: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";

/// Mixed into the handshake: both ends must agree on it, version included.
const PROLOGUE: &[u8] = b"control protocol 1";

/// The bytes sealing adds to a message: Poly1305's tag.
const TAG: usize = 16;

/// The longest message a session seals into one frame.
pub const MAX_MESSAGE: usize = MAX_FRAME - TAG;

/// Why a handshake or a sealed frame failed: that connection closes, the others carry on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The connection failed or carried a bad frame.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The peer closed the connection during the handshake.
    #[error("the peer closed the connection during the handshake")]
    Closed,
    /// The handshake did not complete: a malformed message, or a peer without the expected key.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// The master would not let this agent in: pending, rejected, or a key that does not match.
    #[error("refused by the master: {0}")]
    Refused(String),
    /// A sealed frame did not open: tampered with, replayed, out of order or from another session.
    #[error("a frame did not open: tampered with, replayed or out of order")]
    Open,
    /// A message too long to seal into one frame.
    #[error("a message of {len} bytes is over the limit of {MAX_MESSAGE}")]
    TooLong {
        /// Its length.
        len: usize,
    },
}

/// An established session: seals what this end sends, opens what it receives.
pub struct Session {
    transport: snow::TransportState,
}

impl Session {
    /// Seals `message` into a frame's payload.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLong`] for a message over [`MAX_MESSAGE`].
    pub fn seal(&mut self, message: &[u8]) -> Result<Vec<u8>, SessionError> {
        if message.len() > MAX_MESSAGE {
            return Err(SessionError::TooLong { len: message.len() });
        }
        let mut sealed = vec![0; message.len() + TAG];
        let len = self.transport.write_message(message, &mut sealed).map_err(|_| SessionError::Open)?;
        sealed.truncate(len);
        Ok(sealed)
    }

    /// Seals `message` and writes it as one frame.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLong`] as [`Session::seal`]; [`SessionError::Wire`] when the write fails.
    pub async fn send<W: AsyncWrite + Unpin>(
        &mut self,
        writer: &mut W,
        message: &[u8],
    ) -> Result<(), SessionError> {
        let sealed = self.seal(message)?;
        Ok(write_frame(writer, &sealed).await?)
    }

    /// Opens a frame's payload the peer sealed.
    ///
    /// # Errors
    ///
    /// [`SessionError::Open`] when it does not open, as it must not if it was changed, replayed,
    /// reordered, or sealed by another session.
    pub fn open(&mut self, sealed: &[u8]) -> Result<Vec<u8>, SessionError> {
        let mut message = vec![0; sealed.len()];
        let len = self.transport.read_message(sealed, &mut message).map_err(|_| SessionError::Open)?;
        message.truncate(len);
        Ok(message)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}

/// The agent's first handshake message's payload.
#[derive(Serialize, Deserialize)]
struct Introduction {
    id: String,
    key: [u8; 32],
}

/// The master's answer's payload.
#[derive(Serialize, Deserialize)]
enum Verdict {
    Admitted,
    Pending,
    Refused(String),
}

/// The agent's side: introduces itself as `id` to the master holding `master`'s key, over
/// `stream`. Frames read past the handshake stay in `frames`.
///
/// # Errors
///
/// [`SessionError::Refused`] when the master refuses the agent (pending or rejected);
/// [`SessionError::Handshake`] when the peer does not hold `master`'s key or breaks the protocol;
/// [`SessionError::Closed`] or [`SessionError::Wire`] when the connection fails.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    frames: &mut FrameReader,
    identity: &Identity,
    id: &str,
    master: &PublicKey,
) -> Result<Session, SessionError> {
    let mut handshake = handshake(identity, Some(master))?;
    let introduction = encode(&Introduction { id: id.to_owned(), key: identity.public().to_bytes() });
    let mut first = vec![0; MAX_FRAME];
    let len = handshake.write_message(&introduction, &mut first).map_err(noise)?;
    write_frame(stream, &first[..len]).await?;

    let answer = read_frame(stream, frames).await?.ok_or(SessionError::Closed)?;
    let mut payload = vec![0; answer.len()];
    let len = handshake.read_message(&answer, &mut payload).map_err(noise)?;
    match decode::<Verdict>(&payload[..len])? {
        Verdict::Admitted => Ok(Session { transport: handshake.into_transport_mode().map_err(noise)? }),
        Verdict::Pending => {
            Err(SessionError::Refused(format!("{id} is pending: an operator must accept its key")))
        }
        Verdict::Refused(reason) => Err(SessionError::Refused(reason)),
    }
}

/// The master's side: reads an agent's introduction over `stream`, asks `admit` about the id and
/// key it proved, and answers. Gives the session, the agent's id and its key.
///
/// # Errors
///
/// [`SessionError::Refused`] when `admit` did not admit the agent (it was told why);
/// [`SessionError::Handshake`] for a malformed introduction or one whose key is not the key the
/// handshake proved; [`SessionError::Closed`] or [`SessionError::Wire`] when the connection fails.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    frames: &mut FrameReader,
    identity: &Identity,
    admit: impl FnOnce(&str, &PublicKey) -> Admission,
) -> Result<(Session, String, PublicKey), SessionError> {
    let mut handshake = handshake(identity, None)?;
    let first = read_frame(stream, frames).await?.ok_or(SessionError::Closed)?;
    let mut payload = vec![0; first.len()];
    let len = handshake.read_message(&first, &mut payload).map_err(noise)?;
    let introduction: Introduction = decode(&payload[..len])?;
    let key = PublicKey::from_bytes(&introduction.key).map_err(SessionError::Handshake)?;
    // The handshake proved the agent holds the X25519 key it sent; the introduction must name the
    // ed25519 key that key comes from, or anyone could claim an enrolled key they do not hold.
    if handshake.get_remote_static() != Some(&key.noise_public()[..]) {
        return Err(SessionError::Handshake("the introduced key is not the key of the handshake".into()));
    }
    let verdict = match admit(&introduction.id, &key) {
        Admission::Admit => Verdict::Admitted,
        Admission::Pending => Verdict::Pending,
        Admission::Refused(reason) => Verdict::Refused(reason),
    };
    let mut answer = vec![0; MAX_FRAME];
    let len = handshake.write_message(&encode(&verdict), &mut answer).map_err(noise)?;
    write_frame(stream, &answer[..len]).await?;
    match verdict {
        Verdict::Admitted => {
            Ok((Session { transport: handshake.into_transport_mode().map_err(noise)? }, introduction.id, key))
        }
        Verdict::Pending => Err(SessionError::Refused(format!("{} is pending", introduction.id))),
        Verdict::Refused(reason) => Err(SessionError::Refused(reason)),
    }
}

/// A handshake with `identity`'s key: the agent's, which knows the master's key, or the
/// master's (`master` is `None`), which learns the agent's.
fn handshake(identity: &Identity, master: Option<&PublicKey>) -> Result<snow::HandshakeState, SessionError> {
    let params = NOISE_PARAMS.parse().map_err(noise)?;
    let secret = identity.noise_secret();
    let builder = snow::Builder::new(params)
        .prologue(PROLOGUE)
        .and_then(|builder| builder.local_private_key(&secret))
        .map_err(noise)?;
    let built = match master {
        Some(master) => {
            let public = master.noise_public();
            builder.remote_public_key(&public).and_then(|builder| builder.build_initiator())
        }
        None => builder.build_responder(),
    };
    built.map_err(noise)
}

fn noise(err: snow::Error) -> SessionError {
    SessionError::Handshake(err.to_string())
}
