//! Stage 6: the judge. The rule parser (exact forms, errors that name the column, a round trip
//! for any expression), Open-Falcon's functions, the judge's semantics on the vectors of the
//! chapter (alignment, stale samples, gaps, NaN, one PROBLEM, one OK, reminders, `max_alerts = 0`,
//! NODATA and the storm guard), the event log and a restart that neither misses an alert nor
//! repeats one, and judge shards behind the relay.

use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use monitor::judge::function::evaluate;
use monitor::judge::history::{History, Offer};
use monitor::judge::{
    Alert, Event, EventLog, EventSink, Expr, Function, Judge, JudgeConfig, JudgeShard, Op, Rule, RuleSpec,
    Selector, Status, load_rules, parse_rules, serve_judge,
};
use monitor::query::Source;
use monitor::relay::{DEFAULT_VNODES, Relay, RelayConfig, Ring};
use monitor::store::{Store, StoreOptions};
use monitor::wire::{FrameReader, Message, write_message};
use monitor::{Millis, Point, Sample, Shutdown};
use proptest::prelude::*;
use testkit::test;

/// The step of the chapter's vectors: 60 s.
const STEP: Millis = 60_000;

// ---------------------------------------------------------------------------------------------
// Rules

fn expr(text: &str) -> Expr {
    Expr::parse(text).unwrap_or_else(|err| panic!("{text:?} parses: {err}"))
}

/// The column a bad expression's error names.
fn error_column(text: &str) -> usize {
    match Expr::parse(text) {
        Ok(parsed) => panic!("{text:?} parsed, as {parsed:?}"),
        Err(err) => {
            assert!(err.to_string().contains(&format!("column {}", err.column)), "{err} names its column");
            err.column
        }
    }
}

#[test]
fn an_expression_names_its_metric_selectors_function_operator_and_threshold() {
    assert_eq!(
        expr("cpu.busy{host=web1,cpu!=total} all(#3) > 90"),
        Expr {
            metric: "cpu.busy".into(),
            selectors: vec![
                Selector { name: "host".into(), equal: true, value: "web1".into() },
                Selector { name: "cpu".into(), equal: false, value: "total".into() },
            ],
            function: Function::All(3),
            op: Op::Greater,
            threshold: 90.0,
        }
    );
    let functions = [
        ("all", Function::All(2)),
        ("avg", Function::Avg(2)),
        ("max", Function::Max(2)),
        ("min", Function::Min(2)),
        ("diff", Function::Diff(2)),
        ("pdiff", Function::Pdiff(2)),
    ];
    for (name, function) in functions {
        assert_eq!(expr(&format!("m {name}(#2) < 1")).function, function, "{name}");
    }
    let ops = [
        (">", Op::Greater),
        (">=", Op::GreaterOrEqual),
        ("<", Op::Less),
        ("<=", Op::LessOrEqual),
        ("==", Op::Equal),
        ("!=", Op::NotEqual),
    ];
    for (text, op) in ops {
        assert_eq!(expr(&format!("m max(#1) {text} 1")).op, op, "{text}");
        assert_eq!(expr(&format!("m max(#1){text}1")).op, op, "{text} without spaces");
    }
    assert_eq!(expr("  df.bytes.free.percent { mount = \"/var/lib\" }  min(#10)<=-2.5e1 ").threshold, -25.0);
    assert_eq!(
        expr(r#"m{path="a \"b\" c\\d"} max(#1) > 0"#).selectors[0].value,
        r#"a "b" c\d"#,
        "a quoted value keeps its spaces, quotes and backslashes"
    );
    assert!(expr("m{} max(#1) > 0").selectors.is_empty());
}

#[test]
fn an_expression_that_does_not_parse_names_the_column_where_it_goes_wrong() {
    let cases = [
        ("", 1),
        ("   ", 4),
        ("9cpu max(#3) > 90", 1),
        ("cpu.busy sum(#3) > 90", 10),
        ("cpu.busy all(3) > 90", 13),
        ("cpu.busy all(#0) > 90", 15),
        ("cpu.busy all(#101) > 90", 15),
        ("cpu.busy all(#3 > 90", 16),
        ("cpu.busy all(#3) => 90", 18),
        ("cpu.busy all(#3) 90", 18),
        ("cpu.busy all(#3) > ninety", 20),
        ("cpu.busy all(#3) > NaN", 20),
        ("cpu.busy all(#3) > inf", 20),
        ("cpu.busy all(#3) > 1e999", 20),
        ("cpu.busy all(#3) >", 19),
        ("cpu.busy all(#3) > 90 and more", 23),
        ("cpu.busy{host=web1 all(#3) > 90", 20),
        ("cpu.busy{host} all(#3) > 90", 14),
        ("cpu.busy{host!web1} all(#3) > 90", 14),
        ("cpu.busy{=web1} all(#3) > 90", 10),
        ("cpu.busy{host=} all(#3) > 90", 15),
        ("cpu.busy{host=\"web1} all(#3) > 90", 15),
    ];
    for (text, column) in cases {
        assert_eq!(error_column(text), column, "the error for {text:?}");
    }
}

/// Any expression: names and values from a small alphabet that includes what needs quoting.
fn any_expr() -> impl Strategy<Value = Expr> {
    let name = "[a-z_][a-z0-9_.]{0,8}";
    let value = "[a-z0-9 ,{}=!\"\\\\/.-]{0,8}";
    let selector =
        (name, any::<bool>(), value).prop_map(|(name, equal, value)| Selector { name, equal, value });
    let function = (0..6usize, 1..=100usize).prop_map(|(which, n)| {
        [Function::All, Function::Avg, Function::Max, Function::Min, Function::Diff, Function::Pdiff][which](
            n,
        )
    });
    let op = prop::sample::select(vec![
        Op::Greater,
        Op::GreaterOrEqual,
        Op::Less,
        Op::LessOrEqual,
        Op::Equal,
        Op::NotEqual,
    ]);
    let threshold = prop_oneof![(-1000i32..1000).prop_map(f64::from), -1e12f64..1e12, Just(0.1), Just(-0.0)];
    ("[a-z_][a-z0-9_.:/-]{0,12}", prop::collection::vec(selector, 0..4), function, op, threshold).prop_map(
        |(metric, selectors, function, op, threshold)| Expr { metric, selectors, function, op, threshold },
    )
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn any_expression_reads_back_as_it_was_written(expression in any_expr()) {
        let text = expression.to_string();
        prop_assert_eq!(Expr::parse(&text), Ok(expression), "{}", text);
    }

    #[test]
    fn no_text_panics_the_parser_and_every_error_is_within_the_text(text in "[a-z0-9 #(){}=!<>,.\"\\\\-]{0,40}") {
        if let Err(err) = Expr::parse(&text) {
            prop_assert!(err.column >= 1 && err.column <= text.chars().count() + 1, "{} in {:?}", err, text);
        }
    }
}

#[test]
fn a_selector_matches_the_host_or_a_tag_and_not_equal_matches_a_missing_tag() {
    let rule = expr("cpu.busy{host=web1,cpu!=total} all(#1) > 0");
    let key = |host: &str, cpu: Option<&str>| {
        let mut sample = Sample::gauge("cpu.busy", 1.0);
        if let Some(cpu) = cpu {
            sample = sample.tag("cpu", cpu);
        }
        sample.at(host, 0).series()
    };
    assert!(rule.matches(&key("web1", Some("0"))));
    assert!(rule.matches(&key("web1", None)), "a missing tag is not equal to total");
    assert!(!rule.matches(&key("web1", Some("total"))));
    assert!(!rule.matches(&key("web2", Some("0"))));
    let other = Sample::gauge("mem.used", 1.0).at("web1", 0).series();
    assert!(!rule.matches(&other), "another metric");
}

#[test]
fn a_rules_file_gives_each_rule_its_fields_or_their_defaults() {
    let text = r#"
        [[rule]]
        id = 1
        expr = "cpu.busy all(#3) > 90"
        priority = 0
        max_alerts = 5
        min_interval = 60
        note = "CPU busy"

        [[rule]]
        id = 2
        expr = "mem.used min(#2) > 6e9"
    "#;
    let rules = parse_rules(text).unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!((rules[0].id, rules[0].priority, rules[0].max_alerts), (1, 0, 5));
    assert_eq!((rules[0].min_interval, rules[0].note.as_str()), (Duration::from_secs(60), "CPU busy"));
    assert_eq!(rules[1], Rule::new(2, expr("mem.used min(#2) > 6e9")), "the defaults");
    assert_eq!(RuleSpec::of(&rules[0]).to_rule(), Ok(rules[0].clone()), "a spec of a rule reads back as it");
    assert_eq!(parse_rules("").unwrap(), Vec::<Rule>::new());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), text).unwrap();
    assert_eq!(load_rules(&dir.path().join("rules.toml")).unwrap(), rules);
    assert!(load_rules(&dir.path().join("missing.toml")).is_err());
}

