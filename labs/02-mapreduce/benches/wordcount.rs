//! Word count over a generated 16 MiB text, on one worker thread and on two.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datasets::text::{TextSpec, write_text};
use mapreduce::{JobConfig, WordCount};

fn wordcount(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("text.txt");
    let mut text = Vec::new();
    write_text(&TextSpec::default(), 16 << 20, &mut text).expect("writing to memory cannot fail");
    std::fs::write(&path, &text).expect("writing the text");
    let inputs = vec![path];
    let mut group = c.benchmark_group("wordcount");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    for workers in [1, 2] {
        let config = JobConfig { workers, reducers: 4, split_size: 1 << 20, ..JobConfig::default() };
        group.bench_function(format!("{workers}-worker"), |b| {
            b.iter(|| mapreduce::run_job(&WordCount, &inputs, &config).expect("in-memory run"))
        });
    }
    group.finish();
}

criterion_group!(benches, wordcount);
criterion_main!(benches);
