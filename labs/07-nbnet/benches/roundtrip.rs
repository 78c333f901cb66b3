//! A loopback round trip through the whole stack: a client's `set` or `get` of a 1 KiB value
//! written to a two-worker memcached server and its answer read back.
//!
//! `cargo lab bench nbnet` runs these on your crate and on the reference.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use nbnet::memcache::{MemcacheService, Store, StoreConfig, SystemClock};
use nbnet::{Options, Server};

/// Writes `request` and reads exactly `answer_len` bytes back.
fn round_trip(stream: &mut TcpStream, request: &[u8], answer: &mut [u8]) {
    stream.write_all(request).expect("write");
    stream.read_exact(answer).expect("read");
}

fn loopback(c: &mut Criterion) {
    let store = Arc::new(Store::new(StoreConfig::default(), Arc::new(SystemClock)));
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        MemcacheService::new(store, 2),
        Options { workers: 2, ..Options::default() },
    )
    .expect("bind");
    let (addr, handle) = (server.local_addr(), server.handle());
    let thread = std::thread::spawn(move || server.run());
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let value = vec![b'v'; 1024];
    let mut set = b"set key 0 0 1024\r\n".to_vec();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    let mut stored = [0; 8];
    c.bench_function("loopback/set_1k", |b| b.iter(|| round_trip(&mut stream, &set, &mut stored)));
    assert_eq!(&stored, b"STORED\r\n");
    let mut value_answer = vec![0; "VALUE key 0 1024\r\n".len() + 1024 + 2 + 5];
    c.bench_function("loopback/get_1k", |b| {
        b.iter(|| round_trip(&mut stream, b"get key\r\n", &mut value_answer))
    });
    assert!(value_answer.ends_with(b"\r\nEND\r\n"));
    handle.shutdown();
    let _ = thread.join();
}

criterion_group!(benches, loopback);
criterion_main!(benches);
