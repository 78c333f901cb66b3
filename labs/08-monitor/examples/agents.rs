//! Simulated agents, for the relay's load goals in `solutions/08-monitor/compare-relay.sh`: many
//! agents in one process, each with its own [`Sender`] and on-disk [`Spool`] (the agent's real
//! sending path, as `monitor agent` runs it), and the check that the stores hold what they sent.
//!
//! ```text
//! agents run --relay ADDR --agents N [--first K] --series S --step SECS --duration SECS --spool DIR --manifest FILE
//! agents run ... --fast [--rate POINTS_PER_S]
//! agents check --store HTTP_ADDR --store HTTP_ADDR --manifest FILE... [--sample N]
//! ```
//!
//! Agent `k` is the host `sim-k`, with the series `sim.value{series=j}` for `j < S`. Without
//! `--fast` every agent reads at the multiples of the step, as the real agent does, and sends each
//! reading whether or not the relay answers: the sender spools it and delivers it later, in order.
//! With `--fast` the agents go through time as fast as the relay acks them (or at `--rate`), a
//! second a reading from six hours ago, 1,000 points a batch. Either way the value of a point is
//! its time in seconds and `j` (`seconds × 1024 + j`), so a check knows every value, and the manifest records
//! which readings each agent made.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use monitor::point::now_millis;
use monitor::wire::{MAX_BATCH_POINTS, Sender, SenderConfig, SenderStats, Spool};
use monitor::{Kind, Millis, Point, Tags};

/// The metric every simulated series has.
const METRIC: &str = "sim.value";

/// How far back `--fast` starts: far enough for 20,000 readings a series, inside the week that
/// validation allows.
const FAST_HISTORY: Duration = Duration::from_secs(6 * 3600);

/// How long the agents go on delivering their spools after the last reading.
const FLUSH_TIME: Duration = Duration::from_secs(60);

/// Simulated agents sending through a relay, and the check of what the stores hold.
#[derive(Debug, Parser)]
#[command(name = "agents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run agents until the duration is over and their spools are delivered.
    Run(RunArgs),
    /// Check that the stores hold every point the manifests name, once, with its value.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The relay, as HOST:PORT; repeat for fail-over.
    #[arg(long = "relay", value_name = "ADDR", required = true)]
    relays: Vec<SocketAddr>,
    /// Agents in this process.
    #[arg(long, value_name = "N", default_value_t = 100)]
    agents: usize,
    /// The number of the first agent (so that several processes have different hosts).
    #[arg(long, value_name = "K", default_value_t = 0)]
    first: usize,
    /// Series an agent.
    #[arg(long, value_name = "S", default_value_t = 50)]
    series: usize,
    /// Seconds between two readings.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    step: u64,
    /// Seconds to read for.
    #[arg(long, value_name = "SECS")]
    duration: u64,
    /// Threads sending, each for its share of the agents.
    #[arg(long, value_name = "N", default_value_t = 16)]
    threads: usize,
    /// Each agent's spool is a directory in here.
    #[arg(long, value_name = "DIR")]
    spool: PathBuf,
    /// Write one line an agent here: its number, its series, its first reading's time (ms), the
    /// step (ms) and how many readings it made.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Go through past readings as fast as the relay acks (a reading a step from six hours ago).
    #[arg(long)]
    fast: bool,
    /// With --fast: at most this many points a second from this process (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 0)]
    rate: u64,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// A store's query API, as HOST:PORT; repeat for every shard.
    #[arg(long = "store", value_name = "ADDR", required = true)]
    stores: Vec<SocketAddr>,
    /// The manifests the runs wrote.
    #[arg(long = "manifest", value_name = "FILE", required = true)]
    manifests: Vec<PathBuf>,
    /// Check only the first N series of every agent (0: all).
    #[arg(long, value_name = "N", default_value_t = 0)]
    sample: usize,
}

fn main() {
    let outcome = match Cli::parse().command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check(&args),
    };
    if let Err(err) = outcome {
        eprintln!("agents: {err}");
        std::process::exit(1);
    }
}

/// One simulated agent: its number, its sender, and the readings it has made.
struct Agent {
    number: usize,
    sender: Sender,
    first_ms: Millis,
    readings: u64,
}

