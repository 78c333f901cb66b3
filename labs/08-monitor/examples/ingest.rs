//! The same generated fleet for three stores, for the ingest comparison in
//! `solutions/08-monitor/compare-ingest.sh`: `datasets::metrics`'s node-like series, written
//! as text for VictoriaMetrics (Prometheus's exposition format with millisecond timestamps) or for
//! Prometheus's `promtool tsdb create-blocks-from openmetrics` (OpenMetrics, families together,
//! seconds), or sent to `monitor store` as batches over four connections, timed.
//!
//! ```text
//! ingest text --format prometheus|openmetrics --hosts N --ticks T --start-ms MS > FILE
//! ingest send --store ADDR --hosts N --ticks T --start-ms MS
//! ```

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Instant;

use datasets::metrics::{NodeSpec, Nodes, Reading};
use monitor::query::exposition::{escape_label_value, label_name, metric_name};
use monitor::wire::{FrameReader, Message, encode_frame};
use monitor::{Kind, Millis, Point, Tags};

const CONNECTIONS: usize = 4;
const BATCH_POINTS: usize = 5000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |name: &str| -> String {
        let at = args.iter().position(|a| a == name).unwrap_or_else(|| usage(&format!("{name} is missing")));
        args.get(at + 1).cloned().unwrap_or_else(|| usage(&format!("{name} needs a value")))
    };
    let number =
        |name: &str| -> i64 { value_of(name).parse().unwrap_or_else(|_| usage(&format!("{name} N"))) };
    let spec = NodeSpec {
        seed: 8,
        hosts: number("--hosts") as usize,
        start: number("--start-ms"),
        step: 10_000,
        jitter: 0,
    };
    let ticks = number("--ticks") as u64;
    match args.get(1).map(String::as_str) {
        Some("text") => {
            let out = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, out.lock());
            let written = match value_of("--format").as_str() {
                "prometheus" => prometheus_text(spec, ticks, &mut out),
                "openmetrics" => openmetrics_text(spec, ticks, &mut out),
                _ => usage("--format prometheus or openmetrics"),
            };
            written.and_then(|()| out.flush()).expect("write the text");
        }
        Some("send") => {
            let store: SocketAddr = value_of("--store").parse().unwrap_or_else(|_| usage("--store ADDR"));
            send(store, spec, ticks);
        }
        _ => usage("text or send"),
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "ingest: {problem}\nusage: ingest text --format prometheus|openmetrics --hosts N --ticks T --start-ms MS\n       ingest send --store ADDR --hosts N --ticks T --start-ms MS"
    );
    std::process::exit(2)
}

/// Every reading of the fleet, tick by tick.
fn readings(spec: NodeSpec, ticks: u64) -> (Nodes, Vec<Reading>) {
    let mut nodes = Nodes::new(spec);
    let mut all = Vec::new();
    for _ in 0..ticks {
        nodes.next_tick(&mut all);
    }
    (nodes, all)
}

/// `name{host="…",tag="…"}` of each series.
fn series_names(nodes: &Nodes) -> Vec<(String, String)> {
    nodes
        .series()
        .iter()
        .map(|series| {
            let mut labels = format!("host=\"{}\"", escape_label_value(&series.host));
            for (name, value) in &series.tags {
                labels.push_str(&format!(",{}=\"{}\"", label_name(name), escape_label_value(value)));
            }
            (metric_name(&series.metric), labels)
        })
        .collect()
}

/// Prometheus's text format with millisecond timestamps, as VictoriaMetrics's
/// `/api/v1/import/prometheus` takes it.
fn prometheus_text(spec: NodeSpec, ticks: u64, out: &mut impl Write) -> io::Result<()> {
    let (nodes, all) = readings(spec, ticks);
    let names = series_names(&nodes);
    for reading in all {
        let (name, labels) = &names[reading.series];
        writeln!(out, "{name}{{{labels}}} {} {}", reading.value, reading.timestamp)?;
    }
    Ok(())
}

/// OpenMetrics, each family's samples together and timestamps in seconds, as `promtool tsdb
/// create-blocks-from openmetrics` takes it.
fn openmetrics_text(spec: NodeSpec, ticks: u64, out: &mut impl Write) -> io::Result<()> {
    let (nodes, all) = readings(spec, ticks);
    let names = series_names(&nodes);
    let mut families: BTreeMap<&str, Vec<&Reading>> = BTreeMap::new();
    for reading in &all {
        families.entry(names[reading.series].0.as_str()).or_default().push(reading);
    }
    for (family, readings) in families {
        writeln!(out, "# TYPE {family} gauge")?;
        for reading in readings {
            let labels = &names[reading.series].1;
            let seconds = reading.timestamp as f64 / 1000.0;
            writeln!(out, "{family}{{{labels}}} {} {seconds:.3}", reading.value)?;
        }
    }
    writeln!(out, "# EOF")
}

/// Encodes the fleet's batches first, then sends them over [`CONNECTIONS`] connections, one batch
/// in flight on each, and prints the points acknowledged and the rate.
fn send(store: SocketAddr, spec: NodeSpec, ticks: u64) {
    let (nodes, all) = readings(spec, ticks);
    let series = nodes.series();
    let mut frames: Vec<Vec<Vec<u8>>> = vec![Vec::new(); CONNECTIONS];
    // A host's series always go through the same connection, so each series arrives in order.
    let mut pending: Vec<Vec<Point>> = vec![Vec::new(); CONNECTIONS];
    let mut seq = 0;
    let mut flush = |conn: usize, points: Vec<Point>, frames: &mut Vec<Vec<Vec<u8>>>| {
        seq += 1;
        let mut frame = Vec::new();
        encode_frame(&Message::Batch { seq, points }, &mut frame);
        frames[conn].push(frame);
    };
    for reading in &all {
        let s = &series[reading.series];
        let conn =
            s.host.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b))) % CONNECTIONS;
        let tags: Tags = s.tags.iter().cloned().collect();
        let kind = if s.counter { Kind::Counter } else { Kind::Gauge };
        let point = Point {
            host: s.host.clone(),
            metric: s.metric.clone(),
            tags,
            timestamp: reading.timestamp as Millis,
            value: reading.value,
            kind,
        };
        pending[conn].push(point);
        if pending[conn].len() == BATCH_POINTS {
            let points = std::mem::take(&mut pending[conn]);
            flush(conn, points, &mut frames);
        }
    }
    for (conn, points) in pending.into_iter().enumerate() {
        if !points.is_empty() {
            flush(conn, points, &mut frames);
        }
    }
    drop(all);
    let started = Instant::now();
    let (done, acked) = mpsc::channel();
    for frames in frames {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(store).expect("connect to the store");
            let mut reader = FrameReader::new(stream.try_clone().expect("clone a socket"));
            let mut points = 0u64;
            for frame in frames {
                stream.write_all(&frame).expect("send a batch");
                match reader.read_message() {
                    Ok(Some(Message::Ack { accepted, rejected, .. })) => {
                        assert_eq!(rejected, 0, "the store refused points");
                        points += u64::from(accepted);
                    }
                    other => panic!("no ack: {other:?}"),
                }
            }
            done.send(points).expect("report");
        });
    }
    drop(done);
    let points: u64 = acked.iter().sum();
    let seconds = started.elapsed().as_secs_f64();
    println!("{points} {seconds:.3} {:.0}", points as f64 / seconds);
}
