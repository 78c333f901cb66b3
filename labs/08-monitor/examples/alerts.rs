//! The judge and the alarm end to end, for the alert goals in `solutions/08-monitor/compare-alerts.sh`:
//! a relay, two judge shards and the alarm in one process, the points sent as an agent sends them,
//! the alerts received by a webhook server here.
//!
//! ```text
//! alerts latency --series N --step-ms MS    # N series breaching one at a time: webhook latency
//! alerts storm --series N --limit L --window-s S   # N series breaching at once, a receiver limited
//! ```
//!
//! `latency` prints the time from each alert's deciding sample to the webhook receiving it (median,
//! p99, the largest), against the step. `storm` prints how long the judges took to find every
//! problem, what the limited receiver got (it must be L alerts and one summary of the rest), and the
//! process's memory before and after; it exits 1 when the limit or the summary is wrong, or an alert
//! is missing.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use monitor::alarm::{
    AlarmConfig, DispatchSettings, Notification, Notifier, ReceiverConfig, WebhookNotifier, start_alarm,
};
use monitor::judge::{Expr, JudgeConfig, JudgeShard, Rule, serve_judge};
use monitor::point::now_millis;
use monitor::relay::{Relay, RelayConfig};
use monitor::wire::{FrameReader, Message, write_message};
use monitor::{Millis, Point, Sample, Shutdown};

/// The judge and the alarm end to end.
#[derive(Debug, Parser)]
#[command(name = "alerts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Series breaching one at a time; the webhook's latency.
    Latency {
        /// Series, each breaching once.
        #[arg(long, default_value_t = 200)]
        series: usize,
        /// The step, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        step_ms: u64,
    },
    /// Series breaching at once; the limit, the summary, the judges' time and the memory.
    Storm {
        /// Series, all breaching together.
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        /// The limited receiver's messages a window.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// The limit's window, in seconds.
        #[arg(long, default_value_t = 10)]
        window_s: u64,
    },
}

fn main() {
    let cli = Cli::parse();
    let failed = match cli.command {
        Command::Latency { series, step_ms } => latency(series, step_ms),
        Command::Storm { series, limit, window_s } => storm(series, limit, window_s),
    };
    std::process::exit(i32::from(failed));
}

/// What a webhook received: each notification, with when.
type Received = Arc<Mutex<Vec<(Millis, Notification)>>>;

/// The pipeline: a relay, two judge shards of `all(#3) > 90` and an alarm whose receivers post to
/// the webhook here; the relay's address and what the webhook received.
struct Pipeline {
    relay: SocketAddr,
    received: Received,
    _shutdown: Shutdown,
    _dir: PathGuard,
}

/// A temporary directory, removed at the end.
struct PathGuard(std::path::PathBuf);

impl Drop for PathGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pipeline(step: Duration, receivers: Vec<ReceiverConfig>, window: Duration) -> Pipeline {
    let shutdown = Shutdown::new();
    let dir = std::env::temp_dir().join(format!("monitor-alerts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (hook, received) = webhook();
    let notifiers: Vec<Box<dyn Notifier>> = receivers
        .iter()
        .map(|_| {
            Box::new(WebhookNotifier::new(&format!("http://{hook}/"), Duration::from_secs(10)).unwrap()) as _
        })
        .collect();
    let mut config = AlarmConfig::new(receivers);
    config.window = window;
    let settings = DispatchSettings { queue: 100_000, ..DispatchSettings::default() };
    let alarm = start_alarm(config, notifiers, settings, None, &shutdown).unwrap();
    let rule = Rule::new(1, Expr::parse("cpu.busy all(#3) > 90").unwrap());
    let mut judges = Vec::new();
    for shard in 0..2 {
        let judge = JudgeShard {
            listen: "127.0.0.1:0".parse().unwrap(),
            config: JudgeConfig::new(step),
            rules: vec![rule.clone()],
            log: dir.join(format!("events-{shard}.log")),
            store: None,
            tick: Duration::from_secs(3600),
        };
        judges.push(serve_judge(judge, alarm.core(), &shutdown).unwrap().local_addr());
    }
    let mut config = RelayConfig::new("127.0.0.1:0".parse().unwrap(), Vec::new());
    config.judges = judges;
    config.backoff_min = Duration::from_millis(5);
    let relay = Relay::start(config, &shutdown).unwrap();
    // The threads end with the process.
    std::mem::forget(alarm);
    Pipeline { relay: relay.local_addr(), received, _shutdown: shutdown, _dir: PathGuard(dir) }
}

/// A webhook server on loopback: its address and what it received.
fn webhook() -> (SocketAddr, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let received: Received = Arc::default();
    let kept = Arc::clone(&received);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = Arc::clone(&kept);
            thread::spawn(move || serve(stream, &kept));
        }
    });
    (addr, received)
}

fn serve(stream: TcpStream, received: &Mutex<Vec<(Millis, Notification)>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(notification) = serde_json::from_slice::<Notification>(&body) {
            received.lock().unwrap().push((now_millis(), notification));
        }
        if reader.get_mut().write_all(b"HTTP/1.1 204 No Content\r\n\r\n").is_err() {
            return;
        }
    }
}

/// An agent's connection to the relay.
struct Agent {
    reader: FrameReader<TcpStream>,
    seq: u64,
}

