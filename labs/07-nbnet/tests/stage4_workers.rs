//! Stage 4: memcached's thread model: one acceptor, N worker loops, new connections handed to the
//! workers round-robin through a channel and a waker; a connection limit; per-worker statistics.

mod common;

use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use common::{Echo, ask, connect, read_line, read_to_close, run_server, start_server};
use nbnet::{LoopStats, Options, Server};
use testkit::test;

fn accepted(server: &common::RunningServer) -> Vec<u64> {
    server.stats.iter().map(|stats| stats.accepted.load(Relaxed)).collect()
}

#[test]
fn connections_are_handed_to_the_workers_round_robin() {
    let server = start_server(Echo, Options { workers: 4, ..Options::default() });
    assert_eq!(server.stats.len(), 4, "one stats block per worker");
    let mut clients = Vec::new();
    for i in 0..8 {
        let mut client = connect(server.addr);
        // Answered, so handed over, before the next one connects: the order is the acceptor's.
        assert_eq!(ask(&mut client, &format!("client {i}")), format!("client {i}"), "the echo of client {i}");
        clients.push(client);
    }
    assert_eq!(accepted(&server), [2, 2, 2, 2], "each worker took every fourth connection");
    let active = || server.stats.iter().map(|stats| stats.active.load(Relaxed)).collect::<Vec<u64>>();
    assert_eq!(active(), [2, 2, 2, 2], "connections open on each worker");
    drop(clients);
    testkit::eventually("every worker drops its closed connections", || active() == [0, 0, 0, 0]);
}

#[test]
fn each_worker_counts_its_own_requests() {
    let server = start_server(Echo, Options { workers: 2, ..Options::default() });
    let mut first = connect(server.addr);
    assert_eq!(ask(&mut first, "one"), "one", "the echo of one");
    let mut second = connect(server.addr);
    for _ in 0..5 {
        assert_eq!(ask(&mut second, "two"), "two", "the echo of two");
    }
    // The counters are updated just after the answers are written: wait for them.
    let requests = || server.stats.iter().map(|stats| stats.requests.load(Relaxed)).collect::<Vec<u64>>();
    let counted = testkit::wait_until(testkit::DEFAULT_DEADLINE, || requests() == [1, 5]);
    assert!(counted, "requests per worker: {:?}", requests());
}

#[test]
fn the_default_is_one_worker_per_core() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(Options::default().worker_count(), cores, "the default worker count");
    assert_eq!(Options { workers: 3, ..Options::default() }.worker_count(), 3, "the worker count asked for");
    let server = Server::bind(common::localhost(), Echo, Options::default()).expect("bind");
    assert_eq!(server.stats().len(), cores, "stats blocks: one per worker");
}

#[test]
fn connections_past_the_limit_are_refused_until_one_closes() {
    let server = start_server(Echo, Options { workers: 2, max_conns: 3, ..Options::default() });
    let mut open: Vec<_> = (0..3).map(|_| connect(server.addr)).collect();
    for client in &mut open {
        assert_eq!(ask(client, "in"), "in", "the echo of in");
    }
    let mut refused = connect(server.addr);
    assert_eq!(
        read_to_close(&mut refused).escape_ascii().to_string(),
        "BUSY\\n",
        "the service's refusal, then the close"
    );
    let refusals: u64 = server.stats.iter().map(|stats| stats.refused.load(Relaxed)).sum();
    assert_eq!(refusals, 1, "refusals over all workers");
    drop(open.pop());
    testkit::eventually("a closed connection frees a place", || {
        let mut client = connect(server.addr);
        let _ = client.write_all(b"retry\n");
        let mut answer = [0; 6];
        std::io::Read::read_exact(&mut client, &mut answer).is_ok() && &answer == b"retry\n"
    });
}

#[test]
fn a_burst_of_connections_past_the_limit_is_refused_by_the_acceptor() {
    let server =
        Server::bind(common::localhost(), Echo, Options { workers: 2, max_conns: 3, ..Options::default() })
            .expect("bind 127.0.0.1:0");
    // All queued before the server runs: the acceptor takes them off the queue faster than any
    // worker can adopt one, so the limit holds only if the acceptor counts them itself.
    let clients: Vec<_> = (0..40).map(|_| connect(server.local_addr())).collect();
    let server = run_server(server);
    let total = |count: fn(&LoopStats) -> &AtomicU64| -> u64 {
        server.stats.iter().map(|stats| count(stats).load(Relaxed)).sum()
    };
    testkit::eventually("every connection is taken on or refused", || {
        total(|s| &s.accepted) + total(|s| &s.refused) == 40
    });
    assert_eq!(total(|s| &s.accepted), 3, "connections taken on by the workers, over all of them");
    assert_eq!(total(|s| &s.refused), 37, "connections refused past the limit");
    drop(clients);
}

#[test]
fn work_on_one_worker_does_not_wait_for_another() {
    let server = start_server(Echo, Options { workers: 2, ..Options::default() });
    let mut heavy = connect(server.addr);
    let mut light = connect(server.addr);
    // The heavy client's 6 MB answer is not read yet; the other worker answers meanwhile.
    heavy.write_all(b"big 6000000\n").expect("write");
    for i in 0..20 {
        assert_eq!(ask(&mut light, &format!("light {i}")), format!("light {i}"), "the echo of light {i}");
    }
    let mut got = 0;
    let mut buf = vec![0; 1 << 20];
    while got < 6_000_001 {
        let n = common::read_some(&mut heavy, &mut buf).expect("read the big answer");
        assert!(n > 0, "the connection closed after {got} bytes");
        got += n;
    }
    assert_eq!(ask(&mut heavy, "done"), "done", "the echo of done");
}

#[test]
fn shutdown_stops_the_acceptor_and_every_worker() {
    let server = start_server(Echo, Options { workers: 3, ..Options::default() });
    let mut clients: Vec<_> = (0..6).map(|_| connect(server.addr)).collect();
    for client in &mut clients {
        client.write_all(b"hello\n").expect("write");
        assert_eq!(read_line(client), "hello", "the line read back");
    }
    server.handle.shutdown();
    let ran = server.done.recv_timeout(testkit::DEFAULT_DEADLINE).expect("run returns after shutdown");
    ran.expect("a clean shutdown");
    for client in &mut clients {
        assert_eq!(
            read_to_close(client).escape_ascii().to_string(),
            "",
            "what the server sent before it closed the connection"
        );
    }
}
