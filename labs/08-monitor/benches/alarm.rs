//! What the alarm's decisions cost: a storm of 10,000 problems through `Alarm::receive` (dedup,
//! silences, maintenance, two receivers, one limited and one digesting), in events a second; and
//! the sliding-log limit alone.
//!
//! The goal is that a storm is decided faster than the judges can report it: well over the 10,000
//! events of the compare script's storm in a second. `cargo lab bench monitor` runs these on your
//! crate and on the reference.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use monitor::alarm::{Alarm, AlarmConfig, Maintenance, ReceiverConfig, Silence, SlidingLimit};
use monitor::judge::{Alert, Event, Selector, Status};
use monitor::{Millis, Sample};

/// Problems in the storm.
const STORM: usize = 10_000;

fn storm() -> Vec<Event> {
    (0..STORM)
        .map(|i| {
            Event::Alert(Alert {
                rule: (i % 10) as u64,
                priority: (i % 6) as u8,
                expr: "cpu.busy all(#3) > 90".into(),
                series: Sample::gauge("cpu.busy", 0.0)
                    .tag("cpu", (i % 64).to_string())
                    .at(&format!("web{:04}", i / 64), 0)
                    .series(),
                status: Status::Problem,
                value: 95.0,
                at: 60_000,
                count: 1,
                notify: true,
            })
        })
        .collect()
}

fn alarm() -> Alarm {
    let mut pager = ReceiverConfig::new("pager");
    pager.max_priority = 1;
    pager.limit = 10;
    pager.digest_from = 6;
    let mail = ReceiverConfig::new("mail");
    let mut alarm = Alarm::new(AlarmConfig::new(vec![pager, mail]));
    alarm.set_silences(vec![Silence {
        id: 1,
        selectors: vec![Selector { name: "host".into(), equal: true, value: "web0003".into() }],
        starts: 0,
        ends: Millis::MAX,
        comment: String::new(),
    }]);
    alarm.set_maintenance(vec![Maintenance {
        id: 1,
        hosts: vec!["web01*".into()],
        starts: 0,
        ends: Millis::MAX,
        comment: String::new(),
    }]);
    alarm
}

fn deciding(c: &mut Criterion) {
    let events = storm();
    let mut group = c.benchmark_group("alarm");
    group.throughput(Throughput::Elements(STORM as u64));
    group.sample_size(20);
    group.bench_function("a storm of 10,000 problems, per event", |b| {
        b.iter_batched(
            || (alarm(), events.clone()),
            |(mut alarm, events)| {
                for event in events {
                    black_box(alarm.receive(event, 60_000));
                }
                black_box(alarm.tick(120_000));
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn limiting(c: &mut Criterion) {
    let mut group = c.benchmark_group("alarm");
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("the sliding-log limit, per send", |b| {
        b.iter(|| {
            let mut limit = SlidingLimit::new(10, 60_000);
            for t in 0..100_000 {
                black_box(limit.try_send(t * 7));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, deciding, limiting);
criterion_main!(benches);
