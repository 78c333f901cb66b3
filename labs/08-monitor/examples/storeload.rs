//! A load generator and checker for `monitor store`, for the crash test in the comparison script.
//!
//! `storeload send --store ADDR --log FILE --start-ms T` sends batches over several connections,
//! one batch in flight on each, and appends a line to FILE for every batch the store acknowledges,
//! until the store goes away (the script kills it with SIGKILL) or a time limit. `storeload check
//! --http ADDR --log FILE` then asks the store's query API for every series and checks that every
//! acknowledged point is there once, with its value.
//!
//! Connection `c` owns the series `load.value{conn=c,series=i}` of host `load`; its `n`th batch
//! holds one point of each at `T + n` seconds, valued `c * 1e9 + i * 1e6 + n`, so the log only needs
//! the connection and the time of each acknowledged batch.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use monitor::wire::{FrameReader, Message, write_message};
use monitor::{Kind, Millis, Point, Tags};

const SERIES: u64 = 100;
const CONNECTIONS: u64 = 4;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |name: &str| -> String {
        let at = args.iter().position(|a| a == name).unwrap_or_else(|| usage(&format!("{name} is missing")));
        args.get(at + 1).cloned().unwrap_or_else(|| usage(&format!("{name} needs a value")))
    };
    match args.get(1).map(String::as_str) {
        Some("send") => {
            let store: SocketAddr = value_of("--store").parse().unwrap_or_else(|_| usage("--store ADDR"));
            let start: Millis = value_of("--start-ms").parse().unwrap_or_else(|_| usage("--start-ms MS"));
            let limit: u64 = value_of("--batches").parse().unwrap_or_else(|_| usage("--batches N"));
            send(store, &value_of("--log"), start, limit);
        }
        Some("check") => {
            let http: SocketAddr = value_of("--http").parse().unwrap_or_else(|_| usage("--http ADDR"));
            std::process::exit(check(http, &value_of("--log")));
        }
        _ => usage("send or check"),
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "storeload: {problem}\nusage: storeload send --store ADDR --log FILE --start-ms MS --batches N\n       storeload check --http ADDR --log FILE"
    );
    std::process::exit(2)
}

fn value(conn: u64, series: u64, n: u64) -> f64 {
    (conn * 1_000_000_000 + series * 1_000_000 + n) as f64
}

fn tags(conn: u64, series: u64) -> Tags {
    [("conn".to_owned(), conn.to_string()), ("series".to_owned(), series.to_string())].into()
}

/// Sends until the store closes every connection or each has sent `limit` batches.
fn send(store: SocketAddr, log: &str, start: Millis, limit: u64) {
    let log = Arc::new(Mutex::new(
        OpenOptions::new().create(true).append(true).open(log).unwrap_or_else(|err| panic!("{log}: {err}")),
    ));
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|conn| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let Ok(stream) = TcpStream::connect(store) else { return 0 };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut writer = stream.try_clone().expect("clone a socket");
                let mut reader = FrameReader::new(stream);
                let mut acked = 0;
                for n in 0..limit {
                    let timestamp = start + n as Millis * 1000;
                    let points = (0..SERIES)
                        .map(|series| Point {
                            host: "load".into(),
                            metric: "load.value".into(),
                            tags: tags(conn, series),
                            timestamp,
                            value: value(conn, series, n),
                            kind: Kind::Gauge,
                        })
                        .collect();
                    let seq = conn << 32 | n;
                    if write_message(&mut writer, &Message::Batch { seq, points }).is_err() {
                        break;
                    }
                    match reader.read_message() {
                        Ok(Some(Message::Ack { seq: got, accepted, .. }))
                            if got == seq && accepted == SERIES as u32 =>
                        {
                            // The line is written before the next batch: an ack is never unlogged.
                            let mut log = log.lock().unwrap();
                            writeln!(log, "{conn} {n} {timestamp}").expect("write the log");
                            log.flush().expect("flush the log");
                            acked += 1;
                        }
                        Ok(Some(other)) => {
                            eprintln!("storeload: connection {conn}: unexpected answer {other:?}");
                            break;
                        }
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    let acked: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    println!("{acked} batches acknowledged");
}

/// Checks every acknowledged point; the exit status is 0 when all are there once.
fn check(http: SocketAddr, log: &str) -> i32 {
    let file = std::fs::File::open(log).unwrap_or_else(|err| panic!("{log}: {err}"));
    // conn → timestamp → n (a timestamp is sent once; n starts again at 0 in each run)
    let mut acked: BTreeMap<u64, BTreeMap<Millis, u64>> = BTreeMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.expect("read the log");
        let fields: Vec<&str> = line.split(' ').collect();
        let (conn, n, t) =
            (fields[0].parse().unwrap(), fields[1].parse().unwrap(), fields[2].parse().unwrap());
        acked.entry(conn).or_default().insert(t, n);
    }
    let started = Instant::now();
    let (mut lost, mut duplicated, mut wrong, mut points) = (0u64, 0u64, 0u64, 0u64);
    for (conn, batches) in &acked {
        let (from, to) = (*batches.keys().next().unwrap(), *batches.keys().next_back().unwrap());
        for series in 0..SERIES {
            let stored = query(http, *conn, series, from, to);
            let times: BTreeSet<Millis> = stored.iter().map(|(t, _)| *t).collect();
            duplicated += (stored.len() - times.len()) as u64;
            let by_time: BTreeMap<Millis, f64> = stored.into_iter().collect();
            for (t, n) in batches {
                points += 1;
                match by_time.get(t) {
                    None => lost += 1,
                    Some(v) if *v != value(*conn, series, *n) => wrong += 1,
                    Some(_) => {}
                }
            }
        }
    }
    println!(
        "checked {points} acknowledged points of {} series in {:.1} s: {lost} lost, {duplicated} duplicated, {wrong} with a wrong value",
        acked.len() as u64 * SERIES,
        started.elapsed().as_secs_f64()
    );
    i32::from(lost + duplicated + wrong > 0)
}

/// The raw points of one series from the query API.
fn query(http: SocketAddr, conn: u64, series: u64, from: Millis, to: Millis) -> Vec<(Millis, f64)> {
    let path = format!(
        "/api/v1/query_range?host=load&metric=load.value&tag.conn={conn}&tag.series={series}&start={}&end={}",
        from as f64 / 1000.0,
        to as f64 / 1000.0
    );
    let mut stream = TcpStream::connect(http).expect("connect to the query API");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: store\r\nConnection: close\r\n\r\n").expect("send a query");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read an answer");
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {answer}"));
    json["data"]["points"]
        .as_array()
        .unwrap_or_else(|| panic!("no points: {json}"))
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap()))
        .collect()
}
