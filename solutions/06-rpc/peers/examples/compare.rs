//! Prints one line per peer and concurrency: throughput and p50/p99 latency of echo calls on
//! loopback, as `peer callers calls seconds calls_per_s p50_us p99_us cpu_us_per_call`. `compare.sh` makes the
//! table. Usage: `compare [CALLS [PEER [CALLERS]]]` (default 100,000 calls per run, short
//! connections make a tenth; every peer, or only the one named; 1 and 64 callers, or only 1 or 64).

use std::sync::Arc;

use rpc_peers::{Caller, Peer, load, start};

fn main() {
    let calls: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let only = std::env::args().nth(2);
    let only_callers: Option<usize> = std::env::args().nth(3).and_then(|n| n.parse().ok());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        for callers in [1, 64] {
            if only_callers.is_some_and(|n| n != callers) {
                continue;
            }
            for peer in Peer::ALL {
                if only.as_deref().is_some_and(|name| name != peer.name()) {
                    continue;
                }
                let addr = start(peer).await;
                let caller = Arc::new(Caller::connect(peer, addr).await);
                // Each short call leaves a socket in TIME_WAIT: keep their number reasonable.
                let calls = if peer == Peer::Short { calls / 10 } else { calls };
                load(Arc::clone(&caller), callers, calls.min(1000)).await;
                let stats = load(caller, callers, calls).await;
                println!(
                    "{} {callers} {} {:.3} {:.0} {:.1} {:.1} {:.1}",
                    peer.name(),
                    stats.calls,
                    stats.elapsed.as_secs_f64(),
                    stats.throughput(),
                    stats.percentile(0.5).as_secs_f64() * 1e6,
                    stats.percentile(0.99).as_secs_f64() * 1e6,
                    stats.cpu_per_call().as_secs_f64() * 1e6,
                );
            }
        }
    });
}