#[test]
fn a_bad_rule_names_its_id_and_field() {
    let cases = [
        (
            "[[rule]]\nid = 3\nexpr = \"cpu.busy sum(#3) > 90\"\n",
            "rule 3: expr: column 10: expected a function",
        ),
        (
            "[[rule]]\nid = 4\nexpr = \"m max(#1) > 1\"\npriority = 6\n",
            "rule 4: priority: 6 is not a priority from 0 to 5",
        ),
        (
            "[[rule]]\nid = 1\nexpr = \"m max(#1) > 1\"\n[[rule]]\nid = 1\nexpr = \"m max(#1) > 2\"\n",
            "rule 1: the id is used twice",
        ),
        ("[[rule]]\nid = 1\nexpr = \"m max(#1) > 1\"\ncolour = 1\n", "colour"),
        ("[[rule]]\nexpr = \"m max(#1) > 1\"\n", "id"),
    ];
    for (text, expected) in cases {
        let err = parse_rules(text).map(|_| ()).unwrap_err();
        assert!(err.contains(expected), "{text:?}: {err:?} should contain {expected:?}");
    }
    let spec = RuleSpec {
        id: 9,
        expr: "m max(#1) >".into(),
        priority: None,
        max_alerts: None,
        min_interval: None,
        note: None,
    };
    let err = spec.to_rule().unwrap_err();
    assert_eq!(err.field, "expr");
    assert_eq!(err.to_string(), format!("expr: {}", err.message));
    assert!(err.message.starts_with("column 12: "), "{err}");
    for (priority, valid) in [(0, true), (5, true), (6, false), (255, false)] {
        let spec = RuleSpec {
            id: 1,
            expr: "m max(#1) > 1".into(),
            priority: Some(priority),
            max_alerts: None,
            min_interval: None,
            note: None,
        };
        assert_eq!(spec.to_rule().is_ok(), valid, "priority {priority}");
    }
}

// ---------------------------------------------------------------------------------------------
// Functions

fn holds(function: Function, op: Op, threshold: f64, newest_first: &[f64]) -> Option<(bool, f64)> {
    evaluate(function, op, threshold, newest_first).map(|verdict| (verdict.holds, verdict.value))
}

