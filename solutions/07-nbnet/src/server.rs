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
use crate::event_loop::{ACCEPT_BACKOFF, EventLoop, is_out_of_resources, refuse};
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
        self.workers.iter().map(EventLoop::stats).collect()
    }

    /// Runs the workers on their threads and accepts on this one, until shut down.
    ///
    /// # Errors
    ///
    /// When polling fails, or a worker fails or panics.
    pub fn run(mut self) -> Result<(), Error> {
        let handles: Vec<Handle> = self.workers.iter().map(EventLoop::handle).collect();
        let stats = self.stats();
        let threads: Vec<_> = std::mem::take(&mut self.workers)
            .into_iter()
            .enumerate()
            .map(|(index, worker)| {
                std::thread::Builder::new()
                    .name(format!("nbnet-worker-{index}"))
                    .spawn(move || worker.run())
                    .map_err(Error::sys("pthread_create"))
            })
            .collect::<Result<_, _>>()?;
        let accepted = self.accept_loop(&handles, &stats);
        for handle in &handles {
            handle.shutdown();
        }
        let mut result = accepted;
        for (index, thread) in threads.into_iter().enumerate() {
            let joined = thread.join().map_err(|_| Error::WorkerPanicked { index }).and_then(|ran| ran);
            if result.is_ok() {
                result = joined;
            }
        }
        result
    }

    /// Accepts and hands out connections until a shutdown message comes.
    fn accept_loop(&mut self, handles: &[Handle], stats: &[Arc<LoopStats>]) -> Result<(), Error> {
        let mut events = Events::with_capacity(64);
        let mut next = 0;
        let mut retry = false;
        loop {
            let timeout = retry.then_some(ACCEPT_BACKOFF);
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(Error::sys("epoll_wait")(err)),
            }
            let mut accept = std::mem::take(&mut retry);
            for event in events.iter() {
                if event.token() == WAKER {
                    while let Ok(message) = self.inbox.try_recv() {
                        if matches!(message, Message::Shutdown) {
                            return Ok(());
                        }
                    }
                } else {
                    accept = true;
                }
            }
            if accept {
                loop {
                    match self.listener.accept() {
                        Ok((stream, _)) => {
                            let worker = next % handles.len();
                            next += 1;
                            if self.live.load(Ordering::Relaxed) >= self.options.max_conns {
                                refuse(stream, self.service.refusal(), &stats[worker]);
                                continue;
                            }
                            // Counted here, not by the worker, so the limit holds before it runs.
                            self.live.fetch_add(1, Ordering::Relaxed);
                            if !handles[worker].send(Message::Adopt(stream)) {
                                self.live.fetch_sub(1, Ordering::Relaxed);
                            }
                        }
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                        Err(err) if is_out_of_resources(&err) => {
                            // The queue is not empty and no new edge will say so: poll with a
                            // timeout and try again.
                            retry = true;
                            break;
                        }
                        Err(_) => continue,
                    }
                }
            }
        }
    }
}
