//! Servers and load generators for comparing the reference `rpc` with tarpc on the same echo
//! calls: [`start`] a server of one [`Peer`], then [`load`] it with some concurrent callers and
//! read throughput and latency percentiles from the [`Stats`].
//!
//! The peers answer the same call, a 16-byte `Vec<u8>` echoed back, encoded by each
//! framework's own serde format (postcard for ours, bincode for tarpc):
//!
//! - [`Peer::Long`]: our [`rpc::Client`], one long connection shared by every caller.
//! - [`Peer::Short`]: our [`rpc::ShortClient`], a new connection per call.
//! - [`Peer::Tarpc`]: a tarpc client over TCP with bincode, one connection shared by every caller,
//!   as tarpc's `serde_transport::tcp` sets it up; [`Peer::TarpcNodelay`]: the same with
//!   `TCP_NODELAY`, as ours sets it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::LengthDelimitedCodec;
use tarpc::{client, context, serde_transport};
use tokio::net::TcpStream;

/// The tarpc service: one method, the same echo.
#[tarpc::service]
pub trait Echo {
    /// Answers its argument.
    async fn echo(payload: Vec<u8>) -> Vec<u8>;
}

#[derive(Clone)]
struct EchoServer;

impl Echo for EchoServer {
    async fn echo(self, _: context::Context, payload: Vec<u8>) -> Vec<u8> {
        payload
    }
}

/// Which client and server answer the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// Ours, one long connection.
    Long,
    /// Ours, a connection per call.
    Short,
    /// tarpc, one connection, its own TCP transport (`serde_transport::tcp`, Nagle on).
    Tarpc,
    /// tarpc, one connection, with `TCP_NODELAY` set as ours is.
    TarpcNodelay,
}

impl Peer {
    /// Every peer, in the order of the tables.
    pub const ALL: [Peer; 4] = [Peer::Long, Peer::Short, Peer::Tarpc, Peer::TarpcNodelay];

    /// Its name in tables and benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Long => "ours-long",
            Peer::Short => "ours-short",
            Peer::Tarpc => "tarpc",
            Peer::TarpcNodelay => "tarpc-nodelay",
        }
    }
}

/// The payload of every call.
pub fn payload() -> Vec<u8> {
    vec![7; 16]
}

/// Starts the server of `peer` on a loopback port, on the current runtime.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn start(peer: Peer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    match peer {
        Peer::Long | Peer::Short => {
            let mut service = rpc::Service::new();
            service.method("echo", |call| async move { Ok(call.payload) });
            let server = rpc::Server::new(service, rpc::ServerConfig::default());
            tokio::spawn(server.serve(listener, std::future::pending()));
        }
        Peer::Tarpc | Peer::TarpcNodelay => {
            let nodelay = peer == Peer::TarpcNodelay;
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let channel = BaseChannel::with_defaults(tarpc_transport(stream, nodelay));
                    tokio::spawn(channel.execute(EchoServer.serve()).for_each(|answer| async move {
                        tokio::spawn(answer);
                    }));
                }
            });
        }
    }
    addr
}

/// tarpc's transport over `stream`: length-delimited bincode, as `tarpc::serde_transport::tcp`
/// builds it, with `TCP_NODELAY` if `nodelay`. Without it, Nagle's algorithm coalesces tarpc's
/// unbatched writes under steady load, but the last small write of a burst waits for the peer's
/// delayed ACK (40 ms on Linux); both are measured.
fn tarpc_transport<Item, SinkItem>(
    stream: TcpStream,
    nodelay: bool,
) -> serde_transport::Transport<TcpStream, Item, SinkItem, Bincode<Item, SinkItem>>
where
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    stream.set_nodelay(nodelay).expect("a connected socket");
    serde_transport::new(LengthDelimitedCodec::builder().new_framed(stream), Bincode::default())
}

/// A connected client of one peer, shared by the callers.
pub enum Caller {
    /// Ours, long.
    Long(rpc::Client),
    /// Ours, short.
    Short(rpc::ShortClient),
    /// tarpc.
    Tarpc(EchoClient),
}

impl Caller {
    /// Connects to the server of `peer` at `addr`.
    ///
    /// # Panics
    ///
    /// When the server is not there.
    pub async fn connect(peer: Peer, addr: SocketAddr) -> Caller {
        let config = rpc::ClientConfig::default();
        match peer {
            Peer::Long => Caller::Long(rpc::Client::connect(addr, config).await.expect("our server is up")),
            Peer::Short => Caller::Short(rpc::ShortClient::new(addr, config)),
            Peer::Tarpc | Peer::TarpcNodelay => {
                let stream = TcpStream::connect(addr).await.expect("the tarpc server is up");
                let transport = tarpc_transport(stream, peer == Peer::TarpcNodelay);
                Caller::Tarpc(EchoClient::new(client::Config::default(), transport).spawn())
            }
        }
    }

    /// One echo call.
    ///
    /// # Panics
    ///
    /// When the call fails: a benchmark of failures measures nothing.
    pub async fn echo(&self, payload: &Vec<u8>) -> Vec<u8> {
        match self {
            Caller::Long(client) => client.call("echo", payload).await.expect("an answer"),
            Caller::Short(client) => client.call("echo", payload).await.expect("an answer"),
            Caller::Tarpc(client) => {
                client.echo(context::current(), payload.clone()).await.expect("an answer")
            }
        }
    }
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Calls made.
    pub calls: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// CPU time (user and system) the whole process used during the run: client and server
    /// together. Less sensitive than wall time to other jobs on a shared machine.
    pub cpu: Duration,
    /// Every call's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Stats {
    /// Calls per second.
    pub fn throughput(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU time per call, client and server together.
    pub fn cpu_per_call(&self) -> Duration {
        self.cpu / self.calls.max(1) as u32
    }

    /// The latency at quantile `q` (0.5 is the median).
    pub fn percentile(&self, q: f64) -> Duration {
        let at = ((self.latencies.len() as f64 * q) as usize).min(self.latencies.len().saturating_sub(1));
        self.latencies.get(at).copied().unwrap_or_default()
    }
}

/// Makes `calls` echo calls through `caller`, from `callers` concurrent tasks.
pub async fn load(caller: Arc<Caller>, callers: usize, calls: usize) -> Stats {
    let per_caller = calls.div_ceil(callers);
    let cpu_start = cpu_time();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let caller = Arc::clone(&caller);
        tasks.spawn(async move {
            let payload = payload();
            let mut latencies = Vec::with_capacity(per_caller);
            for _ in 0..per_caller {
                let begin = Instant::now();
                let answer = caller.echo(&payload).await;
                latencies.push(begin.elapsed());
                assert_eq!(answer.len(), payload.len());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(per_caller * callers);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.expect("a caller finished"));
    }
    let elapsed = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_start);
    latencies.sort_unstable();
    Stats { calls: latencies.len(), elapsed, cpu, latencies }
}

/// The user and system CPU time this process has used so far.
fn cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value, and getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to an rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}
