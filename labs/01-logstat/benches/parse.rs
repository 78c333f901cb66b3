//! Parsing one line: the regex parser against the hand parser, on realistic generated lines.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datasets::nginx::{LogGenerator, LogSpec};

fn parse(c: &mut Criterion) {
    let lines: Vec<Vec<u8>> =
        LogGenerator::new(LogSpec::default()).take(10_000).map(|line| line.text).collect();
    let bytes: usize = lines.iter().map(|line| line.len() + 1).sum();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("regex", |b| {
        b.iter(|| lines.iter().filter(|line| logstat::parse_line_regex(black_box(line)).is_ok()).count())
    });
    group.bench_function("hand", |b| {
        b.iter(|| lines.iter().filter(|line| logstat::parse_line(black_box(line)).is_ok()).count())
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