/// Runs the agents, writes the manifest and prints the senders' totals.
fn run(args: &RunArgs) -> Result<(), String> {
    let started = Instant::now();
    let step_ms = args.step.max(1) as Millis * 1000;
    let agents = open_agents(args)?;
    let threads = args.threads.clamp(1, agents.len().max(1));
    let mut shares: Vec<Vec<Agent>> = (0..threads).map(|_| Vec::new()).collect();
    for (index, agent) in agents.into_iter().enumerate() {
        shares[index % threads].push(agent);
    }
    // Said once the spools are open, for a script to wait on: the sending starts now, and the
    // rates are measured from here.
    eprintln!("agents: {} agents sending to {:?}", args.agents, args.relays);
    let began = now_millis();
    let end = Instant::now() + Duration::from_secs(args.duration);
    let per_thread_rate = args.rate as f64 / threads as f64;
    let agents: Vec<Agent> = thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|mut share| {
                scope.spawn(move || {
                    if args.fast {
                        run_fast(&mut share, args.series, step_ms, end, per_thread_rate);
                    } else {
                        run_steps(&mut share, args.series, step_ms, end);
                    }
                    flush(&mut share);
                    share
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("a sending thread panicked")).collect()
    });
    let ended = now_millis();
    write_manifest(&args.manifest, &agents, args.series, step_ms)
        .map_err(|err| format!("{}: {err}", args.manifest.display()))?;
    print_totals(&agents, args.series, began, ended, started.elapsed());
    Ok(())
}

/// Each agent's sender, over its own spool (which may hold a run's leftovers: they go first).
fn open_agents(args: &RunArgs) -> Result<Vec<Agent>, String> {
    (args.first..args.first + args.agents)
        .map(|number| {
            let dir = args.spool.join(format!("sim-{number}"));
            let spool = Spool::open(&dir, 64 << 20).map_err(|err| err.to_string())?;
            let sender = Sender::new(SenderConfig::new(args.relays.clone()), spool);
            Ok(Agent { number, sender, first_ms: 0, readings: 0 })
        })
        .collect()
}

/// One line of `name=value` totals over the agents' senders, for a script to read.
fn print_totals(agents: &[Agent], series: usize, began: Millis, ended: Millis, took: Duration) {
    let mut total = SenderStats::default();
    let mut produced = 0;
    for agent in agents {
        let stats = agent.sender.stats();
        produced += agent.readings * series as u64;
        total.points_acked += stats.points_acked;
        total.points_rejected += stats.points_rejected;
        total.points_invalid += stats.points_invalid;
        total.spooled += stats.spooled;
        total.dropped += stats.dropped;
        total.connections += stats.connections;
    }
    println!(
        "agents={} produced={produced} acked={} rejected={} invalid={} spooled={} dropped={} connections={} began={:.3} ended={:.3} seconds={:.2}",
        agents.len(),
        total.points_acked,
        total.points_rejected,
        total.points_invalid,
        total.spooled,
        total.dropped,
        total.connections,
        began as f64 / 1000.0,
        ended as f64 / 1000.0,
        took.as_secs_f64()
    );
}

/// Every agent reads at each multiple of the step until `end`, and sends the reading at once.
fn run_steps(agents: &mut [Agent], series: usize, step_ms: Millis, end: Instant) {
    let first_ms = (now_millis() / step_ms + 1) * step_ms;
    for agent in agents.iter_mut() {
        agent.first_ms = first_ms;
    }
    let mut reading = first_ms;
    loop {
        let wait = Duration::from_millis((reading - now_millis()).max(0) as u64);
        if Instant::now() + wait >= end {
            return;
        }
        thread::sleep(wait);
        for agent in agents.iter_mut() {
            send(agent, 1, readings(agent.number, series, reading, 1, step_ms));
        }
        reading += step_ms;
    }
}

/// Each agent in turn sends its next readings (a batch's worth) until `end`, at most
/// `rate` points a second (0: as fast as the relay acks).
fn run_fast(agents: &mut [Agent], series: usize, step_ms: Millis, end: Instant, rate: f64) {
    let first_ms = (now_millis() - FAST_HISTORY.as_millis() as Millis) / step_ms * step_ms;
    // Never a reading from the last minute: the agents stay in the past whatever the rate.
    let last_ms = now_millis() - 60_000;
    for agent in agents.iter_mut() {
        agent.first_ms = first_ms;
    }
    let per_batch = (MAX_BATCH_POINTS.min(1000) / series.max(1)).max(1) as u64;
    let started = Instant::now();
    let mut sent = 0u64;
    while Instant::now() < end {
        let mut progressed = false;
        for agent in agents.iter_mut() {
            let from = agent.first_ms + agent.readings as Millis * step_ms;
            let count = per_batch.min(((last_ms - from) / step_ms).max(0) as u64);
            if count == 0 {
                continue;
            }
            send(agent, count, readings(agent.number, series, from, count, step_ms));
            sent += count * series as u64;
            progressed = true;
            if rate > 0.0 {
                let due = started + Duration::from_secs_f64(sent as f64 / rate);
                thread::sleep(due.saturating_duration_since(Instant::now()));
            }
        }
        if !progressed {
            return;
        }
    }
}

