//! The master's operator socket ([`crate::operator`] has the protocol and the client): each
//! connection asks one thing, and is answered until that is done.

use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::MasterHandle;
use crate::command::unix_ms;
use crate::error::Error;
use crate::operator::{AgentLine, Answer, MAX_LINE, Request};

/// Binds the socket at `path`, readable and writable by its owner only. A socket file left by a
/// master that died is replaced; one a running master answers on is not.
pub(super) async fn bind(path: &Path) -> Result<UnixListener, Error> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(Error::Sys {
                call: format!("bind {}", path.display()),
                source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "another master answers there"),
            });
        }
        std::fs::remove_file(path).map_err(Error::file(path))?;
    }
    let listener = UnixListener::bind(path).map_err(Error::sys(format!("bind {}", path.display())))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(Error::file(path))?;
    Ok(listener)
}

/// Answers operators on `listener` until `shutdown`.
pub(super) async fn serve(listener: UnixListener, master: MasterHandle, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(answer(stream, master.clone(), shutdown.clone()));
                }
                Err(err) => {
                    tracing::warn!(cause = %err, "operator socket: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            () = shutdown.cancelled() => return,
        }
    }
}

/// Reads one request from `stream` and answers it; a connection that goes away ends it.
async fn answer(stream: UnixStream, master: MasterHandle, shutdown: CancellationToken) {
    let (reader, mut writer) = stream.into_split();
    let mut line = Vec::new();
    // One line, and not an endless one.
    let read = BufReader::new(reader.take(MAX_LINE as u64)).read_until(b'\n', &mut line).await;
    let request = match read.map(|_| serde_json::from_slice::<Request>(&line)) {
        Ok(Ok(request)) => request,
        Ok(Err(err)) => {
            let _ = send(&mut writer, &Answer::Error(format!("not a request: {err}"))).await;
            return;
        }
        Err(_) => return,
    };
    let job = match request {
        Request::Agents => {
            let agents = master
                .agents()
                .into_iter()
                .map(|agent| AgentLine {
                    id: agent.id,
                    addr: agent.addr.to_string(),
                    since_ms: unix_ms(agent.since),
                    tags: agent.tags,
                })
                .collect();
            let _ = send(&mut writer, &Answer::Agents(agents)).await;
            return;
        }
        Request::Run { command, options } => {
            master.start(&command, &options).map_err(|refusal| refusal.to_string())
        }
        Request::Follow { job } => {
            master.follow(job).ok_or_else(|| format!("no job {job:016x} on this master"))
        }
    };
    let mut job = match job {
        Ok(job) => job,
        Err(why) => {
            let _ = send(&mut writer, &Answer::Error(why)).await;
            return;
        }
    };
    let started = Answer::Job { id: job.id, hosts: std::mem::take(&mut job.hosts) };
    if send(&mut writer, &started).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = job.next() => match event {
                Some(event) => {
                    if send(&mut writer, &Answer::Event(event)).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            () = shutdown.cancelled() => return,
        }
    }
    // The events end when the job is over, or when the master stops: only the first is said.
    if master.is_over(job.id) {
        let _ = send(&mut writer, &Answer::Over).await;
    }
}

async fn send(writer: &mut tokio::net::unix::OwnedWriteHalf, answer: &Answer) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(answer).expect("answers are plain data");
    line.push(b'\n');
    writer.write_all(&line).await
}
