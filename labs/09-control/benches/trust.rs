//! What trust costs, per agent: a whole Noise handshake (both ends, in memory), sealing and opening
//! a command-sized frame, and an agent's check of a signed command (one ed25519 verification).
//!
//! These set the budget of stage 5: a broadcast to 50,000 agents costs the master 50,000 seals,
//! and each agent one open and one check; connecting them all costs 50,000 handshakes.
//! `cargo lab bench control` runs these on your crate and on the reference.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use control::command::{Checker, Command, SignedCommand};
use control::keys::{Admission, Identity};
use control::session::{self, Session};
use control::wire::FrameReader;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn key(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

/// Both ends of a fresh session.
async fn sessions() -> (Session, Session) {
    let (mut near, mut far) = tokio::io::duplex(4096);
    let agent = tokio::spawn(async move {
        session::connect(&mut near, &mut FrameReader::new(), &key(1), "web1", &key(2).public()).await.unwrap()
    });
    let (master, _, _) =
        session::accept(&mut far, &mut FrameReader::new(), &key(2), |_, _| Admission::Admit).await.unwrap();
    (agent.await.unwrap(), master)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("trust");
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    group.bench_function("handshake, both ends", |b| b.iter(|| runtime.block_on(sessions())));

    let (mut agent, mut master) = runtime.block_on(sessions());
    let message = vec![7u8; 300];
    group.bench_function("seal and open 300 bytes", |b| {
        b.iter(|| agent.open(&master.seal(black_box(&message)).unwrap()).unwrap())
    });

    let operator = key(3);
    let args = vec!["-c".to_string(), "uptime".to_string()];
    group.bench_function("check a signed command", |b| {
        b.iter_batched(
            || {
                let command =
                    Command::new("*", "/bin/sh", &args, Duration::from_secs(60), Duration::from_secs(5));
                (
                    SignedCommand::sign(&command, &operator),
                    Checker::new(vec![operator.public()], Duration::from_secs(3600)),
                )
            },
            |(signed, mut checker)| checker.check(&signed, SystemTime::now()).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
