//! `memload`: a bounded loopback load generator for memcached servers, the one `compare.sh` runs
//! against both real memcached and `memkv`, so neither gets a different client.
//!
//! It first stores every key (so gets hit), then for a fixed time keeps each of its connections
//! busy with one request at a time, a mix of gets and sets of fixed-size values over a fixed key
//! set chosen by a seeded generator, and checks every answer. It prints one line:
//! `ops=… seconds=… ops_per_sec=… p50_us=… p99_us=… errors=…`. With `--idle N` it instead opens
//! N connections, prints `idle N`, and holds them until its standard input closes.
//!
//! ```text
//! cargo run --release --example memload -- --addr 127.0.0.1:11211 --conns 50 --seconds 10
//! ```

use std::io::{self, BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};

use clap::Parser;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// Loads a memcached server with a get/set mix and reports throughput and latency.
#[derive(Debug, Parser)]
struct Args {
    /// The server.
    #[arg(long, value_name = "ADDR")]
    addr: SocketAddr,
    /// Connections, each with one request in flight.
    #[arg(long, value_name = "N", default_value_t = 50)]
    conns: usize,
    /// Client threads sharing the connections.
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: usize,
    /// How long to run, in seconds.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    seconds: f64,
    /// Bytes per value.
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    value_size: usize,
    /// Distinct keys.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    keys: usize,
    /// Percentage of gets (the rest are sets).
    #[arg(long, value_name = "P", default_value_t = 90)]
    get_percent: u64,
    /// Instead of loading: open this many idle connections and hold them until stdin closes.
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
}

/// One connection's state: its request being written, its answer being read.
struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    started: Instant,
    rng: u64,
}

fn next(rng: &mut u64) -> u64 {
    // xorshift64*: fast, seeded, good enough to pick keys.
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// The length of the complete answer at the start of `input`, and whether it is an error.
fn answer_len(input: &[u8], value_size: usize) -> Option<(usize, bool)> {
    let line_end = input.windows(2).position(|w| w == b"\r\n")? + 2;
    let line = &input[..line_end];
    if line == b"STORED\r\n" || line == b"END\r\n" {
        return Some((line_end, false));
    }
    if line.starts_with(b"VALUE ") {
        let total = line_end + value_size + 2 + 5;
        if input.len() < total {
            return None;
        }
        return Some((total, !input[..total].ends_with(b"\r\nEND\r\n")));
    }
    Some((line_end, true))
}

fn request(conn: &mut Conn, args: &Args, value: &[u8]) {
    let key = next(&mut conn.rng) % args.keys as u64;
    conn.out.clear();
    conn.written = 0;
    if next(&mut conn.rng) % 100 < args.get_percent {
        let _ = write!(conn.out, "get key:{key}\r\n");
    } else {
        let _ = write!(conn.out, "set key:{key} 0 0 {}\r\n", value.len());
        conn.out.extend_from_slice(value);
        conn.out.extend_from_slice(b"\r\n");
    }
    conn.started = Instant::now();
}

/// Writes what it can of the request; false when the connection failed.
fn flush(conn: &mut Conn) -> bool {
    while conn.written < conn.out.len() {
        match conn.stream.write(&conn.out[conn.written..]) {
            Ok(n) => conn.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// One thread's share: `n` connections until `until`. Returns (latencies in µs, errors).
fn load(args: &Args, n: usize, seed: u64, until: Instant) -> io::Result<(Vec<u32>, u64)> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let value = vec![b'v'; args.value_size];
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let std = StdStream::connect(args.addr)?;
        std.set_nodelay(true)?;
        std.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(std);
        poll.registry().register(&mut stream, Token(i), Interest::READABLE | Interest::WRITABLE)?;
        let rng = seed.wrapping_mul(1_000_003).wrapping_add(i as u64 + 1) | 1;
        let mut conn =
            Conn { stream, out: Vec::new(), written: 0, input: Vec::new(), started: Instant::now(), rng };
        request(&mut conn, args, &value);
        conns.push(conn);
    }
    let (mut latencies, mut errors) = (Vec::with_capacity(1 << 20), 0u64);
    let mut buf = vec![0; 64 << 10];
    while Instant::now() < until {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in events.iter() {
            let conn = &mut conns[event.token().0];
            if !flush(conn) {
                return Err(io::Error::other("a connection failed while writing"));
            }
            loop {
                match conn.stream.read(&mut buf) {
                    Ok(0) => return Err(io::Error::other("the server closed a connection")),
                    Ok(got) => conn.input.extend_from_slice(&buf[..got]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            while let Some((len, error)) = answer_len(&conn.input, args.value_size) {
                conn.input.drain(..len);
                errors += u64::from(error);
                latencies.push(conn.started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                request(conn, args, &value);
                if !flush(conn) {
                    return Err(io::Error::other("a connection failed while writing"));
                }
            }
        }
    }
    Ok((latencies, errors))
}

/// Stores every key, 100 per write.
fn preload(args: &Args) -> io::Result<()> {
    let mut stream = StdStream::connect(args.addr)?;
    let value = vec![b'v'; args.value_size];
    let mut answers = io::BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    for batch in (0..args.keys).collect::<Vec<_>>().chunks(100) {
        let mut wire = Vec::new();
        for key in batch {
            let _ = write!(wire, "set key:{key} 0 0 {}\r\n", value.len());
            wire.extend_from_slice(&value);
            wire.extend_from_slice(b"\r\n");
        }
        stream.write_all(&wire)?;
        for _ in batch {
            line.clear();
            answers.read_line(&mut line)?;
            if line != "STORED\r\n" {
                return Err(io::Error::other(format!("preload: {line:?}")));
            }
        }
    }
    Ok(())
}

fn hold_idle(args: &Args, n: usize) -> io::Result<()> {
    let conns: Vec<StdStream> = (0..n).map(|_| StdStream::connect(args.addr)).collect::<io::Result<_>>()?;
    // A round trip on the last one, so the server has accepted them all.
    let mut last = StdStream::connect(args.addr)?;
    last.write_all(b"version\r\n")?;
    let mut answer = [0; 8];
    last.read_exact(&mut answer)?;
    println!("idle {}", conns.len());
    io::stdout().flush()?;
    io::copy(&mut io::stdin(), &mut io::sink())?;
    drop(conns);
    Ok(())
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    if let Some(n) = args.idle {
        return hold_idle(&args, n);
    }
    preload(&args)?;
    let threads = args.threads.max(1);
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(args.seconds);
    let results: Vec<io::Result<(Vec<u32>, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let n = args.conns / threads + usize::from(t < args.conns % threads);
                let args = &args;
                scope.spawn(move || load(args, n, t as u64 + 1, until))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(io::Error::other("panic")))).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for result in results {
        let (l, e) = result?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "ops={} seconds={seconds:.2} ops_per_sec={:.0} p50_us={} p99_us={} errors={errors}",
        latencies.len(),
        latencies.len() as f64 / seconds,
        at(0.50),
        at(0.99)
    );
    Ok(())
}
