//! A whole download of 64 MiB from the fixture server on loopback, over 1 and 4 connections: the
//! cost of the threads, the writes at offsets and the state saves, with no network in the way.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use downloader::{Config, Url};
use testkit::web::{Route, Site, WebServer};

const SIZE: usize = 64 << 20;

fn download(c: &mut Criterion) {
    let bytes: Vec<u8> =
        (0..SIZE).map(|i| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes()[7]).collect();
    let server =
        WebServer::start(Site::new().route("/big.bin", Route::ok("application/octet-stream", bytes)));
    let url = Url::parse(&server.url("/big.bin")).expect("the fixture's URL is valid");
    let dir = testkit::scratch_dir();
    let mut group = c.benchmark_group("download-64MiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for connections in [1, 4] {
        let mut config = Config::new(url.clone());
        config.output = Some(dir.path().join(format!("big-{connections}.bin")));
        config.connections = connections;
        group.bench_function(format!("{connections}-connections"), |b| {
            b.iter(|| downloader::download(&config, &AtomicBool::new(false)).expect("a clean download"))
        });
    }
    group.finish();
}

criterion_group!(benches, download);
criterion_main!(benches);