#[test]
fn the_functions_compute_what_open_falcons_do() {
    use Function::*;
    let values = [95.0, 80.0, 96.0, 10.0];
    assert_eq!(holds(All(3), Op::Greater, 90.0, &values), Some((false, 95.0)), "all: 80 breaks it");
    assert_eq!(holds(All(1), Op::Greater, 90.0, &values), Some((true, 95.0)));
    assert_eq!(holds(Avg(3), Op::Greater, 91.0, &values), Some((false, 90.33333333333333)));
    assert_eq!(holds(Avg(2), Op::Less, 90.0, &values), Some((true, 87.5)));
    assert_eq!(holds(Max(3), Op::GreaterOrEqual, 96.0, &values), Some((true, 96.0)));
    assert_eq!(holds(Min(3), Op::Less, 81.0, &values), Some((true, 80.0)));
    assert_eq!(holds(Min(4), Op::Less, 10.0, &values), Some((false, 10.0)));
    // diff(#N): the newest minus each of the N before it, the first that holds.
    assert_eq!(holds(Diff(1), Op::Greater, 10.0, &values), Some((true, 15.0)));
    assert_eq!(holds(Diff(3), Op::Greater, 50.0, &values), Some((true, 85.0)), "95 - 10 holds");
    assert_eq!(holds(Diff(2), Op::Less, -5.0, &values), Some((false, -1.0)), "the last tried");
    // pdiff: as a percentage of the older value; an older value of 0 is skipped.
    assert_eq!(holds(Pdiff(1), Op::Greater, 18.0, &values), Some((true, 18.75)));
    assert_eq!(holds(Pdiff(2), Op::Greater, 50.0, &[10.0, 0.0, 5.0]), Some((true, 100.0)));
    let (held, value) = holds(Pdiff(1), Op::Greater, 0.0, &[10.0, 0.0]).unwrap();
    assert!(!held && value.is_nan(), "every older value is 0: nothing to compare, {value}");
}

#[test]
fn a_function_needs_its_n_values_and_diff_needs_one_more() {
    assert_eq!(evaluate(Function::All(3), Op::Greater, 0.0, &[1.0, 2.0]), None);
    assert_eq!(evaluate(Function::Max(3), Op::Greater, 0.0, &[1.0, 2.0]), None);
    assert_eq!(evaluate(Function::Diff(2), Op::Greater, 0.0, &[1.0, 2.0]), None);
    assert_eq!(evaluate(Function::Pdiff(2), Op::Greater, 0.0, &[1.0, 2.0]), None);
    assert!(evaluate(Function::Diff(2), Op::Greater, 0.0, &[3.0, 2.0, 1.0]).is_some());
    assert!(evaluate(Function::All(3), Op::Greater, 0.0, &[1.0, 2.0, 3.0, 4.0]).is_some(), "more is fine");
}

#[test]
fn each_operator_at_and_either_side_of_its_threshold() {
    let cases = [
        (Op::Greater, [false, false, true]),
        (Op::GreaterOrEqual, [false, true, true]),
        (Op::Less, [true, false, false]),
        (Op::LessOrEqual, [true, true, false]),
        (Op::Equal, [false, true, false]),
        (Op::NotEqual, [true, false, true]),
    ];
    for (op, expected) in cases {
        let got = [89.0, 90.0, 91.0].map(|value| op.holds(value, 90.0));
        assert_eq!(got, expected, "{op} 90 for 89, 90 and 91");
    }
}

#[test]
fn equal_and_not_equal_allow_for_floating_point() {
    assert!(Op::Equal.holds(0.1 + 0.2, 0.3));
    assert!(Op::Equal.holds(90.00005, 90.0));
    assert!(!Op::Equal.holds(90.001, 90.0));
    assert!(!Op::NotEqual.holds(0.1 + 0.2, 0.3));
    assert!(Op::NotEqual.holds(90.001, 90.0));
    // Exactly 0.0001 apart: neither within the tolerance nor past it, as in Open-Falcon.
    assert!(!Op::Equal.holds(0.0001, 0.0));
    assert!(!Op::NotEqual.holds(0.0001, 0.0));
}

#[test]
fn nan_never_makes_a_condition_hold() {
    let nan = f64::NAN;
    for op in [Op::Greater, Op::GreaterOrEqual, Op::Less, Op::LessOrEqual, Op::Equal, Op::NotEqual] {
        assert!(!op.holds(nan, 90.0), "NaN {op} 90");
        for function in [Function::All(2), Function::Avg(2), Function::Max(2), Function::Min(2)] {
            let verdict = evaluate(function, op, 90.0, &[95.0, nan]).unwrap();
            assert!(!verdict.holds, "{function} {op} 90 over [95, NaN]");
        }
        let verdict = evaluate(Function::Diff(1), op, 0.0, &[nan, 5.0]).unwrap();
        assert!(!verdict.holds, "diff(#1) {op} 0 over [NaN, 5]");
    }
    assert!(evaluate(Function::Max(2), Op::Greater, 90.0, &[80.0, nan]).is_some_and(|v| !v.holds));
    assert!(evaluate(Function::Min(2), Op::Less, 90.0, &[95.0, nan]).is_some_and(|v| !v.holds));
}

#[test]
fn a_history_keeps_its_newest_values_in_order_and_as_many_as_asked() {
    let mut history = History::new(STEP, 3);
    assert_eq!((history.newest(), history.capacity()), (None, 3));
    for (i, value) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
        assert_eq!(history.offer(i as Millis * STEP + 7, value), Offer::Kept(i as Millis * STEP));
    }
    assert_eq!(history.newest_first(), [4.0, 3.0, 2.0]);
    assert_eq!(history.offer(3 * STEP, 9.0), Offer::Stale);
    assert_eq!(history.newest(), Some(3 * STEP));
    history.set_capacity(2);
    assert_eq!((history.newest_first(), history.capacity()), (&[4.0, 3.0][..], 2));
    assert_eq!(history.offer(6 * STEP, 5.0), Offer::Kept(6 * STEP), "after a gap");
    assert_eq!(history.newest_first(), [5.0], "the run starts again");
}

// ---------------------------------------------------------------------------------------------
// The judge, on the chapter's vectors: N = 3, `> 90`, step 60 s

fn rule(id: u64, text: &str) -> Rule {
    Rule::new(id, expr(text))
}

fn judge(rules: Vec<Rule>) -> Judge {
    Judge::new(JudgeConfig::new(Duration::from_millis(STEP as u64)), rules)
}

