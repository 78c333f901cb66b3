//! memcached's thread model: one acceptor thread and N worker loops. The acceptor takes each new
//! connection off the listen queue and hands it to the next worker, round-robin, through the
//! worker's channel and waker; from then on only that worker touches it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

use crate::error::Error;
use crate::event_loop::{EventLoop, refuse};
use crate::handle::{Handle, Message};
use crate::options::Options;
use crate::service::Service;
use crate::stats::LoopStats;

const WAKER: Token = Token(0);
const LISTENER: Token = Token(1);

/// A server: an acceptor and [`Options::worker_count`] worker loops sharing one `S`.
pub struct Server<S: Service> {
    poll: Poll,
    listener: TcpListener,
    local_addr: SocketAddr,
    handle: Handle,
    inbox: Receiver<Message>,
    workers: Vec<EventLoop<S>>,
    options: Options,
    live: Arc<AtomicUsize>,
    service: Arc<S>,
}

/// Shuts a [`Server`] down from any thread.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    acceptor: Handle,
}

impl ServerHandle {
    /// Stops accepting, lets every worker finish writing, and makes [`Server::run`] return.
    pub fn shutdown(&self) {
        self.acceptor.shutdown();
    }
}

impl<S: Service> Server<S> {
    /// A server listening on `addr`, its workers made but not yet running.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound or a poller cannot be made.
    pub fn bind(addr: SocketAddr, service: S, options: Options) -> Result<Self, Error> {
        let mut listener = TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let local_addr = listener.local_addr().map_err(Error::sys("getsockname"))?;
        let poll = Poll::new().map_err(Error::sys("epoll_create"))?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(Error::sys("epoll_ctl"))?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(Error::sys("eventfd"))?);
        let (sender, inbox) = mpsc::channel();
        let service = Arc::new(service);
        let live = Arc::new(AtomicUsize::new(0));
        let workers = (0..options.worker_count())
            .map(|_| EventLoop::worker(Arc::clone(&service), options.clone(), Arc::clone(&live)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Server {
            poll,
            listener,
            local_addr,
            handle: Handle::new(sender, waker),
            inbox,
            workers,
            options,
            live,
            service,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle to shut the server down.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle { acceptor: self.handle.clone() }
    }

    /// Each worker's counters, in worker order.
    pub fn stats(&self) -> Vec<Arc<LoopStats>> {
        todo!("stage 4: each worker's stats, in order")
    }

    // TODO(stage 4): the acceptor counts a connection in `live` before handing it over, so the limit
    // holds however many come at once; then the worker's Handle (channel and waker) takes it.
    /// Runs the workers on their threads and accepts on this one, until shut down.
    ///
    /// # Errors
    ///
    /// When polling fails, or a worker fails or panics.
    pub fn run(self) -> Result<(), Error> {
        todo!(
            "stage 4: run each worker on its own thread, accept here and hand connections round-robin, then shut the workers down and join them"
        )
    }
}
