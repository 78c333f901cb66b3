//! The judge on sample vectors, for the alert comparison with Prometheus (compare-alerts.sh): each
//! line of standard input is `NAME EXPR | v0 v1 _ v3 …`, one value a minute from minute 0 (`_` for
//! a minute with no sample); each line of output is `NAME STATUS@MINUTE …`, the judge's alerts.
//!
//! ```text
//! $ echo 'gap cpu.busy all(#3) > 90 | 95 96 _ _ 97' | cargo run -p monitor-ref --example vectors
//! gap
//! ```

use std::io::{BufRead, Write};
use std::time::Duration;

use monitor::judge::{Expr, Judge, JudgeConfig, Rule};
use monitor::{Millis, Sample};

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.expect("standard input");
        let Some((head, values)) = line.split_once('|') else { continue };
        let Some((name, expr)) = head.trim().split_once(' ') else { continue };
        let expr = Expr::parse(expr.trim()).unwrap_or_else(|err| panic!("{name}: {err}"));
        let metric = expr.metric.clone();
        let mut judge = Judge::new(JudgeConfig::new(Duration::from_secs(60)), vec![Rule::new(1, expr)]);
        let mut alerts = Vec::new();
        for (minute, value) in values.split_whitespace().enumerate() {
            let Ok(value) = value.parse::<f64>() else { continue };
            let point = Sample::gauge(metric.clone(), value).at("web1", minute as Millis * 60_000);
            for event in judge.observe(point) {
                if let Some(alert) = event.alert() {
                    alerts.push(format!("{}@{minute}", alert.status.as_str()));
                }
            }
        }
        writeln!(out, "{name} {}", alerts.join(" ")).expect("standard output");
    }
}