/// Hands `count` readings' `points` to the agent's sender (spooled at once, delivered if the relay
/// answers).
fn send(agent: &mut Agent, count: u64, points: Vec<Point>) {
    agent.readings += count;
    if let Err(err) = agent.sender.send(points) {
        eprintln!("agents: sim-{}: {err}", agent.number);
    }
}

/// Delivers what is left in the spools, trying again for up to [`FLUSH_TIME`].
fn flush(agents: &mut [Agent]) {
    let deadline = Instant::now() + FLUSH_TIME;
    let mut wait = Duration::from_millis(100);
    loop {
        let mut left = 0;
        for agent in agents.iter_mut() {
            if agent.sender.stats().spooled > 0 {
                let _ = agent.sender.send(Vec::new());
                left += agent.sender.stats().spooled;
            }
        }
        if left == 0 || Instant::now() >= deadline {
            return;
        }
        thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// `count` readings of every series of agent `number`, a step apart from `from`.
fn readings(number: usize, series: usize, from: Millis, count: u64, step_ms: Millis) -> Vec<Point> {
    let host = format!("sim-{number}");
    let tags: Vec<Tags> = (0..series).map(|j| [("series".to_owned(), j.to_string())].into()).collect();
    let mut points = Vec::with_capacity(series * count as usize);
    for n in 0..count as Millis {
        let timestamp = from + n * step_ms;
        for (j, tags) in tags.iter().enumerate() {
            points.push(Point {
                host: host.clone(),
                metric: METRIC.to_owned(),
                tags: tags.clone(),
                timestamp,
                value: value(timestamp, j),
                kind: Kind::Gauge,
            });
        }
    }
    points
}

/// The value of series `j` at `timestamp`: a whole number (its seconds, then `j`), so that it is
/// exact in an `f64` and in any JSON parser.
fn value(timestamp: Millis, j: usize) -> f64 {
    ((timestamp / 1000 % 1_000_000_000) * 1024 + j as Millis % 1024) as f64
}

fn write_manifest(path: &Path, agents: &[Agent], series: usize, step_ms: Millis) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for agent in agents {
        writeln!(out, "{} {series} {} {step_ms} {}", agent.number, agent.first_ms, agent.readings)?;
    }
    out.flush()
}

/// One manifest line: what an agent read.
#[derive(Debug, Clone, Copy)]
struct Made {
    number: usize,
    series: usize,
    first_ms: Millis,
    step_ms: Millis,
    readings: u64,
}

/// Queries every (sampled) series on every store, in a few threads, and prints the counts; an
/// error when a point is lost, duplicated, unexpected or wrong.
fn check(args: &CheckArgs) -> Result<(), String> {
    let started = Instant::now();
    let mut made = Vec::new();
    for path in &args.manifests {
        let file = File::open(path).map_err(|err| format!("{}: {err}", path.display()))?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|err| format!("{}: {err}", path.display()))?;
            let f: Vec<i64> = line.split(' ').filter_map(|field| field.parse().ok()).collect();
            let [number, series, first_ms, step_ms, readings] = f[..] else {
                return Err(format!("{}: bad line {line:?}", path.display()));
            };
            let (number, series, readings) = (number as usize, series as usize, readings as u64);
            made.push(Made { number, series, first_ms, step_ms, readings });
        }
    }
    let sample = |m: &Made| if args.sample == 0 { m.series } else { args.sample.min(m.series) };
    let jobs: Vec<(Made, usize)> = made.iter().flat_map(|m| (0..sample(m)).map(move |j| (*m, j))).collect();
    let next = AtomicUsize::new(0);
    let counts = Mutex::new(Counts::default());
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let mut mine = Counts::default();
                while let Some(&(m, j)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    mine.series_checked(m, j, &args.stores);
                }
                counts.lock().unwrap().add(&mine);
            });
        }
    });
    let counts = counts.into_inner().unwrap();
    println!(
        "checked {} series of {} agents: {} points expected, {} held; {} lost, {} duplicated, {} unexpected, {} with a wrong value ({:.1} s)",
        jobs.len(),
        made.len(),
        counts.expected,
        counts.held,
        counts.lost,
        counts.duplicated,
        counts.unexpected,
        counts.wrong,
        started.elapsed().as_secs_f64()
    );
    for problem in &counts.examples {
        eprintln!("  {problem}");
    }
    match counts.lost + counts.duplicated + counts.unexpected + counts.wrong + counts.failed {
        0 => Ok(()),
        _ => Err("the stores do not hold what the agents sent".to_owned()),
    }
}

