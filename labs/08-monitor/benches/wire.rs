//! What a batch costs on the wire: encoding and decoding a node's 1,000-point batch, in points a
//! second, and its size in bytes a point (printed once).
//!
//! The relay has to decode at least 500,000 points a second end to end, so decoding alone should
//! be many times faster than that. `cargo lab bench monitor` runs these on your crate and on the
//! reference.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monitor::wire::{Message, decode, encode};
use monitor::{Point, Sample};

/// One node's batch: 100 series (cpus, disks, interfaces, memory and load, a few tags each) read
/// 10 times, 10 s apart: 1,000 points.
fn node_batch() -> Message {
    let start = 1_700_000_000_000;
    let mut points: Vec<Point> = Vec::with_capacity(1000);
    for step in 0..10 {
        let at = start + step * 10_000;
        for cpu in 0..24 {
            for metric in ["cpu.user", "cpu.system", "cpu.iowait"] {
                let value = (step * 7 + cpu) as f64 * 0.37;
                points.push(
                    Sample::gauge(metric, value).tag("cpu", cpu.to_string()).at("web-01.example.com", at),
                );
            }
        }
        for device in ["sda", "sdb", "nvme0n1", "nvme1n1"] {
            for metric in ["disk.io.read_bytes", "disk.io.write_bytes", "disk.io.util"] {
                let sample = Sample::counter(metric, (step * 4096) as f64 * 1e3);
                points.push(sample.tag("device", device).at("web-01.example.com", at));
            }
        }
        for iface in ["eth0", "eth1", "lo"] {
            for metric in ["net.if.in.bytes", "net.if.out.bytes", "net.if.in.packets", "net.if.out.packets"] {
                let sample = Sample::counter(metric, (step * 1_000_003) as f64);
                points.push(sample.tag("iface", iface).at("web-01.example.com", at));
            }
        }
        for metric in ["mem.used", "mem.free", "mem.cached", "load.1min", "load.5min", "load.15min"] {
            points.push(Sample::gauge(metric, step as f64 * 1.5).at("web-01.example.com", at));
        }
        for mount in ["/", "/var", "/home", "/srv"] {
            let sample = Sample::gauge("df.bytes.used.percent", 42.5 + step as f64);
            points.push(sample.tag("mount", mount).at("web-01.example.com", at));
        }
    }
    points.truncate(1000);
    Message::Batch { seq: 1, points }
}

fn batch(c: &mut Criterion) {
    let message = node_batch();
    let Message::Batch { points, .. } = &message else { unreachable!("node_batch makes a batch") };
    let count = points.len() as u64;
    let mut payload = Vec::new();
    encode(&message, &mut payload);
    println!(
        "a node batch: {count} points in {} bytes, {:.1} bytes a point",
        payload.len(),
        payload.len() as f64 / count as f64
    );

    let mut group = c.benchmark_group("wire");
    group.throughput(Throughput::Elements(count));
    let mut out = Vec::with_capacity(payload.len());
    group.bench_function("encode_node_batch", |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&message), &mut out);
            out.len()
        })
    });
    group.bench_function("decode_node_batch", |b| b.iter(|| decode(black_box(&payload))));
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