impl Agent {
    fn connect(relay: SocketAddr) -> Agent {
        let stream = TcpStream::connect(relay).unwrap();
        Agent { reader: FrameReader::new(stream), seq: 0 }
    }

    fn send(&mut self, points: Vec<Point>) {
        for chunk in points.chunks(5000) {
            self.seq += 1;
            write_message(self.reader.get_mut(), &Message::Batch { seq: self.seq, points: chunk.to_vec() })
                .unwrap();
            let answer = self.reader.read_message().unwrap();
            assert!(matches!(answer, Some(Message::Ack { .. })), "{answer:?}");
        }
    }
}

fn point(series: usize, at: Millis, value: f64) -> Point {
    Sample::gauge("cpu.busy", value)
        .tag("cpu", (series % 100).to_string())
        .at(&format!("sim-{:03}", series / 100), at)
}

/// Sleeps until `at` (milliseconds since the epoch).
fn sleep_until(at: Millis) {
    let now = now_millis();
    if at > now {
        thread::sleep(Duration::from_millis((at - now) as u64));
    }
}

fn latency(series: usize, step_ms: u64) -> bool {
    let step = step_ms as Millis;
    let mut receiver = ReceiverConfig::new("webhook");
    receiver.limit = usize::MAX;
    receiver.digest_from = 6;
    let pipeline = pipeline(Duration::from_millis(step_ms), vec![receiver], Duration::from_secs(60));
    let mut agent = Agent::connect(pipeline.relay);
    let start = (now_millis() / step + 1) * step;
    // Ten series at a time breach: their third breaching sample is at their group's third step.
    let groups = series.div_ceil(10);
    let steps = groups + 3;
    for k in 0..steps {
        let at = start + k as Millis * step;
        sleep_until(at);
        let points = (0..series)
            .map(|s| {
                let first = (s / 10) as Millis;
                let breaching = (first..first + 3).contains(&(k as Millis));
                point(s, at, if breaching { 95.0 } else { 10.0 })
            })
            .collect();
        agent.send(points);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while pipeline.received.lock().unwrap().iter().filter(|(_, n)| is_problem(n)).count() < series
        && Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(20));
    }
    let received = pipeline.received.lock().unwrap();
    let mut late: Vec<Millis> = received
        .iter()
        .filter_map(|(at, notification)| match notification {
            Notification::Alert(alert) if is_problem(notification) => Some(at - alert.at),
            _ => None,
        })
        .collect();
    late.sort_unstable();
    if late.len() != series {
        eprintln!("alerts: {} of {series} problems reached the webhook", late.len());
        return true;
    }
    let at = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize];
    println!(
        "webhook latency over {series} alerts (from the deciding sample's time): median {} ms, p99 {} ms, max {} ms; the step is {step} ms",
        at(0.5),
        at(0.99),
        late[late.len() - 1]
    );
    false
}

fn is_problem(notification: &Notification) -> bool {
    matches!(notification, Notification::Alert(alert) if alert.status == monitor::judge::Status::Problem)
}

fn storm(series: usize, limit: usize, window_s: u64) -> bool {
    let step = 1000;
    let mut limited = ReceiverConfig::new("pager");
    limited.limit = limit;
    limited.digest_from = 6;
    let window = Duration::from_secs(window_s);
    let rss_before = rss_kib();
    let pipeline = pipeline(Duration::from_millis(step as u64), vec![limited], window);
    let mut agent = Agent::connect(pipeline.relay);
    let start = (now_millis() / step + 1) * step;
    let mut last_sent = Instant::now();
    for k in 0..3 {
        let at = start + k * step;
        sleep_until(at);
        agent.send((0..series).map(|s| point(s, at, 95.0)).collect());
        last_sent = Instant::now();
    }
    let deadline = Instant::now() + window + Duration::from_secs(30);
    let summary = loop {
        let received = pipeline.received.lock().unwrap();
        let summary = received.iter().find_map(|(at, n)| match n {
            Notification::Suppressed { count, .. } => Some((*at, *count)),
            _ => None,
        });
        drop(received);
        if let Some(summary) = summary {
            break Some(summary);
        }
        if Instant::now() > deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let judged = last_sent.elapsed();
    let received = pipeline.received.lock().unwrap();
    let alerts = received.iter().filter(|(_, n)| is_problem(n)).count();
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for (_, n) in received.iter() {
        *kinds.entry(if is_problem(n) { "alert" } else { "other" }).or_default() += 1;
    }
    let rss_after = rss_kib();
    println!(
        "storm of {series} series: the limited receiver got {alerts} alerts and a summary of {} (limit {limit} in {window_s} s), the summary {:.1} s after the last sample; memory {} MiB before, {} MiB after",
        summary.map_or(0, |(_, count)| count),
        judged.as_secs_f64(),
        rss_before / 1024,
        rss_after / 1024,
    );
    let expected_summary = series - limit;
    if alerts != limit
        || summary.map(|(_, count)| count) != Some(expected_summary)
        || kinds.get("other") != Some(&1)
    {
        eprintln!(
            "alerts: expected {limit} alerts and one summary of {expected_summary}, got {alerts} and {summary:?} ({kinds:?})"
        );
        return true;
    }
    false
}

/// This process's resident memory, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
