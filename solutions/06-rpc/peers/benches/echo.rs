//! Echo calls on loopback, side by side: our long connection, our short connections and tarpc,
//! at 1 and at 64 concurrent callers. Each iteration is one batch of calls spread over the
//! callers, so criterion's throughput is calls per second.

use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rpc_peers::{Caller, Peer, load, start};

fn echo(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let callers_of: Vec<(Peer, Arc<Caller>)> = Peer::ALL
        .iter()
        .map(|&peer| {
            runtime.block_on(async move {
                let addr = start(peer).await;
                (peer, Arc::new(Caller::connect(peer, addr).await))
            })
        })
        .collect();
    for callers in [1usize, 64] {
        let mut group = c.benchmark_group(format!("echo_{callers}_callers"));
        group.measurement_time(Duration::from_secs(3));
        group.sample_size(10);
        let batch = 256;
        group.throughput(Throughput::Elements(batch as u64));
        for (peer, caller) in &callers_of {
            group.bench_with_input(BenchmarkId::from_parameter(peer.name()), caller, |b, caller| {
                b.iter(|| runtime.block_on(load(Arc::clone(caller), callers, batch)).calls)
            });
        }
        group.finish();
    }
}

criterion_group!(benches, echo);
criterion_main!(benches);
