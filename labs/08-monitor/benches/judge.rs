//! What judging costs: 10,000 rules over 10,000 series, one round of samples (one for each
//! series, a step after the last) at a time, in samples a second; and the parser, in expressions
//! a second.
//!
//! The goal is at least 1,000,000 samples a second against 10,000 rules. `cargo lab bench monitor`
//! runs these on your crate and on the reference.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use monitor::judge::{Expr, Judge, JudgeConfig, Rule};
use monitor::{Millis, Point, Sample};

/// Metrics, each watched on each of `HOSTS` hosts by a rule of its own.
const METRICS: usize = 1000;
/// Hosts.
const HOSTS: usize = 10;
/// The step.
const STEP: Millis = 10_000;

/// 10,000 rules, one for each metric on each host, with every function and operator; and for a
/// tenth of the metrics one more over every host.
fn rules() -> Vec<Rule> {
    let functions = ["all(#3)", "avg(#5)", "max(#3)", "min(#2)", "diff(#1)", "pdiff(#2)"];
    let ops = [">", ">=", "<", "<=", "==", "!="];
    let mut rules = Vec::new();
    for metric in 0..METRICS {
        for host in 0..HOSTS {
            let text = format!(
                "m{metric:04}{{host=h{host:02}}} {} {} {}",
                functions[(metric + host) % 6],
                ops[metric % 6],
                50 + host
            );
            rules.push(Rule::new(rules.len() as u64, Expr::parse(&text).unwrap()));
        }
        if metric % 10 == 0 {
            rules.push(Rule::new(
                rules.len() as u64,
                Expr::parse(&format!("m{metric:04} all(#3) > 99")).unwrap(),
            ));
        }
    }
    rules
}

/// One sample of every series at step `n`: values that wander across the thresholds.
fn round(n: Millis) -> Vec<Point> {
    let mut points = Vec::with_capacity(METRICS * HOSTS);
    for metric in 0..METRICS {
        for host in 0..HOSTS {
            let value = ((n as usize * 7 + metric * 13 + host * 29) % 100) as f64;
            points.push(Sample::gauge(format!("m{metric:04}"), value).at(&format!("h{host:02}"), n * STEP));
        }
    }
    points
}

fn judging(c: &mut Criterion) {
    let rules = rules();
    let mut judge = Judge::new(JudgeConfig::new(Duration::from_millis(STEP as u64)), rules);
    // The series are known and their windows full, as in a judge that has run a while.
    for n in 0..6 {
        for point in round(n) {
            black_box(judge.observe(point));
        }
    }
    let mut group = c.benchmark_group("judge");
    group.throughput(Throughput::Elements((METRICS * HOSTS) as u64));
    group.sample_size(20);
    let mut next = 6;
    group.bench_function("10k series against 10k rules, per sample", |b| {
        b.iter_batched(
            || {
                next += 1;
                round(next)
            },
            |points| {
                for point in points {
                    black_box(judge.observe(point));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn parsing(c: &mut Criterion) {
    let texts: Vec<String> = rules().iter().take(1000).map(|rule| rule.expr.to_string()).collect();
    let mut group = c.benchmark_group("judge");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("parse an expression", |b| {
        b.iter(|| {
            for text in &texts {
                black_box(Expr::parse(text).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, judging, parsing);
criterion_main!(benches);
