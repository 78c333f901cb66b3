//! What one tick of the agent costs before anything is sent: parsing the `/proc` texts of a large
//! machine (64 cores, 200 interfaces, 100 disks), turning two readings into samples, and parsing a
//! plugin's Prometheus output.
//!
//! `cargo lab bench monitor` runs these on your crate and on the reference.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monitor::collect::cpu::{cpu_samples, parse_cpu_stat};
use monitor::collect::disk::{disk_samples, parse_diskstats};
use monitor::collect::net::{net_samples, parse_net_dev};
use monitor::collect::parse_plugin_output;

/// A `/proc/stat` of `cores` cores, the real fixture's other lines after them, each counter moved
/// on by `tick`.
fn proc_stat(cores: u64, tick: u64) -> String {
    let row = |label: String, scale: u64| {
        let counters = [1_916_318, 1_346_042, 1_613_858, 3_951_917, 11_888, 0, 20_885, 7_618, 0, 0];
        let fields: Vec<String> = counters.iter().map(|c| (c * scale + tick * 7).to_string()).collect();
        format!("{label} {}\n", fields.join(" "))
    };
    let mut text = row("cpu ".to_string(), cores);
    for core in 0..cores {
        text.push_str(&row(format!("cpu{core}"), 1));
    }
    let rest =
        include_str!("../tests/fixtures/collect/stat.1").lines().filter(|line| !line.starts_with("cpu"));
    text.extend(rest.map(|line| format!("{line}\n")));
    text
}

/// A `/proc/net/dev` of `interfaces` interfaces.
fn net_dev(interfaces: u64, tick: u64) -> String {
    let mut text: String = include_str!("../tests/fixtures/collect/net-dev.1")
        .lines()
        .take(2)
        .map(|line| format!("{line}\n"))
        .collect();
    for i in 0..interfaces {
        let (bytes, packets) = (218_235_943 + i * 1000 + tick * 150_000, 12_743 + i + tick * 100);
        text.push_str(&format!("  veth{i:x}: {bytes} {packets} 0 0 0 0 0 0 {bytes} {packets} 0 0 0 0 0 0\n"));
    }
    text
}

/// A `/proc/diskstats` of `disks` disks, each with two partitions.
fn diskstats(disks: u64, tick: u64) -> String {
    let mut text = String::new();
    for disk in 0..disks {
        for (suffix, scale) in [("", 2), ("p1", 1), ("p2", 1)] {
            let base = (1_550_998 + disk) * scale + tick * 50;
            text.push_str(&format!(
                " 259 {disk} nvme{disk}n1{suffix} {base} 72108 {} 2820508 {base} 1273336 {} 3321677 0 {} \
                 6489708 0 0 0 0 0 0\n",
                base * 8,
                base * 8,
                686_144 + tick * 10
            ));
        }
    }
    text
}

/// Prometheus text of `series` series over a few metrics, with comments and labels.
fn prometheus(series: usize) -> String {
    let mut text = String::from("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n");
    for i in 0..series {
        text.push_str(&format!(
            "http_requests_total{{method=\"get\",code=\"{}\",handler=\"/api/v1/item/{i}\"}} {} \
             1395066363000\n",
            200 + i % 5,
            i * 17
        ));
    }
    text
}

fn proc_files(c: &mut Criterion) {
    let (stat_1, stat_2) = (proc_stat(64, 0), proc_stat(64, 100));
    let (net_1, net_2) = (net_dev(200, 0), net_dev(200, 10));
    let (disk_1, disk_2) = (diskstats(100, 0), diskstats(100, 10));
    let mut group = c.benchmark_group("proc");
    group.throughput(Throughput::Bytes(stat_1.len() as u64));
    group.bench_function("parse_stat_64_cores", |b| b.iter(|| parse_cpu_stat(black_box(&stat_1))));
    let (prev, cur) = (parse_cpu_stat(&stat_1).unwrap(), parse_cpu_stat(&stat_2).unwrap());
    group.throughput(Throughput::Elements(65));
    group.bench_function("cpu_samples_64_cores", |b| {
        b.iter(|| cpu_samples(black_box(&prev), black_box(&cur)))
    });
    group.throughput(Throughput::Bytes(net_1.len() as u64));
    group.bench_function("parse_net_dev_200", |b| b.iter(|| parse_net_dev(black_box(&net_1))));
    let (prev, cur) = (parse_net_dev(&net_1).unwrap(), parse_net_dev(&net_2).unwrap());
    group.throughput(Throughput::Elements(200));
    group.bench_function("net_samples_200", |b| {
        b.iter(|| net_samples(black_box(&prev), black_box(&cur), 10.0))
    });
    group.throughput(Throughput::Bytes(disk_1.len() as u64));
    group.bench_function("parse_diskstats_300", |b| b.iter(|| parse_diskstats(black_box(&disk_1))));
    let (prev, cur) = (parse_diskstats(&disk_1).unwrap(), parse_diskstats(&disk_2).unwrap());
    group.throughput(Throughput::Elements(300));
    group.bench_function("disk_samples_300", |b| {
        b.iter(|| disk_samples(black_box(&prev), black_box(&cur), 10.0))
    });
    group.finish();
}

fn plugin_output(c: &mut Criterion) {
    let text = prometheus(1000);
    let plain: String =
        (0..1000).map(|i| format!("app.queue.depth {i} queue=q{} shard={}\n", i % 50, i % 7)).collect();
    let mut group = c.benchmark_group("plugin_output");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("prometheus_1000", |b| b.iter(|| parse_plugin_output(black_box(&text))));
    group.bench_function("plain_1000", |b| b.iter(|| parse_plugin_output(black_box(&plain))));
    group.finish();
}

criterion_group!(benches, proc_files, plugin_output);
criterion_main!(benches);