fn cpu(host: &str, at: Millis, value: f64) -> Point {
    Sample::gauge("cpu.busy", value).at(host, at)
}

/// Feeds `values` of web1's cpu.busy, one a step from 0, and returns the alerts, each with the
/// 1-based number of the sample that caused it.
fn run(judge: &mut Judge, values: &[f64]) -> Vec<(usize, Alert)> {
    let mut alerts = Vec::new();
    for (index, &value) in values.iter().enumerate() {
        for event in judge.observe(cpu("web1", index as Millis * STEP, value)) {
            alerts.push((index + 1, event.alert().expect("an alert, not a pipeline-down").clone()));
        }
    }
    alerts
}

/// The (sample number, status) of each alert.
fn statuses(alerts: &[(usize, Alert)]) -> Vec<(usize, Status)> {
    alerts.iter().map(|(n, alert)| (*n, alert.status)).collect()
}

fn all3() -> Judge {
    judge(vec![rule(7, "cpu.busy all(#3) > 90")])
}

#[test]
fn three_breaches_fire_one_problem_on_the_third_and_a_fourth_does_not_fire_again() {
    let alerts = run(&mut all3(), &[95.0, 96.0, 97.0, 98.0]);
    assert_eq!(statuses(&alerts), [(3, Status::Problem)]);
    let (_, alert) = &alerts[0];
    assert_eq!(alert.rule, 7);
    assert_eq!(alert.series, cpu("web1", 0, 0.0).series());
    assert_eq!(alert.value, 97.0);
    assert_eq!(alert.at, 2 * STEP);
    assert_eq!((alert.count, alert.notify), (1, true));
    assert_eq!(alert.expr, "cpu.busy all(#3) > 90");
    assert_eq!(alert.status.as_str(), "PROBLEM");
    assert!(Event::Alert(alert.clone()).notifies());
}

#[test]
fn a_value_under_the_threshold_breaks_the_run() {
    let alerts = run(&mut all3(), &[95.0, 96.0, 80.0, 97.0, 98.0, 99.0]);
    assert_eq!(statuses(&alerts), [(6, Status::Problem)]);
}

#[test]
fn a_gap_of_more_than_two_steps_starts_the_run_again() {
    let mut judge = all3();
    assert!(judge.observe(cpu("web1", 0, 95.0)).is_empty());
    assert!(judge.observe(cpu("web1", STEP, 96.0)).is_empty());
    assert!(judge.observe(cpu("web1", 4 * STEP, 97.0)).is_empty(), "180 s after 96: a new run");
    assert!(judge.observe(cpu("web1", 5 * STEP, 98.0)).is_empty());
    let alerts = judge.observe(cpu("web1", 6 * STEP, 99.0));
    assert_eq!(alerts.len(), 1, "the new run's third breach fires");

    let mut judge = all3();
    judge.observe(cpu("web1", 0, 95.0));
    judge.observe(cpu("web1", STEP, 96.0));
    assert_eq!(
        judge.observe(cpu("web1", 3 * STEP, 97.0)).len(),
        1,
        "a gap of exactly two steps keeps the run"
    );
}

#[test]
fn times_are_aligned_to_the_step_and_a_sample_at_or_before_the_last_is_dropped() {
    let mut judge = all3();
    assert!(judge.observe(cpu("web1", 5_000, 95.0)).is_empty());
    assert!(judge.observe(cpu("web1", 5_000, 95.0)).is_empty(), "a resend");
    assert!(judge.observe(cpu("web1", 59_999, 96.0)).is_empty(), "the same step as the first");
    assert!(judge.observe(cpu("web1", 61_000, 97.0)).is_empty(), "the second step's");
    assert!(judge.observe(cpu("web1", 30_000, 98.0)).is_empty(), "late: before the newest");
    let alerts = judge.observe(cpu("web1", 125_000, 99.0));
    assert_eq!(alerts.len(), 1, "the third step's breach is the third");
    assert_eq!(alerts[0].alert().unwrap().at, 2 * STEP, "stamped with its aligned time");
}

#[test]
fn nan_is_never_a_breach() {
    let alerts = run(&mut all3(), &[95.0, f64::NAN, 97.0, 98.0, 99.0]);
    assert_eq!(statuses(&alerts), [(5, Status::Problem)]);
    let mut judge = judge(vec![rule(1, "cpu.busy max(#1) != 5")]);
    assert!(judge.observe(cpu("web1", 0, f64::NAN)).is_empty(), "NaN != 5 does not hold");
}

#[test]
fn after_a_problem_a_value_under_the_threshold_gives_exactly_one_ok() {
    let alerts = run(&mut all3(), &[95.0, 96.0, 97.0, 80.0, 70.0, 60.0]);
    assert_eq!(statuses(&alerts), [(3, Status::Problem), (4, Status::Ok)]);
    let (_, ok) = &alerts[1];
    assert_eq!((ok.value, ok.at, ok.notify), (80.0, 3 * STEP, true));
    let alerts = run(&mut all3(), &[80.0, 70.0, 95.0]);
    assert!(alerts.is_empty(), "no OK without a problem before it: {alerts:?}");
}

/// The sample numbers of the notifications of a problem that starts at the third of 20 breaches,
/// under all(#3) > 90 with `max_alerts` and `min_interval`.
fn notified(max_alerts: u32, min_interval: Duration) -> Vec<(usize, u32)> {
    let mut rule = rule(1, "cpu.busy all(#3) > 90");
    rule.max_alerts = max_alerts;
    rule.min_interval = min_interval;
    let mut judge = judge(vec![rule]);
    let alerts = run(&mut judge, &[95.0; 20]);
    alerts.iter().filter(|(_, alert)| alert.notify).map(|(n, alert)| (*n, alert.count)).collect()
}

