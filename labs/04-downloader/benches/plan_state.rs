//! Planning chunks and encoding the state file: the work done between transfers, which must stay
//! negligible beside them even for the largest plans.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use downloader::{State, Validator, plan};

fn plan_chunks(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    // 1 GiB in the default 4 MiB chunks, and 4 GiB in 64 KiB chunks (65,536 of them).
    group.bench_function("1GiB/4MiB", |b| b.iter(|| plan(black_box(1 << 30), black_box(4 << 20)).len()));
    group.bench_function("4GiB/64KiB", |b| b.iter(|| plan(black_box(4 << 30), black_box(64 << 10)).len()));
    group.finish();
}

fn state_file(c: &mut Criterion) {
    let size: u64 = 4 << 30;
    let chunk_size = 64 << 10;
    let validator = Validator {
        etag: Some("\"5f3c-61a2b-1a2b3c4d5e6f\"".to_owned()),
        last_modified: Some("Mon, 02 Mar 2026 10:00:00 GMT".to_owned()),
    };
    let mut state = State::new(size, chunk_size, validator);
    for (i, done) in state.progress.iter_mut().enumerate() {
        *done = if i % 3 == 0 { chunk_size } else { (i as u64 * 977) % chunk_size };
    }
    let bytes = state.encode();
    let mut group = c.benchmark_group("state");
    group.bench_function("encode/65536-chunks", |b| b.iter(|| black_box(&state).encode().len()));
    group.bench_function("decode/65536-chunks", |b| b.iter(|| State::decode(black_box(&bytes)).is_ok()));
    group.finish();
}

criterion_group!(benches, plan_chunks, state_file);
criterion_main!(benches);