/// What a check found.
#[derive(Debug, Default)]
struct Counts {
    expected: u64,
    held: u64,
    lost: u64,
    duplicated: u64,
    unexpected: u64,
    wrong: u64,
    failed: u64,
    examples: Vec<String>,
}

impl Counts {
    /// Compares series `j` of the agent `m` on every store with what it read.
    fn series_checked(&mut self, m: Made, j: usize, stores: &[SocketAddr]) {
        let host = format!("sim-{}", m.number);
        let to = m.first_ms + (m.readings as Millis).max(1) * m.step_ms;
        let mut held: BTreeMap<Millis, Vec<f64>> = BTreeMap::new();
        for store in stores {
            // A whole hour either side: points outside the readings would be unexpected.
            match points(*store, &host, j, m.first_ms - 3_600_000, to + 3_600_000) {
                Ok(found) => found.into_iter().for_each(|(t, v)| held.entry(t).or_default().push(v)),
                Err(err) => {
                    self.failed += 1;
                    self.example(format!("{host} series {j} on {store}: {err}"));
                }
            }
        }
        self.expected += m.readings;
        for n in 0..m.readings as Millis {
            let t = m.first_ms + n * m.step_ms;
            match held.remove(&t).as_deref() {
                None => {
                    self.lost += 1;
                    self.example(format!("{host} series {j}: no point at {t}"));
                }
                Some(values) => {
                    self.held += values.len() as u64;
                    self.duplicated += values.len() as u64 - 1;
                    if values.iter().any(|v| *v != value(t, j)) {
                        self.wrong += 1;
                        self.example(format!("{host} series {j} at {t}: {values:?}"));
                    }
                }
            }
        }
        for (t, values) in held {
            self.held += values.len() as u64;
            self.unexpected += values.len() as u64;
            self.example(format!("{host} series {j}: unexpected point at {t}: {values:?}"));
        }
    }

    /// Keeps the first few problems, to show.
    fn example(&mut self, problem: String) {
        if self.examples.len() < 5 {
            self.examples.push(problem);
        }
    }

    fn add(&mut self, other: &Counts) {
        self.expected += other.expected;
        self.held += other.held;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.unexpected += other.unexpected;
        self.wrong += other.wrong;
        self.failed += other.failed;
        self.examples.extend(other.examples.iter().take(5 - self.examples.len().min(5)).cloned());
    }
}

/// The raw points of series `j` of `host` between `from` and `to` (ms) on one store.
fn points(
    store: SocketAddr,
    host: &str,
    j: usize,
    from: Millis,
    to: Millis,
) -> Result<Vec<(Millis, f64)>, String> {
    let path = format!(
        "/api/v1/query_range?host={host}&metric={METRIC}&tag.series={j}&start={}&end={}",
        from as f64 / 1000.0,
        to as f64 / 1000.0
    );
    let json = get(store, &path)?;
    let points = json["data"]["points"].as_array().ok_or_else(|| format!("no points: {json}"))?;
    Ok(points.iter().filter_map(|p| Some((p[0].as_i64()?, p[1].as_f64()?))).collect())
}

/// A GET of the query API, its JSON body.
fn get(store: SocketAddr, path: &str) -> Result<serde_json::Value, String> {
    let mut stream = TcpStream::connect(store).map_err(|err| err.to_string())?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: store\r\nConnection: close\r\n\r\n")
        .map_err(|err| err.to_string())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|err| err.to_string())?;
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    serde_json::from_str(body).map_err(|err| format!("{err}: {answer:.200}"))
}