#[test]
fn a_problem_is_told_again_only_after_n_new_breaches_and_the_interval_and_at_most_max_alerts_times() {
    // N = 3 new samples is the bound when the interval is shorter.
    assert_eq!(notified(3, Duration::from_secs(60)), [(3, 1), (6, 2), (9, 3)]);
    // The interval is the bound when it is longer: 10 minutes after the 3rd sample is the 13th.
    assert_eq!(notified(3, Duration::from_secs(600)), [(3, 1), (13, 2)]);
    // max_alerts counts the first.
    assert_eq!(notified(1, Duration::from_secs(60)), [(3, 1)]);
    assert_eq!(notified(5, Duration::ZERO), [(3, 1), (6, 2), (9, 3), (12, 4), (15, 5)]);
}

#[test]
fn a_reminder_counts_only_samples_on_which_the_problem_still_held() {
    let mut rule = rule(1, "cpu.busy max(#1) > 90");
    rule.min_interval = Duration::ZERO;
    rule.max_alerts = 2;
    let mut judge = judge(vec![rule]);
    let values = [95.0, 99.0, 99.0, 99.0];
    let alerts = run(&mut judge, &values);
    let counts: Vec<(usize, u32)> = alerts.iter().map(|(n, a)| (*n, a.count)).collect();
    assert_eq!(counts, [(1, 1), (2, 2)], "N = 1: one new breach is enough");
}

#[test]
fn max_alerts_zero_records_the_changes_and_notifies_no_one() {
    let mut quiet = rule(1, "cpu.busy all(#3) > 90");
    quiet.max_alerts = 0;
    quiet.min_interval = Duration::ZERO;
    let mut judge = judge(vec![quiet.clone()]);
    let alerts = run(&mut judge, &[95.0, 96.0, 97.0, 98.0, 99.0, 99.0, 99.0, 80.0]);
    assert_eq!(statuses(&alerts), [(3, Status::Problem), (8, Status::Ok)], "no reminders");
    assert!(alerts.iter().all(|(_, alert)| !alert.notify && alert.count == 0), "{alerts:?}");
    assert!(alerts.iter().all(|(_, alert)| !Event::Alert(alert.clone()).notifies()));
    assert_eq!(alerts[1].1.status.as_str(), "OK");
    // Nor is its silence told.
    let mut judge = watching(9, quiet);
    for host in 0..8 {
        judge.observe(cpu(&format!("web{host}"), 5 * STEP, 10.0));
    }
    let nodata = alerts_of(&judge.tick(5 * STEP));
    assert_eq!(nodata.len(), 1);
    assert_eq!((nodata[0].status.as_str(), nodata[0].notify, nodata[0].count), ("NODATA", false, 0));
}

#[test]
fn each_rule_and_each_series_has_its_own_alert() {
    let mut judge =
        judge(vec![rule(1, "cpu.busy all(#2) > 90"), rule(2, "cpu.busy{host=web2} max(#1) > 50")]);
    let mut events = Vec::new();
    for step in 0..2 {
        for host in ["web1", "web2", "web3"] {
            events.extend(judge.observe(cpu(host, step * STEP, 95.0)));
        }
    }
    let mut fired: Vec<(u64, String, usize)> = events
        .iter()
        .map(|event| {
            let alert = event.alert().unwrap();
            (alert.rule, alert.series.host.clone(), (alert.at / STEP) as usize)
        })
        .collect();
    fired.sort();
    let expected = [(1, "web1", 1), (1, "web2", 1), (1, "web3", 1), (2, "web2", 0)];
    assert_eq!(fired, expected.map(|(r, h, s)| (r, h.to_owned(), s)));
}

// ---------------------------------------------------------------------------------------------
// NODATA and the storm guard

/// A judge of `rule` that has seen `hosts` hosts' cpu.busy at 0 and 60 s, below the threshold.
fn watching(hosts: usize, rule: Rule) -> Judge {
    let mut judge = judge(vec![rule]);
    for step in 0..2 {
        for host in 0..hosts {
            assert!(judge.observe(cpu(&format!("web{host}"), step * STEP, 10.0)).is_empty());
        }
    }
    judge
}

fn alerts_of(events: &[Event]) -> Vec<Alert> {
    events.iter().filter_map(Event::alert).cloned().collect()
}

#[test]
fn a_series_silent_for_more_than_k_steps_is_nodata_once() {
    let mut judge = watching(9, rule(1, "cpu.busy all(#3) > 90"));
    let last = STEP;
    // web0 goes on; the others too, except web8.
    for host in 0..8 {
        judge.observe(cpu(&format!("web{host}"), 5 * STEP, 10.0));
    }
    assert!(judge.tick(last + 3 * STEP).is_empty(), "3 steps of silence is not more than 3 steps");
    let events = judge.tick(last + 3 * STEP + 1);
    let alerts = alerts_of(&events);
    assert_eq!(alerts.len(), 1, "{events:?}");
    assert_eq!(alerts[0].status, Status::NoData);
    assert_eq!(alerts[0].series.host, "web8");
    assert_eq!((alerts[0].value, alerts[0].notify, alerts[0].count), (10.0, true, 1), "the last value, told");
    assert!(judge.tick(last + 4 * STEP).is_empty(), "NODATA once");
    // Data again, under the threshold: the NODATA it was told of ends with an OK.
    let mut events = Vec::new();
    for step in 6..9 {
        events.extend(judge.observe(cpu("web8", step * STEP, 10.0)));
    }
    let statuses: Vec<Status> = alerts_of(&events).iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Status::Ok]);
}

