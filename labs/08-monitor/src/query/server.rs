//! Serving a [`Router`] over HTTP on a thread of its own until a [`Shutdown`], for a program whose
//! other parts are threads: the agent's `/metrics`, the store's query API.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::Router;

use crate::error::Error;
use crate::shutdown::Shutdown;

/// An HTTP server running on its own thread.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    thread: JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    /// Where it listens (the port chosen when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until it has stopped: after the shutdown, once the requests in flight are answered.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when serving failed.
    pub fn join(self) -> Result<(), Error> {
        match self.thread.join() {
            Ok(result) => result.map_err(Error::sys(format!("serve HTTP on {}", self.addr))),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Binds `addr` now (so that a port in use is an error here, and port 0 is resolved), then serves
/// `router` on a thread with a one-thread tokio runtime until `shutdown`, answering the requests in
/// flight before it stops.
///
/// # Errors
///
/// [`Error::Sys`] when `addr` cannot be bound or the runtime cannot start.
pub fn serve_http(addr: SocketAddr, router: Router, shutdown: &Shutdown) -> Result<HttpServer, Error> {
    let listener = std::net::TcpListener::bind(addr).map_err(Error::sys(format!("bind {addr}")))?;
    listener.set_nonblocking(true).map_err(Error::sys("set the HTTP listener non-blocking"))?;
    let addr = listener.local_addr().map_err(Error::sys("getsockname"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::sys("start the HTTP server's tokio runtime"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    shutdown.on_stop(move || {
        let _ = stop.send(());
    });
    let thread = std::thread::Builder::new()
        .name(format!("http {addr}"))
        .spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
            })
        })
        .map_err(Error::sys("spawn the HTTP server's thread"))?;
    Ok(HttpServer { addr, thread })
}
