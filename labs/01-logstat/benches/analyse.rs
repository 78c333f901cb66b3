//! A whole analysis, `logstat top --by url`, over a generated log in memory: on one thread and on two.

use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datasets::nginx::{LogSpec, write_log};
use logstat::{Command, Config, Field};

fn analyse(c: &mut Criterion) {
    let mut log = Vec::new();
    write_log(&LogSpec::default(), 32 << 20, &mut log).expect("writing to memory cannot fail");
    let mut group = c.benchmark_group("top-url");
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.sample_size(10);
    for threads in [1, 2] {
        let mut config = Config::new(Command::Top { field: Field::Url, n: 10 }, vec![]);
        config.threads = threads;
        group.bench_function(format!("{threads}-thread"), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                logstat::run(&config, &mut &log[..], &mut out, &AtomicBool::new(false))
                    .expect("in-memory run");
                out
            })
        });
    }
    group.finish();
}

criterion_group!(benches, analyse);
criterion_main!(benches);