#[test]
fn a_problem_that_goes_silent_is_nodata_and_a_breach_after_it_is_a_new_problem() {
    let mut judge = judge(vec![rule(1, "cpu.busy max(#1) > 90")]);
    for host in ["a", "b", "c", "d"] {
        judge.observe(cpu(host, 0, 10.0));
    }
    assert_eq!(alerts_of(&judge.observe(cpu("a", STEP, 95.0)))[0].status, Status::Problem);
    for host in ["b", "c", "d"] {
        judge.observe(cpu(host, 5 * STEP, 10.0));
    }
    let alerts = alerts_of(&judge.tick(5 * STEP));
    assert_eq!(
        alerts.iter().map(|a| (a.series.host.as_str(), a.status)).collect::<Vec<_>>(),
        [("a", Status::NoData)]
    );
    let alerts = alerts_of(&judge.observe(cpu("a", 6 * STEP, 99.0)));
    assert_eq!(alerts.iter().map(|a| (a.status, a.count)).collect::<Vec<_>>(), [(Status::Problem, 1)]);
}

#[test]
fn more_than_a_third_of_the_series_going_silent_at_once_is_one_pipeline_down() {
    // 3 of 6 go silent: more than a third.
    let mut judge = watching(6, rule(1, "cpu.busy all(#3) > 90"));
    for host in 0..3 {
        judge.observe(cpu(&format!("web{host}"), 5 * STEP, 10.0));
    }
    let events = judge.tick(5 * STEP);
    let downs: Vec<&Event> = events.iter().filter(|e| matches!(e, Event::PipelineDown { .. })).collect();
    assert_eq!(downs.len(), 1, "{events:?}");
    assert!(downs[0].notifies() && downs[0].alert().is_none());
    assert!(matches!(downs[0], Event::PipelineDown { silent: 3, watched: 6, .. }), "{:?}", downs[0]);
    let nodata = alerts_of(&events);
    assert_eq!(nodata.len(), 3, "each silent series is recorded NODATA");
    assert!(nodata.iter().all(|a| a.status == Status::NoData && !a.notify), "and no one is told: {nodata:?}");
    assert!(judge.tick(6 * STEP).is_empty(), "once");

    // 3 of 9: exactly a third, each its own NODATA.
    let mut judge = watching(9, rule(1, "cpu.busy all(#3) > 90"));
    for host in 0..6 {
        judge.observe(cpu(&format!("web{host}"), 5 * STEP, 10.0));
    }
    let events = judge.tick(5 * STEP);
    assert!(events.iter().all(|e| !matches!(e, Event::PipelineDown { .. })), "{events:?}");
    let nodata = alerts_of(&events);
    assert_eq!(nodata.len(), 3);
    assert!(nodata.iter().all(|a| a.status == Status::NoData && a.notify), "{nodata:?}");
}

