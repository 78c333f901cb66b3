//! One agent's connection on the master: the handshake, the hello, then a loop that opens what
//! the agent sends (heartbeats, replies) and seals what the master sends it, until either side
//! closes or the agent is cut off.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Heard, Link, Shared};
use crate::PROTOCOL_VERSION;
use crate::command::millis;
use crate::session::{self, Session, SessionError};
use crate::wire::{FrameReader, ToAgent, ToMaster, Welcome, decode, encode, read_frame};

/// How many messages may wait for one agent's connection: a command rarely follows another
/// quickly, so more waiting means the agent is not reading.
const OUTBOX: usize = 16;

/// Serves one connection until it ends.
pub(super) async fn serve(
    shared: Arc<Shared>,
    mut stream: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    let mut frames = FrameReader::new();
    let greeting = async {
        let (mut session, id, key) =
            session::accept(&mut stream, &mut frames, &shared.config.identity, |id, key| {
                shared.admit(id, key)
            })
            .await?;
        let hello = match read_frame(&mut stream, &mut frames).await? {
            Some(sealed) => decode::<ToMaster>(&session.open(&sealed)?)?,
            None => return Err(SessionError::Closed),
        };
        match hello {
            ToMaster::Hello(hello) if hello.version == PROTOCOL_VERSION => Ok((session, id, key, hello.tags)),
            ToMaster::Hello(hello) => Err(SessionError::Handshake(format!(
                "protocol version {} is not {PROTOCOL_VERSION}",
                hello.version
            ))),
            _ => Err(SessionError::Handshake("the first message is not a hello".into())),
        }
    };
    let (mut session, id, key, tags) =
        match tokio::time::timeout(shared.config.handshake_timeout, greeting).await {
            Ok(Ok(greeted)) => greeted,
            Ok(Err(err)) => {
                tracing::info!(cause = %err, %peer, "agent not admitted");
                return;
            }
            Err(_) => {
                tracing::info!(%peer, "handshake timed out");
                return;
            }
        };
    let (outbox, mut inbox) = mpsc::channel(OUTBOX);
    shared.seen().insert(id.clone(), tags.clone());
    let connection = {
        let mut registry = shared.registry();
        let (connection, old) =
            registry.connect(&id, peer, tags, Instant::now(), SystemTime::now(), Link { outbox, key });
        if old.is_some() {
            tracing::info!(agent = %id, "reconnected: the old connection is closed");
        }
        connection
    };
    tracing::debug!(agent = %id, %peer, "agent connected");
    let welcome = ToAgent::Welcome(Welcome { heartbeat_ms: millis(shared.config.heartbeat) });
    let ended = match session.send(&mut stream, &encode(&welcome)).await {
        Ok(()) => {
            converse(&shared, &mut stream, &mut frames, &mut session, &id, connection, &mut inbox, &shutdown)
                .await
        }
        Err(err) => err.to_string(),
    };
    shared.registry().disconnect(&id, connection);
    tracing::debug!(agent = %id, %peer, cause = %ended, "agent disconnected");
}

/// The loop of an admitted connection; why it ended.
#[allow(clippy::too_many_arguments)]
async fn converse(
    shared: &Shared,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    session: &mut Session,
    id: &str,
    connection: u64,
    inbox: &mut mpsc::Receiver<Arc<[u8]>>,
    shutdown: &CancellationToken,
) -> String {
    let (mut reader, mut writer) = stream.split();
    loop {
        tokio::select! {
            frame = read_frame(&mut reader, frames) => {
                let sealed = match frame {
                    Ok(Some(sealed)) => sealed,
                    Ok(None) => return "closed by the agent".into(),
                    Err(err) => return err.to_string(),
                };
                let message = match session.open(&sealed).map_err(|err| err.to_string()).and_then(|plain| decode::<ToMaster>(&plain).map_err(|err| err.to_string())) {
                    Ok(message) => message,
                    Err(err) => return err,
                };
                if !shared.registry().heard(id, connection, Instant::now()) {
                    return "replaced by a newer connection".into();
                }
                match message {
                    ToMaster::Heartbeat => {
                        if let Err(err) = session.send(&mut writer, &encode(&ToAgent::Heartbeat)).await {
                            return err.to_string();
                        }
                    }
                    ToMaster::Reply(reply) => shared.route(reply.command, id, Heard::Reply(reply)),
                    ToMaster::Job(status) => shared.route(status.command, id, Heard::Job(status)),
                    ToMaster::Hello(_) => return "a second hello".into(),
                }
            }
            message = inbox.recv() => match message {
                Some(message) => {
                    if let Err(err) = session.send(&mut writer, &message).await {
                        return err.to_string();
                    }
                }
                None => return "cut off by the master".into(),
            },
            () = shutdown.cancelled() => return "the master is shutting down".into(),
        }
    }
}
