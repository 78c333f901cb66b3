//! The records' batch goal, side by side on each database given: a run on N hosts recorded, then
//! every host's result written in batches as a master would report them, timed from the first
//! batch to the last commit; then the host list of a 1,000-host fleet read back. Each database
//! gets fresh tables of its own (a SQLite file in a scratch directory, or a new MariaDB database
//! on the server a URL names).
//!
//! ```text
//! cargo run --release -p platform-ref --example batch -- [--hosts N] [--batch N] [--rounds N] [mysql://...]
//! ```
//!
//! Prints one line per database and round, and checks that every result was recorded.

use std::collections::BTreeMap;
use std::time::Instant;

use platform::records::{Host, HostResult, NewRun, Records, RunState};
use sqlx::Connection;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut hosts = 10_000usize;
    let mut batch = 1_000usize;
    let mut rounds = 3usize;
    let mut servers = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--hosts" => hosts = args.next().ok_or("--hosts N")?.parse()?,
            "--batch" => batch = args.next().ok_or("--batch N")?.parse()?,
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            url if url.starts_with("mysql://") || url.starts_with("mariadb://") => {
                servers.push(url.to_string())
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let mut databases = vec![("sqlite", format!("sqlite://{}", dir.path().join("batch.db").display()))];
    for server in &servers {
        databases.push(("mariadb", fresh_mariadb_database(server).await?));
    }
    let names: Vec<String> = (0..hosts).map(|i| format!("sim{i:05}")).collect();
    for (backend, url) in &databases {
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

/// A new database on the MariaDB server `url` names, for this run alone.
async fn fresh_mariadb_database(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    sqlx::any::install_default_drivers();
    let url = url.replacen("mariadb://", "mysql://", 1);
    let (server, _) = url.rsplit_once('/').ok_or("a MariaDB URL names a database")?;
    let name = format!("platform_batch_{}", std::process::id());
    let mut admin = sqlx::AnyConnection::connect(&url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`"))).execute(&mut admin).await?;
    admin.close().await?;
    Ok(format!("{server}/{name}"))
}
