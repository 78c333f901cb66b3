//! What the records cost on SQLite, embedded in a temporary file: a run's 10,000 host results
//! written as one batch (the platform's goal is every result in SQL within 2 s of the last), and
//! the host list of a 1,000-host fleet read back with its tags.
//!
//! `cargo lab bench platform` runs these on your crate and on the reference; the comparison script
//! runs the same batch on MariaDB.

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use platform::records::{Host, HostResult, NewRun, Records};

fn fleet(n: usize) -> Vec<Host> {
    (0..n)
        .map(|i| Host {
            name: format!("web{i:05}"),
            tags: BTreeMap::from([("dc".into(), ["bj", "sh"][i % 2].into()), ("role".into(), "web".into())]),
            added: 0,
        })
        .collect()
}

fn results(hosts: &[String]) -> Vec<HostResult> {
    hosts
        .iter()
        .map(|host| HostResult {
            host: host.clone(),
            status: "done".into(),
            exit_code: Some(0),
            output: format!("{host} up 3 days\n"),
            ended: 1,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let records = runtime.block_on(Records::open(&url)).unwrap();
    runtime.block_on(records.upsert_hosts(&fleet(1_000))).unwrap();

    let mut group = c.benchmark_group("records");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(10);

    let hosts: Vec<String> = (0..10_000).map(|i| format!("sim{i:05}")).collect();
    group.throughput(Throughput::Elements(hosts.len() as u64));
    group.bench_function("record 10,000 results in one batch", |b| {
        b.iter_batched(
            || {
                let run = NewRun {
                    user: "bench".into(),
                    target: "*".into(),
                    command: vec!["/bin/true".into()],
                    hosts: hosts.clone(),
                    started: 0,
                };
                (runtime.block_on(records.start_run(&run)).unwrap(), results(&hosts))
            },
            |(run, results)| runtime.block_on(records.record_results(run, &results)).unwrap(),
            BatchSize::PerIteration,
        )
    });

    group.throughput(Throughput::Elements(1_000));
    group.bench_function("list 1,000 hosts with their tags", |b| {
        b.iter(|| runtime.block_on(records.hosts()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
