//! The records' batch goal, side by side on each database given: a run on N hosts recorded, then
//! every host's result written in batches as a master would report them, timed from the first
//! batch to the last commit; then the host list of a 1,000-host fleet read back. Each database
//! gets fresh tables of its own, made as the storage tests make theirs: a SQLite file in a scratch
//! directory, and a new MariaDB database on the server `PLATFORM_MARIADB_URL` names, if it names one.
//!
//! ```text
//! PLATFORM_MARIADB_URL=mysql://... cargo run --release -p platform-ref --example batch -- [--hosts N] [--batch N] [--rounds N]
//! ```
//!
//! Prints one line per database and round, and checks that every result was recorded.

use std::collections::BTreeMap;
use std::time::Instant;

use platform::records::{Host, HostResult, NewRun, Records, RunState};

#[path = "../tests/common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut hosts = 10_000usize;
    let mut batch = 1_000usize;
    let mut rounds = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--hosts" => hosts = args.next().ok_or("--hosts N")?.parse()?,
            "--batch" => batch = args.next().ok_or("--batch N")?.parse()?,
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let databases = common::database_urls().await;
    let names: Vec<String> = (0..hosts).map(|i| format!("sim{i:05}")).collect();
    for (backend, url, _dir) in &databases {
        let records = Records::open(url).await?;
        let fleet: Vec<Host> = (0..1_000)
            .map(|i| Host {
                name: format!("web{i:04}"),
                tags: BTreeMap::from([("dc".to_string(), ["bj", "sh"][i % 2].to_string())]),
                added: 0,
            })
            .collect();
        records.upsert_hosts(&fleet).await?;
        for round in 1..=rounds {
            let run = NewRun {
                user: "bench".into(),
                target: "*".into(),
                command: vec!["/bin/echo".into(), "hi".into()],
                hosts: names.clone(),
                started: 0,
            };
            let started = Instant::now();
            let id = records.start_run(&run).await?;
            let run_recorded = started.elapsed();
            let results: Vec<HostResult> = names
                .iter()
                .map(|host| HostResult {
                    host: host.clone(),
                    status: "done".into(),
                    exit_code: Some(0),
                    output: format!("hi from {host}\n"),
                    ended: 1,
                })
                .collect();
            let writing = Instant::now();
            let mut recorded = 0;
            for chunk in results.chunks(batch.max(1)) {
                recorded += records.record_results(id, chunk).await?;
            }
            let state = records.finish_run(id, 2).await?;
            let written = writing.elapsed();
            if recorded != hosts || state != RunState::Complete {
                return Err(
                    format!("{backend}: {recorded} of {hosts} results recorded, run {state:?}").into()
                );
            }
            let listing = Instant::now();
            let listed = records.hosts().await?.len();
            let listed_in = listing.elapsed();
            println!(
                "{backend:<8} round {round}: run of {hosts} hosts recorded in {:.1} ms; {hosts} results in batches of {batch} in {:.1} ms ({:.0} results/s); 1,000 hosts listed in {:.2} ms ({listed})",
                run_recorded.as_secs_f64() * 1e3,
                written.as_secs_f64() * 1e3,
                hosts as f64 / written.as_secs_f64(),
                listed_in.as_secs_f64() * 1e3,
            );
        }
        records.close().await;
    }
    Ok(())
}
