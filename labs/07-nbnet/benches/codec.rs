//! What the loop pays per request before any handler runs: cutting nbNet length frames and lines
//! out of a read buffer, and parsing memcached commands.
//!
//! `cargo lab bench nbnet` runs these on your crate and on the reference.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nbnet::memcache::MemcacheCodec;
use nbnet::{Codec, LengthCodec, LineCodec};

/// Decodes every request in `wire` with `codec`; returns how many.
fn decode_all<C: Codec>(codec: &mut C, wire: &[u8]) -> usize {
    let (mut at, mut count) = (0, 0);
    while let Ok(Some((request, used))) = codec.decode(&wire[at..]) {
        black_box(request);
        at += used;
        count += 1;
    }
    count
}

fn frames(c: &mut Criterion) {
    let mut length = LengthCodec::default();
    let mut wire = Vec::new();
    for i in 0..1000 {
        length.encode(format!("message number {i} with some payload").into_bytes(), &mut wire);
    }
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("length_decode_1000", |b| b.iter(|| decode_all(&mut length, black_box(&wire))));
    let lines: String = (0..1000).map(|i| format!("line number {i} with some text\r\n")).collect();
    let mut line = LineCodec::default();
    group.bench_function("line_decode_1000", |b| {
        b.iter(|| decode_all(&mut line, black_box(lines.as_bytes())))
    });
    group.finish();
}

fn memcached(c: &mut Criterion) {
    let mut gets = Vec::new();
    let mut sets = Vec::new();
    let value = vec![b'v'; 1024];
    for i in 0..1000 {
        gets.extend_from_slice(format!("get key:{i}\r\n").as_bytes());
        sets.extend_from_slice(format!("set key:{i} 0 0 1024\r\n").as_bytes());
        sets.extend_from_slice(&value);
        sets.extend_from_slice(b"\r\n");
    }
    let multi: String =
        format!("get {}\r\n", (0..100).map(|i| format!("key:{i}")).collect::<Vec<_>>().join(" "));
    let mut codec = MemcacheCodec::default();
    let mut group = c.benchmark_group("memcached_parse");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("get_1000", |b| b.iter(|| decode_all(&mut codec, black_box(&gets))));
    group.bench_function("set_1k_1000", |b| b.iter(|| decode_all(&mut codec, black_box(&sets))));
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_100_keys", |b| b.iter(|| decode_all(&mut codec, black_box(multi.as_bytes()))));
    group.finish();
}

criterion_group!(benches, frames, memcached);
criterion_main!(benches);