#[test]
fn a_few_series_are_never_a_storm() {
    // 2 of 2 go silent: all of them, but fewer than storm_min (3).
    let mut judge = watching(2, rule(1, "cpu.busy all(#3) > 90"));
    let events = judge.tick(5 * STEP);
    assert!(events.iter().all(|e| !matches!(e, Event::PipelineDown { .. })), "{events:?}");
    assert_eq!(alerts_of(&events).iter().filter(|a| a.notify).count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Rules that change

#[test]
fn rules_can_be_replaced_and_an_unchanged_rule_keeps_its_problem() {
    let mut judge = judge(vec![rule(1, "cpu.busy max(#1) > 90"), rule(2, "cpu.busy max(#1) > 50")]);
    assert_eq!(judge.observe(cpu("web1", 0, 95.0)).len(), 2);
    judge.observe(Sample::gauge("mem.used", 1.0).at("web1", 0));
    assert_eq!((judge.rules().len(), judge.watched()), (2, 1), "mem.used has no rule: not watched");
    judge.set_rules(vec![
        rule(1, "cpu.busy max(#1) > 90"),
        rule(2, "cpu.busy max(#1) > 99"),
        rule(3, "cpu.busy min(#2) > 0"),
    ]);
    let alerts = alerts_of(&judge.observe(cpu("web1", STEP, 96.0)));
    let fired: Vec<(u64, Status)> = alerts.iter().map(|a| (a.rule, a.status)).collect();
    assert_eq!(
        fired,
        [(3, Status::Problem)],
        "rule 1 is still in PROBLEM, rule 2 changed and starts afresh, rule 3 has two values"
    );
    assert_eq!((judge.rules().len(), judge.watched()), (3, 1));
    judge.set_rules(vec![]);
    assert!(judge.observe(cpu("web1", 2 * STEP, 99.0)).is_empty());
    assert_eq!((judge.rules().len(), judge.watched()), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// The event log and restarts

/// A store holding web1's cpu.busy: `values`, one a step from `start`.
fn store_with(dir: &std::path::Path, start: Millis, values: &[f64]) -> Arc<Store> {
    let store = Store::open(StoreOptions::new(dir.join("store"))).unwrap();
    let points: Vec<Point> =
        values.iter().enumerate().map(|(i, &v)| cpu("web1", start + i as Millis * STEP, v)).collect();
    store.append(&points).unwrap();
    Arc::new(store)
}

/// A recent start, on a step: the store keeps a week.
fn recent_start(steps_ago: Millis) -> Millis {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as Millis;
    now - now % STEP - steps_ago * STEP
}

#[test]
fn the_event_log_reads_back_the_last_event_of_each_alert_and_cuts_a_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log");
    let (mut log, earlier) = EventLog::open(&path).unwrap();
    assert!(earlier.is_empty());
    let events = run(&mut all3(), &[95.0, 96.0, 97.0, 80.0, 91.0, 92.0, 93.0]);
    let events: Vec<Event> = events.into_iter().map(|(_, alert)| Event::Alert(alert)).collect();
    assert_eq!(events.len(), 3);
    log.append(&events).unwrap();
    log.append(&[Event::PipelineDown { silent: 4, watched: 9, at: 5 }]).unwrap();
    drop(log);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"event\":\"alert\",\"rule\":7,\"prio");
    std::fs::write(&path, bytes).unwrap();

    let (mut log, earlier) = EventLog::open(&path).unwrap();
    assert_eq!(earlier, [events[2].clone(), Event::PipelineDown { silent: 4, watched: 9, at: 5 }]);
    log.append(&events[..1]).unwrap();
    drop(log);
    let (_, again) = EventLog::open(&path).unwrap();
    assert_eq!(
        again,
        [Event::PipelineDown { silent: 4, watched: 9, at: 5 }, events[0].clone()],
        "the torn line is gone"
    );
}

#[test]
fn an_alert_whose_third_breach_reached_only_the_store_is_reported_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = recent_start(4);
    // The judge saw 95 and 96, and crashed; 97 reached the store.
    let (mut log, _) = EventLog::open(&dir.path().join("events.log")).unwrap();
    let mut before = all3();
    for (i, value) in [95.0, 96.0].into_iter().enumerate() {
        log.append(&before.observe(cpu("web1", start + i as Millis * STEP, value))).unwrap();
    }
    drop((before, log));
    let store = store_with(dir.path(), start, &[95.0, 96.0, 97.0]);

    let (_, earlier) = EventLog::open(&dir.path().join("events.log")).unwrap();
    let mut after = all3();
    after.restore(earlier);
    let source: &dyn Source = store.as_ref();
    let events = after.rebuild(source, start + 3 * STEP);
    let alerts = alerts_of(&events);
    assert_eq!(
        alerts.iter().map(|a| (a.status, a.at)).collect::<Vec<_>>(),
        [(Status::Problem, start + 2 * STEP)]
    );
    assert!(after.observe(cpu("web1", start + 2 * STEP, 97.0)).is_empty(), "the relay's resend is stale");
    assert!(after.observe(cpu("web1", start + 3 * STEP, 98.0)).is_empty(), "the 4th breach");
}

#[test]
fn an_alert_reported_before_a_restart_is_not_reported_again_and_its_ok_still_comes() {
    let dir = tempfile::tempdir().unwrap();
    let start = recent_start(6);
    let values = [95.0, 96.0, 97.0, 98.0];
    let (mut log, _) = EventLog::open(&dir.path().join("events.log")).unwrap();
    let mut before = all3();
    let mut told = Vec::new();
    for (i, &value) in values.iter().enumerate() {
        let events = before.observe(cpu("web1", start + i as Millis * STEP, value));
        log.append(&events).unwrap();
        told.extend(events);
    }
    assert_eq!(told.len(), 1, "the problem, told before the crash");
    drop((before, log));
    let store = store_with(dir.path(), start, &values);

    let (_, earlier) = EventLog::open(&dir.path().join("events.log")).unwrap();
    let mut after = all3();
    after.restore(earlier);
    let events = after.rebuild(store.as_ref(), start + 4 * STEP);
    assert!(events.is_empty(), "nothing told twice: {events:?}");
    assert!(after.observe(cpu("web1", start + 4 * STEP, 99.0)).is_empty(), "still the same problem");
    let alerts = alerts_of(&after.observe(cpu("web1", start + 5 * STEP, 80.0)));
    assert_eq!(alerts.iter().map(|a| (a.status, a.notify)).collect::<Vec<_>>(), [(Status::Ok, true)]);
}

#[test]
fn a_rebuild_reads_back_at_least_the_values_the_rules_need() {
    let dir = tempfile::tempdir().unwrap();
    let start = recent_start(4);
    let store = store_with(dir.path(), start, &[95.0, 96.0, 97.0]);
    let mut config = JudgeConfig::new(Duration::from_millis(STEP as u64));
    config.rebuild = Duration::ZERO;
    let mut judge = Judge::new(config, vec![rule(1, "cpu.busy all(#3) > 90")]);
    let alerts = alerts_of(&judge.rebuild(store.as_ref(), start + 3 * STEP));
    assert_eq!(alerts.len(), 1, "three values back, though the rebuild window is 0: {alerts:?}");
}

#[test]
fn a_problem_and_its_ok_before_a_restart_are_not_reported_again() {
    let dir = tempfile::tempdir().unwrap();
    let start = recent_start(5);
    let values = [95.0, 96.0, 97.0, 80.0];
    let (mut log, _) = EventLog::open(&dir.path().join("events.log")).unwrap();
    let mut before = all3();
    for (i, &value) in values.iter().enumerate() {
        log.append(&before.observe(cpu("web1", start + i as Millis * STEP, value))).unwrap();
    }
    drop((before, log));
    let store = store_with(dir.path(), start, &values);
    let (_, earlier) = EventLog::open(&dir.path().join("events.log")).unwrap();
    let mut after = all3();
    after.restore(earlier);
    assert!(after.rebuild(store.as_ref(), start + 4 * STEP).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Judge shards behind the relay

/// Events delivered to a test, through the sink a `Mutex<Vec<Event>>` is.
type Collected = Mutex<Vec<Event>>;

/// The alerts `sink` was given.
fn alerts_in(sink: &Collected) -> Vec<Alert> {
    alerts_of(&sink.lock().unwrap())
}

fn shard(dir: &std::path::Path, rules: Vec<Rule>, store: Option<Arc<Store>>) -> JudgeShard {
    JudgeShard {
        listen: "127.0.0.1:0".parse().unwrap(),
        config: JudgeConfig::new(Duration::from_millis(STEP as u64)),
        rules,
        log: dir.join("events.log"),
        store: store.map(|store| store as Arc<dyn Source>),
        tick: Duration::from_secs(3600),
    }
}

fn relay_config(judges: Vec<SocketAddr>) -> RelayConfig {
    let mut config = RelayConfig::new("127.0.0.1:0".parse().unwrap(), Vec::new());
    config.judges = judges;
    config.workers = 1;
    config.backoff_min = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(50);
    config.drain = Duration::from_secs(1);
    config
}

/// Sends `points` to `relay` as one batch and waits for its ack.
fn send(relay: SocketAddr, points: Vec<Point>) {
    let stream = TcpStream::connect(relay).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = FrameReader::new(stream);
    let count = points.len() as u32;
    write_message(reader.get_mut(), &Message::Batch { seq: 1, points }).unwrap();
    let answer = reader.read_message().unwrap();
    assert_eq!(answer, Some(Message::Ack { seq: 1, accepted: count, rejected: 0 }));
}

#[test]
fn each_series_is_judged_on_the_judge_shard_the_relay_routes_it_to() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let shutdown = Shutdown::new();
    let rules = vec![rule(1, "cpu.busy all(#2) > 90")];
    let sinks = [Arc::new(Collected::default()), Arc::new(Collected::default())];
    let servers: Vec<_> = dirs
        .iter()
        .zip(&sinks)
        .map(|(dir, sink)| {
            serve_judge(shard(dir.path(), rules.clone(), None), sink.clone(), &shutdown).unwrap()
        })
        .collect();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.local_addr()).collect();
    let relay = Relay::start(relay_config(addrs.clone()), &shutdown).unwrap();
    let start = recent_start(3);
    let hosts: Vec<String> = (0..40).map(|i| format!("web{i:02}")).collect();
    for step in 0..2 {
        send(relay.local_addr(), hosts.iter().map(|h| cpu(h, start + step * STEP, 95.0)).collect());
    }
    testkit::eventually("a problem for every host", || {
        sinks.iter().map(|s| alerts_in(s).len()).sum::<usize>() == 40
    });

    let ring = Ring::with_shards(DEFAULT_VNODES, addrs.iter().map(SocketAddr::to_string));
    let mut per_shard = [0, 0];
    for (index, sink) in sinks.iter().enumerate() {
        for alert in alerts_in(sink) {
            assert_eq!(alert.status, Status::Problem);
            assert_eq!(
                ring.shard_for(&alert.series),
                Some(addrs[index].to_string().as_str()),
                "{}",
                alert.series
            );
            per_shard[index] += 1;
        }
    }
    assert!(per_shard.iter().all(|&n| n > 0), "both shards judge some series: {per_shard:?}");
    let stats = relay.stats();
    assert_eq!(stats.judges.iter().map(|j| j.routed).sum::<u64>(), 80, "{stats:?}");
    shutdown.stop();
    relay.join().unwrap();
    for server in servers {
        server.join().unwrap();
    }
}

#[test]
fn a_judge_shard_refuses_a_frame_that_is_not_a_batch_and_closes_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let shutdown = Shutdown::new();
    let sink = Arc::new(Collected::default());
    let server = serve_judge(shard(dir.path(), vec![], None), sink as Arc<dyn EventSink>, &shutdown).unwrap();
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = FrameReader::new(stream);
    write_message(reader.get_mut(), &Message::Ack { seq: 1, accepted: 0, rejected: 0 }).unwrap();
    assert!(matches!(reader.read_message().unwrap(), Some(Message::Refused { .. })));
    assert_eq!(reader.read_message().unwrap(), None, "then the connection is closed");
    shutdown.stop();
    server.join().unwrap();
}

