//! What the supervisor pays per event: taking and releasing the locked pid file (each `start` and
//! `status`), and deciding the next restart's delay (each death of the command).
//!
//! `cargo lab bench superd` runs these on your crate and on the reference.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use superd::Restarts;
use superd::pidfile::{self, PidFile};
use superd::supervise::Policy;

fn pid_file(c: &mut Criterion) {
    let scratch = testkit::scratch_dir();
    let path = scratch.path().join("bench.pid");
    c.bench_function("pidfile/acquire_write_remove", |b| {
        b.iter(|| {
            let mut file = PidFile::acquire(&path).expect("acquire");
            file.write_pid(black_box(4242)).expect("write");
            file.remove().expect("remove");
        })
    });
    let mut held = PidFile::acquire(&path).expect("acquire");
    held.write_pid(std::process::id() as i32).expect("write");
    c.bench_function("pidfile/status_of_a_running_daemon", |b| {
        b.iter(|| pidfile::status(black_box(&path)).expect("status"))
    });
    held.remove().expect("remove");
}

fn restart_policy(c: &mut Criterion) {
    let policy = Policy {
        restart_max: 1_000_000,
        window: Duration::from_secs(60),
        backoff: Duration::from_millis(1),
        backoff_max: Duration::from_secs(30),
        kill_after: Duration::from_secs(10),
    };
    c.bench_function("restarts/1000_deaths", |b| {
        b.iter(|| {
            let mut restarts = Restarts::new(&policy);
            let start = Instant::now();
            for i in 0..1000u64 {
                black_box(restarts.next(start + Duration::from_millis(i)));
            }
        })
    });
}

criterion_group!(benches, pid_file, restart_policy);
criterion_main!(benches);