#[test]
fn a_judge_shard_restarted_reports_what_it_missed_once_and_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let start = recent_start(6);
    let rules = vec![rule(1, "cpu.busy all(#3) > 90"), rule(2, "cpu.busy{host=web1} max(#1) > 90")];
    // First run: 95 and 96 through the relay; rule 2 fires on the first.
    let first = Arc::new(Collected::default());
    {
        let shutdown = Shutdown::new();
        let server = serve_judge(
            shard(dir.path(), rules.clone(), None),
            first.clone() as Arc<dyn EventSink>,
            &shutdown,
        )
        .unwrap();
        let relay = Relay::start(relay_config(vec![server.local_addr()]), &shutdown).unwrap();
        send(relay.local_addr(), vec![cpu("web1", start, 95.0)]);
        send(relay.local_addr(), vec![cpu("web1", start + STEP, 96.0)]);
        testkit::eventually("rule 2's problem", || alerts_in(&first).len() == 1);
        testkit::eventually("both points judged", || relay.stats().judges[0].sent == 2);
        shutdown.stop();
        relay.join().unwrap();
        server.join().unwrap();
    }
    assert_eq!(
        alerts_in(&first).iter().map(|a| (a.rule, a.status)).collect::<Vec<_>>(),
        [(2, Status::Problem)]
    );

    // While it was down, 97 reached the store.
    let store = store_with(dir.path(), start, &[95.0, 96.0, 97.0]);
    let second = Arc::new(Collected::default());
    let (sender, receiver) = std::sync::mpsc::channel::<Event>();
    let shutdown = Shutdown::new();
    let server = serve_judge(shard(dir.path(), rules, Some(store)), Arc::new(sender), &shutdown).unwrap();
    let collect = || second.lock().unwrap().extend(receiver.try_iter());
    collect();
    let fired: Vec<(u64, Status, Millis)> =
        alerts_in(&second).iter().map(|a| (a.rule, a.status, a.at)).collect();
    assert_eq!(
        fired,
        [(1, Status::Problem, start + 2 * STEP)],
        "rule 1's missed problem, and not rule 2's again"
    );
    let relay = Relay::start(relay_config(vec![server.local_addr()]), &shutdown).unwrap();
    send(relay.local_addr(), vec![cpu("web1", start + 2 * STEP, 97.0)]);
    send(relay.local_addr(), vec![cpu("web1", start + 3 * STEP, 50.0)]);
    testkit::eventually("both recoveries", || {
        collect();
        alerts_in(&second).len() == 3
    });
    let mut fired: Vec<(u64, Status)> = alerts_in(&second)[1..].iter().map(|a| (a.rule, a.status)).collect();
    fired.sort_by_key(|(rule, _)| *rule);
    assert_eq!(fired, [(1, Status::Ok), (2, Status::Ok)]);
    shutdown.stop();
    relay.join().unwrap();
    server.join().unwrap();
}
