//! Stage 3: target. Target expressions: choosing agents by id globs (`*`, `?`, classes), tags
//! and lists, combined with `not`, `and` and `or` at their precedence; keywords only as whole
//! words; errors that name their column; nesting and length limits that never overflow a stack;
//! glob matching without exponential backtracking; and, as properties, no panic on any text, a
//! text form that parses back to the same expression, and matching that agrees with a simple
//! model. Then jobs over real agents: exactly the hosts a target names, an agent that refuses a
//! command not meant for it, enrolled agents that are away, batches that bound how many hosts run
//! at once, a failure budget that stops a rollout, late hosts told apart (still running, or lost),
//! and the audit log.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use common::{TestMaster, key, operator};
use control::agent::{AgentHandle, AllowList, spawn_agent};
use control::audit::{AuditLog, AuditRecord};
use control::command::{Command, Refusal, SignedCommand, unix_ms};
use control::master::{Ending, Heard, Job, JobEvent, JobOptions, Portion};
use control::target::{Glob, MAX_DEPTH, MAX_LEN, Target, TargetError};
use control::wire::{Outcome, Reply};
use proptest::prelude::*;
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------------
// Target expressions.

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A small fleet: ids with their tags.
fn fleet() -> Vec<(&'static str, BTreeMap<String, String>)> {
    vec![
        ("web1", tags(&[("dc", "bj"), ("role", "web")])),
        ("web2", tags(&[("dc", "sh"), ("role", "web")])),
        ("web3", tags(&[("dc", "bj"), ("role", "web")])),
        ("web4", tags(&[("dc", "bj")])),
        ("db1", tags(&[("dc", "bj"), ("role", "db")])),
        ("db2", tags(&[("dc", "sh"), ("role", "db")])),
        ("cache-1", tags(&[])),
        ("android7", tags(&[("dc", "bj-2")])),
        ("order1", tags(&[("role", "shop")])),
        ("nothing", tags(&[])),
    ]
}

/// The ids of the fleet `expression` chooses, in the fleet's order.
fn chosen(expression: &str) -> Vec<&'static str> {
    let target = Target::parse(expression).unwrap_or_else(|err| panic!("{expression:?}: {err}"));
    fleet().into_iter().filter(|(id, tags)| target.matches(id, tags)).map(|(id, _)| id).collect()
}

fn parse_error(expression: &str) -> TargetError {
    match Target::parse(expression) {
        Ok(target) => panic!("{expression:?} parsed, as {target:?}"),
        Err(err) => err,
    }
}

#[test]
fn the_issues_example_chooses_the_web_agents_in_bj_but_web3() {
    assert_eq!(chosen("web* and tag:dc=bj and not web3"), ["web1", "web4"]);
    let target: Target = "web* and tag:dc=bj and not web3".parse().unwrap();
    assert_eq!(target, Target::parse("  web*   and tag:dc=bj and\tnot web3 ").unwrap());
    assert!(target.matches("web9", &tags(&[("dc", "bj")])));
    assert!(!target.matches("web9", &tags(&[("dc", "sh")])));
    assert!(!target.matches("web9", &tags(&[])), "no dc tag at all");
}

#[test]
fn not_binds_tighter_than_and_and_and_than_or() {
    let web1_or_web_in_sh = ["web1", "web2"];
    assert_eq!(chosen("web1 or web* and tag:dc=sh"), web1_or_web_in_sh);
    assert_eq!(chosen("web1 or (web* and tag:dc=sh)"), web1_or_web_in_sh);
    assert_eq!(chosen("(web1 or web*) and tag:dc=sh"), ["web2"]);
    assert_eq!(chosen("web* and tag:dc=sh or web1"), web1_or_web_in_sh);

    assert_eq!(chosen("not web1 and tag:dc=bj"), ["web3", "web4", "db1"]);
    assert_eq!(chosen("(not web1) and tag:dc=bj"), ["web3", "web4", "db1"]);
    assert_eq!(chosen("not (web1 and tag:dc=bj)").len(), fleet().len() - 1);

    assert_eq!(chosen("not db* or db1"), chosen("(not db*) or db1"));
    assert_eq!(chosen("not not web1"), ["web1"]);
    assert_eq!(chosen("web1 or db1 and not tag:dc=bj or db2"), ["web1", "db2"]);
}

#[test]
fn a_list_matches_what_any_of_its_terms_match_and_binds_tightest() {
    assert_eq!(chosen("web1,db*"), ["web1", "db1", "db2"]);
    assert_eq!(chosen("web1 , db2 ,cache-1"), ["web1", "db2", "cache-1"]);
    assert_eq!(chosen("web1,tag:role=db"), ["web1", "db1", "db2"]);
    assert_eq!(chosen("web1,web2 and tag:dc=bj"), ["web1"]);
    assert_eq!(chosen("not web1,web2"), chosen("not (web1,web2)"));
    assert_eq!(chosen("web9,web1"), ["web1"]);
}

#[test]
fn globs_match_whole_ids_with_star_question_mark_and_classes() {
    assert_eq!(chosen("*").len(), fleet().len());
    assert_eq!(chosen("web?"), ["web1", "web2", "web3", "web4"]);
    assert_eq!(chosen("web"), Vec::<&str>::new(), "a glob matches the whole id");
    assert_eq!(chosen("eb*"), Vec::<&str>::new(), "from its start");
    assert_eq!(chosen("*1"), ["web1", "db1", "cache-1", "order1"]);
    assert_eq!(chosen("web[1-2]"), ["web1", "web2"]);
    assert_eq!(chosen("web[!1-2]"), ["web3", "web4"]);
    assert_eq!(chosen("web[13]"), ["web1", "web3"]);
    assert_eq!(chosen("[a-d]*[0-9]"), ["db1", "db2", "cache-1", "android7"]);
    assert_eq!(chosen("*-*"), ["cache-1"]);
    assert_eq!(chosen("w*b?"), ["web1", "web2", "web3", "web4"]);
    assert_eq!(chosen("W*"), Vec::<&str>::new(), "ids are compared case by case");
}

#[test]
fn tags_match_by_glob_and_a_missing_tag_never_matches() {
    assert_eq!(chosen("tag:dc=bj"), ["web1", "web3", "web4", "db1"]);
    assert_eq!(chosen("tag:dc=bj*"), ["web1", "web3", "web4", "db1", "android7"]);
    assert_eq!(chosen("tag:dc=?h"), ["web2", "db2"]);
    assert_eq!(chosen("tag:role=*"), ["web1", "web2", "web3", "db1", "db2", "order1"]);
    assert_eq!(chosen("not tag:role=*"), ["web4", "cache-1", "android7", "nothing"]);
    assert_eq!(
        chosen("not tag:role=db"),
        ["web1", "web2", "web3", "web4", "cache-1", "android7", "order1", "nothing"]
    );
    assert_eq!(chosen("tag:owner=*"), Vec::<&str>::new());

    let target = Target::parse("tag:env=prod*").unwrap();
    assert!(target.matches("x", &tags(&[("env", "production")])));
    assert!(!target.matches("x", &tags(&[("ENV", "production")])));
    assert!(Target::parse("tag:zone=*").unwrap().matches("x", &tags(&[("zone", "")])));
    assert!(Target::parse("tag:note=?").unwrap().matches("x", &tags(&[("note", "é")])), "one character");
}

#[test]
fn keywords_are_whole_words_and_ids_that_begin_with_one_are_globs() {
    assert_eq!(chosen("android*"), ["android7"]);
    assert_eq!(chosen("order1"), ["order1"]);
    assert_eq!(chosen("nothing"), ["nothing"]);
    assert_eq!(chosen("android* or order1 or nothing"), ["android7", "order1", "nothing"]);
    assert_eq!(chosen("not nothing and not android* and not order*").len(), fleet().len() - 3);
    assert_eq!(chosen("(order1)or(nothing)"), ["order1", "nothing"]);
    assert_eq!(chosen("not(web*)and(tag:dc=bj*)"), ["db1", "android7"]);
    assert_eq!(chosen("tag:role=shop"), ["order1"]);
}

#[test]
fn a_long_flat_expression_is_not_deep() {
    let many = vec!["web1"; 500].join(" or ") + " or db2";
    assert!(many.chars().count() <= MAX_LEN);
    assert_eq!(chosen(&many), ["web1", "db2"]);
    let list = vec!["nope"; 700].join(",") + ",db1";
    assert_eq!(chosen(&list), ["db1"]);
}

#[test]
fn bad_expressions_name_the_column_where_they_stop_making_sense() {
    let cases = [
        ("", 1),
        ("   ", 4),
        ("web* and", 9),
        ("web* and and db1", 10),
        ("web1 or", 8),
        ("not", 4),
        ("web[12", 7),
        ("web[12 and db1", 7),
        ("web[]", 5),
        ("tag:dc", 7),
        ("tag:=bj", 5),
        ("(web1 or db1", 13),
        ("web1)", 5),
        ("web1 & db1", 6),
        ("wéb1", 2),
        ("web1,,db1", 6),
        ("web1 db1", 6),
    ];
    for (expression, column) in cases {
        let err = parse_error(expression);
        assert_eq!(err.column, column, "{expression:?}: {err}");
        assert!(err.message.contains("expected"), "{expression:?}: {err}");
        assert_eq!(err.to_string(), format!("column {column}: {}", err.message));
        let _: &dyn std::error::Error = &err;
    }
    assert_eq!("web1 &".parse::<Target>().unwrap_err().column, 6);
}

#[test]
fn nesting_up_to_the_limit_parses_and_deeper_is_an_error_not_a_crash() {
    let nots = "not ".repeat(MAX_DEPTH) + "web1";
    assert_eq!(chosen(&nots).len(), if MAX_DEPTH % 2 == 0 { 1 } else { fleet().len() - 1 });
    let parens = "(".repeat(MAX_DEPTH) + "web1" + &")".repeat(MAX_DEPTH);
    assert_eq!(chosen(&parens), ["web1"]);
    // A range's ends may be equal, not reversed: the error is at its second end.
    assert!(Glob::new("[a-a]").unwrap().matches("a"));
    assert_eq!(parse_error("web[z-a]").column, 7);
    // The error is at the first `not` or `(` too many.
    assert_eq!(parse_error(&("not ".repeat(MAX_DEPTH + 1) + "web1")).column, 4 * MAX_DEPTH + 1);
    assert_eq!(
        parse_error(&("(".repeat(MAX_DEPTH + 1) + "web1" + &")".repeat(MAX_DEPTH + 1))).column,
        MAX_DEPTH + 1
    );

    for hostile in ["not ".repeat(10_000) + "a", "(".repeat(10_000), "(not ".repeat(5_000) + "a"] {
        let err = parse_error(&hostile);
        assert!((1..=hostile.chars().count() + 1).contains(&err.column), "{err}");
        assert!(!err.message.is_empty());
    }
}

#[test]
fn text_over_the_length_limit_is_an_error_at_the_first_character_past_it() {
    let longest = "a".repeat(MAX_LEN);
    assert!(Target::parse(&longest).is_ok());
    assert_eq!(parse_error(&(longest.clone() + "a")).column, MAX_LEN + 1);
    assert_eq!(parse_error(&"é".repeat(MAX_LEN + 1)).column, MAX_LEN + 1, "counted in characters");
    assert!(Target::parse(&"a,".repeat(MAX_LEN)).is_err());
}

#[test]
fn globs_on_their_own() {
    let glob = Glob::new("web[0-9]*").unwrap();
    assert_eq!(glob.as_str(), "web[0-9]*");
    assert_eq!(glob.to_string(), "web[0-9]*");
    assert!(
        glob.matches("web1") && glob.matches("web10.bj") && !glob.matches("webx") && !glob.matches("web")
    );
    assert!(Glob::new("*").unwrap().matches(""));
    assert!(Glob::new("*").unwrap().matches("any text at all, ünïcode too"));
    assert!(Glob::new("a?c").unwrap().matches("aéc"));
    assert!(Glob::new("[!a]").unwrap().matches("é"));
    assert!(Glob::new("a-b_c.d").unwrap().matches("a-b_c.d"));
    assert!(!Glob::new("a-b_c.d").unwrap().matches("a-b_cxd"), "'.' is itself, not any character");
    assert!(Glob::new("[a-]").unwrap().matches("-"), "a '-' last in a class is itself");

    assert_eq!(Glob::new("").unwrap_err().column, 1);
    assert_eq!(Glob::new("ab[").unwrap_err().column, 4);
    assert_eq!(Glob::new("a b").unwrap_err().column, 2);
    assert_eq!(Glob::new("wéb").unwrap_err().column, 2);
    assert!(Glob::new("[c-a]").is_err(), "a backwards range");
    assert!(Glob::new("[]").is_err());
}

#[test]
fn stars_never_make_matching_exponential() {
    let many_a = "a".repeat(5_000);
    let glob = Glob::new("a*a*a*a*a*a*a*a*b").unwrap();
    assert!(!glob.matches(&many_a));
    assert!(glob.matches(&(many_a.clone() + "b")));
    let target = Target::parse("*a*a*a*a*a*a*a*a*a*a*a*a*b or tag:x=a*a*a*a*a*a*a*a*b").unwrap();
    assert!(!target.matches(&many_a, &tags(&[("x", &many_a)])));
}

/// The glob text of a short random glob over `a` to `c`.
fn glob_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec!["a", "b", "c", "*", "?", "[a-b]", "[!c]", "[bc]", "[!a-b]"]);
    prop::collection::vec(piece, 1..4).prop_map(|pieces| pieces.concat())
}

/// A random target: ids and tags `dc` and `role`, nested.
fn target() -> impl Strategy<Value = Target> {
    let id = glob_text().prop_map(|text| Target::Id(Glob::new(&text).unwrap()));
    let tag = (prop::sample::select(vec!["dc", "role"]), glob_text())
        .prop_map(|(key, text)| Target::Tag { key: key.to_owned(), value: Glob::new(&text).unwrap() });
    let term = prop_oneof![id, tag];
    let leaf = prop_oneof![3 => term.clone(), 1 => prop::collection::vec(term, 2..4).prop_map(Target::List)];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Target::Not(Box::new(t))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Target::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Target::Or(Box::new(l), Box::new(r))),
        ]
    })
}

/// Text made mostly of the expression's own words and characters, to reach deep into a parser.
fn expression_like() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "a", "b*", "[a-c]", "[!", "[", "]", "?", "*", "and", "or", "not", "(", ")", ",", " ", " ", "tag:",
        "tag:dc=", "=", "dc", ":", "-", "é", "\t", "nota",
    ]);
    prop::collection::vec(word, 0..24).prop_map(|words| words.concat())
}

/// A simple (exponential, but the texts are short) model of a glob.
fn model_glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some('*') => (0..=text.len()).any(|skip| model_glob(&pattern[1..], &text[skip..])),
        Some('?') => !text.is_empty() && model_glob(&pattern[1..], &text[1..]),
        Some('[') => {
            let close = pattern.iter().position(|&c| c == ']').unwrap();
            let (negated, body) = match pattern[1] {
                '!' => (true, &pattern[2..close]),
                _ => (false, &pattern[1..close]),
            };
            let Some(&c) = text.first() else { return false };
            let mut inside = false;
            let mut i = 0;
            while i < body.len() {
                if i + 2 < body.len() && body[i + 1] == '-' {
                    inside |= (body[i]..=body[i + 2]).contains(&c);
                    i += 3;
                } else {
                    inside |= body[i] == c;
                    i += 1;
                }
            }
            inside != negated && model_glob(&pattern[close + 1..], &text[1..])
        }
        Some(&p) => text.first() == Some(&p) && model_glob(&pattern[1..], &text[1..]),
    }
}

fn model_matches_glob(glob: &Glob, text: &str) -> bool {
    model_glob(&glob.as_str().chars().collect::<Vec<_>>(), &text.chars().collect::<Vec<_>>())
}

/// What `target` should choose, evaluated by hand.
fn model(target: &Target, id: &str, tags: &BTreeMap<String, String>) -> bool {
    match target {
        Target::Id(glob) => model_matches_glob(glob, id),
        Target::Tag { key, value } => tags.get(key).is_some_and(|found| model_matches_glob(value, found)),
        Target::List(targets) => targets.iter().any(|t| model(t, id, tags)),
        Target::Not(inner) => !model(inner, id, tags),
        Target::And(l, r) => model(l, id, tags) && model(r, id, tags),
        Target::Or(l, r) => model(l, id, tags) || model(r, id, tags),
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    /// Any text: a target or an error at a column inside it (or just past its end), never a panic;
    /// and a target's text parses back to it.
    #[test]
    fn any_text_parses_or_errors_at_a_column_within_it(
        text in prop_oneof![any::<String>(), "[ -~]{0,40}", expression_like()],
    ) {
        match Target::parse(&text) {
            Ok(target) => prop_assert_eq!(Target::parse(&target.to_string()), Ok(target.clone())),
            Err(err) => {
                prop_assert!((1..=text.chars().count() + 1).contains(&err.column), "{:?}: {}", text, err);
                prop_assert!(!err.message.is_empty());
            }
        }
        let _ = Glob::new(&text);
    }

    /// A target's text parses back to an equal target.
    #[test]
    fn a_targets_text_parses_back_to_it(target in target()) {
        let text = target.to_string();
        prop_assert_eq!(Target::parse(&text), Ok(target), "{}", text);
    }

    /// Matching agrees with the model, for random ids and tags.
    #[test]
    fn matching_agrees_with_a_model(
        target in target(),
        agents in prop::collection::vec(
            ("[a-c]{0,5}", prop::option::of("[a-c]{0,3}"), prop::option::of("[a-c]{0,3}")),
            1..8,
        ),
    ) {
        for (id, dc, role) in agents {
            let mut tags = BTreeMap::new();
            tags.extend(dc.map(|value| ("dc".to_owned(), value)));
            tags.extend(role.map(|value| ("role".to_owned(), value)));
            prop_assert_eq!(target.matches(&id, &tags), model(&target, &id, &tags), "{} on {} {:?}", target, id, tags);
        }
    }

    /// A glob alone agrees with the model too.
    #[test]
    fn globs_agree_with_a_model(pattern in glob_text(), text in "[a-c]{0,6}") {
        let glob = Glob::new(&pattern).unwrap();
        prop_assert_eq!(glob.matches(&text), model_matches_glob(&glob, &text), "{} on {}", pattern, text);
    }
}

// ---------------------------------------------------------------------------------------------
// Batches and failure budgets, as numbers

#[test]
fn a_portion_is_a_count_or_a_percentage() {
    assert_eq!("3".parse::<Portion>(), Ok(Portion::Count(3)));
    assert_eq!(" 7 ".parse::<Portion>(), Ok(Portion::Count(7)));
    assert_eq!("0".parse::<Portion>(), Ok(Portion::Count(0)));
    assert_eq!("10%".parse::<Portion>(), Ok(Portion::Percent(10)));
    assert_eq!("100%".parse::<Portion>(), Ok(Portion::Percent(100)));
    for bad in ["", "%", "101%", "-1", "5.5", "abc", "10 %x", "1e3"] {
        assert!(bad.parse::<Portion>().is_err(), "{bad:?} parsed");
    }
}

#[test]
fn a_percentage_of_hosts_rounds_up() {
    assert_eq!(Portion::Percent(10).of(15), 2);
    assert_eq!(Portion::Percent(10).of(10), 1);
    assert_eq!(Portion::Percent(25).of(8), 2);
    assert_eq!(Portion::Percent(100).of(7), 7);
    assert_eq!(Portion::Percent(0).of(10), 0);
    assert_eq!(Portion::Count(3).of(100), 3);
}

proptest! {
    #[test]
    fn a_portion_displays_as_it_parses(portion in prop_oneof![
        (0usize..100_000).prop_map(Portion::Count),
        (0u8..=100).prop_map(Portion::Percent),
    ]) {
        prop_assert_eq!(portion.to_string().parse::<Portion>(), Ok(portion));
    }

    #[test]
    fn a_percentage_is_never_short(percent in 1u8..=100, hosts in 1usize..100_000) {
        let share = Portion::Percent(percent).of(hosts);
        prop_assert!(share * 100 >= hosts * usize::from(percent));
        prop_assert!((share - 1) * 100 < hosts * usize::from(percent));
    }
}

// ---------------------------------------------------------------------------------------------
// Jobs over real agents

/// A command for `target` that runs `/bin/sh -c script`, signed by the operator.
fn sh(target: &str, script: &str) -> SignedCommand {
    let args = ["-c".to_string(), script.to_string()];
    let command = Command::new(target, "/bin/sh", &args, Duration::from_secs(60), Duration::from_secs(10));
    SignedCommand::sign(&command, &operator())
}

/// Job options that ask after a late host within 300 ms and wait 300 ms for its answer.
fn quick(batch: Option<Portion>, failure_budget: Option<Portion>) -> JobOptions {
    JobOptions { batch, failure_budget, wait: Duration::from_millis(300), probe: Duration::from_millis(300) }
}

/// Starts agents `(id, tags)` with keys 1, 2, …, enrolled, and waits until all are connected.
async fn start_fleet(
    master: &TestMaster,
    agents: &[(&str, &str)],
    shutdown: &CancellationToken,
) -> Vec<AgentHandle> {
    let mut handles = Vec::new();
    for (n, (id, tags)) in agents.iter().enumerate() {
        let n = u8::try_from(n + 1).unwrap();
        master.keys.enroll(id, &key(n).public()).unwrap();
        let mut config = master.agent_config(id, n);
        config.tags = tags
            .split_whitespace()
            .map(|tag| {
                let (key, value) = tag.split_once('=').unwrap();
                (key.to_string(), value.to_string())
            })
            .collect();
        handles.push(spawn_agent(config, shutdown.clone()));
    }
    eventually("every agent to connect", || agents.iter().all(|(id, _)| master.has(id))).await;
    handles
}

/// Every event of `job` until its end, checking on the way that each host it named is sent the
/// command at most once and before it ends, and ends exactly once.
async fn events(mut job: Job) -> (Vec<JobEvent>, BTreeMap<String, Ending>) {
    let named: BTreeSet<String> = job.hosts.iter().cloned().collect();
    assert_eq!(named.len(), job.hosts.len(), "a host named twice: {:?}", job.hosts);
    let mut events = Vec::new();
    let mut sent = BTreeSet::new();
    let mut endings = BTreeMap::new();
    while let Some(event) = within("the job's next event", job.next()).await {
        match &event {
            JobEvent::Sent(host) => {
                assert!(named.contains(host), "sent to {host}, which the job did not name");
                assert!(sent.insert(host.clone()), "sent to {host} twice");
                assert!(!endings.contains_key(host), "sent to {host} after it ended");
            }
            JobEvent::Ended(host, ending) => {
                assert!(named.contains(host), "{host} ended, which the job did not name");
                assert!(endings.insert(host.clone(), ending.clone()).is_none(), "{host} ended twice");
            }
            JobEvent::StillRunning(_) | JobEvent::Stopped { .. } => {}
        }
        events.push(event);
    }
    assert_eq!(endings.keys().cloned().collect::<BTreeSet<_>>(), named, "hosts that never ended");
    (events, endings)
}

/// The hosts among `endings` that ended as `label`.
fn ended_as(endings: &BTreeMap<String, Ending>, label: &str) -> Vec<String> {
    endings.iter().filter(|(_, ending)| ending.label() == label).map(|(host, _)| host.clone()).collect()
}

/// The most lines `s` not yet followed by an `e` at any point of the file at `path`: how many
/// hosts ran the command at once.
fn most_at_once(path: &std::path::Path) -> usize {
    let (mut now, mut most) = (0usize, 0usize);
    for line in std::fs::read_to_string(path).unwrap().lines() {
        match line {
            "s" => now += 1,
            "e" => now -= 1,
            other => panic!("unexpected line {other:?}"),
        }
        most = most.max(now);
    }
    most
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_on_exactly_the_hosts_its_target_names() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let agents = [
        ("web1", "dc=bj role=web"),
        ("web2", "dc=bj role=web"),
        ("web3", "dc=bj role=web"),
        ("web4", "dc=sh role=web"),
        ("db1", "dc=bj role=db"),
    ];
    let handles = start_fleet(&master, &agents, &shutdown).await;

    let job =
        master.handle.start(&sh("web* and tag:dc=bj and not web3", "echo ran"), &quick(None, None)).unwrap();
    let mut named = job.hosts.clone();
    named.sort();
    assert_eq!(named, ["web1", "web2"]);
    let (_, endings) = events(job).await;
    assert_eq!(ended_as(&endings, "done"), ["web1", "web2"]);
    assert_eq!(endings["web1"].exit().unwrap().stdout, b"ran\n");
    for (handle, (id, _)) in handles.iter().zip(agents) {
        let ran = handle.status().ran;
        assert_eq!(ran, u64::from(id == "web1" || id == "web2"), "{id} ran {ran} commands");
    }

    let (_, endings) =
        events(master.handle.start(&sh("tag:role=db or web4", "true"), &quick(None, None)).unwrap()).await;
    assert_eq!(ended_as(&endings, "done"), ["db1", "web4"]);
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_refuses_a_command_its_target_does_not_name() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let handles = start_fleet(&master, &[("web1", "dc=bj")], &shutdown).await;
    // The master relays to whom it is told; the agent reads the signed target for itself.
    for target in ["db*", "tag:dc=sh", "not web1", "web1 and not tag:dc=bj"] {
        let mut dispatch = master.handle.dispatch(&sh(target, "true"), &["web1".to_string()]).unwrap();
        let (_, heard) = within("a reply", dispatch.replies.recv()).await.unwrap();
        assert_eq!(
            heard,
            Heard::Reply(Reply { command: dispatch.id, outcome: Outcome::Refused(Refusal::NotTargeted) }),
            "for {target}"
        );
    }
    assert_eq!(handles[0].status().ran, 0);
    assert!(matches!(
        master.handle.start(&sh("web1 and", "true"), &quick(None, None)),
        Err(Refusal::BadTarget(_))
    ));
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_agent_that_is_away_ends_unreachable() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let handles = start_fleet(&master, &[("web1", "dc=bj"), ("web2", "dc=sh")], &shutdown).await;
    master.keys.enroll("web9", &key(9).public()).unwrap();
    // web2 goes away: matched afterwards by the tags it last said.
    handles[1].kill();
    eventually("web2 to be gone", || !master.has("web2")).await;

    let (_, endings) = events(master.handle.start(&sh("web*", "true"), &quick(None, None)).unwrap()).await;
    assert_eq!(ended_as(&endings, "done"), ["web1"]);
    assert_eq!(ended_as(&endings, "unreachable"), ["web2", "web9"]);
    let (_, endings) =
        events(master.handle.start(&sh("tag:dc=sh", "true"), &quick(None, None)).unwrap()).await;
    assert_eq!(ended_as(&endings, "unreachable"), ["web2"]);
    assert_eq!(endings.len(), 1);
    shutdown.cancel();
}

/// Runs a half-second command on eight agents in batches of `batch`; how many ran at once.
async fn at_once_in_batches_of(batch: Portion) -> usize {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let ids: Vec<String> = (1..=8).map(|n| format!("web{n}")).collect();
    let agents: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "")).collect();
    let _handles = start_fleet(&master, &agents, &shutdown).await;
    let dir = testkit::scratch_dir();
    let log = dir.path().join("runs");
    let script = format!("echo s >> {0}; sleep 0.5; echo e >> {0}", log.display());
    let job = master.handle.start(&sh("web*", &script), &quick(Some(batch), None)).unwrap();
    let (_, endings) = events(job).await;
    assert_eq!(ended_as(&endings, "done").len(), 8, "{endings:?}");
    shutdown.cancel();
    most_at_once(&log)
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_bounds_how_many_hosts_run_at_once() {
    let most = at_once_in_batches_of(Portion::Count(3)).await;
    assert!(most <= 3, "{most} hosts ran at once in batches of 3");
    assert!(most >= 2, "batches of 3 ran one host at a time");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_may_be_a_percentage_of_the_hosts() {
    let most = at_once_in_batches_of(Portion::Percent(25)).await;
    assert_eq!(most, 2, "25% of 8 hosts is 2 at once");
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_failure_budget_stops_the_rollout() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let ids: Vec<String> = (1..=10).map(|n| format!("web{n:02}")).collect();
    let agents: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "")).collect();
    let handles = start_fleet(&master, &agents, &shutdown).await;

    let job = master
        .handle
        .start(&sh("web*", "exit 3"), &quick(Some(Portion::Count(2)), Some(Portion::Count(2))))
        .unwrap();
    let (events, endings) = events(job).await;
    let failed = ended_as(&endings, "failed");
    // The third failure spends the budget of two; the one host still running then ends too.
    assert!((3..=4).contains(&failed.len()), "{failed:?} failed");
    assert_eq!(ended_as(&endings, "skipped").len(), 10 - failed.len(), "{endings:?}");
    assert!(events.contains(&JobEvent::Stopped { failures: 3, budget: 2 }), "{events:?}");
    let ran: u64 = handles.iter().map(|handle| handle.status().ran).sum();
    assert_eq!(ran, u64::try_from(failed.len()).unwrap(), "a skipped host ran the command");
    assert_eq!(endings["web01"].exit().unwrap().status(), 3);
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn failures_within_the_budget_do_not_stop_the_rollout() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let ids: Vec<String> = (1..=10).map(|n| format!("web{n:02}")).collect();
    let agents: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "")).collect();
    let _handles = start_fleet(&master, &agents, &shutdown).await;

    // Two of ten fail; a budget of 20% allows two.
    let dir = testkit::scratch_dir();
    let counter = dir.path().join("n");
    // The first two hosts to take the lock directory fail: which two does not matter.
    let script = format!(
        "mkdir {0}.1 2>/dev/null && exit 1; mkdir {0}.2 2>/dev/null && exit 1; exit 0",
        counter.display()
    );
    let job = master
        .handle
        .start(&sh("web*", &script), &quick(Some(Portion::Count(3)), Some(Portion::Percent(20))))
        .unwrap();
    let (events, endings) = events(job).await;
    assert_eq!(ended_as(&endings, "failed").len(), 2, "{endings:?}");
    assert_eq!(ended_as(&endings, "done").len(), 8, "{endings:?}");
    assert!(!events.iter().any(|event| matches!(event, JobEvent::Stopped { .. })), "{events:?}");
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_late_host_that_is_still_running_is_waited_for() {
    let master = TestMaster::start(|_| {}).await;
    let shutdown = CancellationToken::new();
    let _handles = start_fleet(&master, &[("web1", "")], &shutdown).await;
    // Asked after 300 ms, it says it is still running, again and again, then replies.
    let job = master.handle.start(&sh("web1", "sleep 1.2; echo late"), &quick(None, None)).unwrap();
    let (events, endings) = events(job).await;
    assert!(events.contains(&JobEvent::StillRunning("web1".into())), "{events:?}");
    assert_eq!(ended_as(&endings, "done"), ["web1"], "{endings:?}");
    assert_eq!(endings["web1"].exit().unwrap().stdout, b"late\n");
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_or_dead_host_is_lost_and_the_others_end() {
    // Heartbeats every 10 s: the master still counts the frozen agent as connected throughout.
    let dir = testkit::scratch_dir();
    let audit = dir.path().join("audit.log");
    let log = audit.clone();
    let master = TestMaster::start(move |config| {
        config.heartbeat = Duration::from_secs(10);
        config.audit = Some(log);
    })
    .await;
    let shutdown = CancellationToken::new();
    let handles = start_fleet(&master, &[("web1", ""), ("web2", ""), ("web3", "")], &shutdown).await;
    handles[1].freeze();

    let mut job = master.handle.start(&sh("web*", "sleep 0.5"), &quick(None, None)).unwrap();
    let named = job.hosts.clone();
    let mut endings = BTreeMap::new();
    while let Some(event) = within("the job's next event", job.next()).await {
        match event {
            // web3 dies with the command running.
            JobEvent::Sent(host) if host == "web3" => handles[2].kill(),
            JobEvent::Ended(host, ending) => assert!(endings.insert(host, ending).is_none()),
            _ => {}
        }
    }
    assert_eq!(endings.len(), named.len());
    assert_eq!(ended_as(&endings, "done"), ["web1"], "{endings:?}");
    assert_eq!(ended_as(&endings, "lost"), ["web2", "web3"], "{endings:?}");
    // The audit log says why each was lost.
    let lost: Vec<String> = AuditLog::read(&audit)
        .unwrap()
        .into_iter()
        .filter_map(|record| match record {
            AuditRecord::Host { ending, reason, .. } if ending == "lost" => reason,
            _ => None,
        })
        .collect();
    assert_eq!(lost.len(), 2, "{lost:?}");
    assert!(lost.iter().all(|why| !why.is_empty()), "{lost:?}");
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_says_who_ran_what_where_and_how_it_ended() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("audit.log");
    let audit = path.clone();
    let master = TestMaster::start(move |config| config.audit = Some(audit)).await;
    let shutdown = CancellationToken::new();
    master.keys.enroll("web1", &key(1).public()).unwrap();
    let mut config = master.agent_config("web2", 2);
    config.allow = AllowList::parse("/bin/echo\n");
    master.keys.enroll("web2", &key(2).public()).unwrap();
    let _web1 = spawn_agent(master.agent_config("web1", 1), shutdown.clone());
    let _web2 = spawn_agent(config, shutdown.clone());
    eventually("both agents to connect", || master.has("web1") && master.has("web2")).await;

    let signed = sh("web*", "exit 0");
    let before = unix_ms(SystemTime::now());
    let job = master.handle.start(&signed, &quick(None, None)).unwrap();
    let id = job.id;
    let (_, endings) = events(job).await;
    assert_eq!(ended_as(&endings, "refused"), ["web2"]);
    let stranger = SignedCommand::sign(
        &Command::new("*", "/bin/sh", &[], Duration::from_secs(60), Duration::from_secs(1)),
        &key(99),
    );
    assert!(master.handle.start(&stranger, &quick(None, None)).is_err());

    let records = AuditLog::read(&path).unwrap();
    let operator = operator().public().to_string();
    let start = records
        .iter()
        .find(|record| matches!(record, AuditRecord::Start { job, .. } if *job == id))
        .unwrap_or_else(|| panic!("no start record in {records:?}"));
    let AuditRecord::Start { operator: who, targets, program, args, hosts, .. } = start else {
        unreachable!()
    };
    assert_eq!((who, targets.as_str(), program.as_str()), (&operator, "web*", "/bin/sh"));
    assert_eq!(
        hosts.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"web1".to_string(), &"web2".to_string()])
    );
    assert_eq!(args, &["-c", "exit 0"]);
    let hosts: BTreeMap<&str, (&str, Option<i32>, Option<&str>)> = records
        .iter()
        .filter_map(|record| match record {
            AuditRecord::Host { job, host, ending, status, reason, .. } if *job == id => {
                Some((host.as_str(), (ending.as_str(), *status, reason.as_deref())))
            }
            _ => None,
        })
        .collect();
    assert_eq!(hosts["web1"], ("done", Some(0), None));
    let after = unix_ms(SystemTime::now());
    for record in &records {
        let at_ms = match record {
            AuditRecord::Start { at_ms, .. }
            | AuditRecord::Sent { at_ms, .. }
            | AuditRecord::Host { at_ms, .. }
            | AuditRecord::End { at_ms, .. }
            | AuditRecord::Refused { at_ms, .. } => *at_ms,
        };
        assert!((before..=after).contains(&at_ms), "{record:?} is not stamped with the time it was written");
    }
    let refusal = records.iter().find_map(|record| match record {
        AuditRecord::Host { host, refusal, .. } if host == "web2" => Some(refusal.clone()),
        _ => None,
    });
    assert_eq!(
        refusal,
        Some(Some(Refusal::NotAllowed("/bin/sh".into()))),
        "the refusal itself, for a restarted master"
    );
    assert_eq!(hosts["web2"].0, "refused");
    assert!(hosts["web2"].2.is_some_and(|why| why.contains("allow-list")), "{:?}", hosts["web2"]);
    let end = records.iter().find(|record| matches!(record, AuditRecord::End { job, .. } if *job == id));
    let Some(AuditRecord::End { counts, stopped, .. }) = end else { panic!("no end record in {records:?}") };
    assert_eq!(counts, &BTreeMap::from([("done".to_string(), 1), ("refused".to_string(), 1)]));
    assert!(!stopped);
    assert!(
        records.iter().any(|record| matches!(record, AuditRecord::Refused { operator, reason, .. }
            if *operator == key(99).public().to_string() && reason.contains("not an operator"))),
        "no refusal of the stranger's command in {records:?}"
    );
    shutdown.cancel();
}

#[test]
fn an_audit_log_keeps_what_was_written_before_a_torn_line() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&path).unwrap();
    let record = AuditRecord::Refused { at_ms: 1, operator: "ab".into(), reason: "unsigned".into() };
    log.record(&record).unwrap();
    drop(log);
    // A crash in the middle of the next line.
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"event\":\"sta").unwrap();
    let log = AuditLog::open(&path).unwrap();
    log.record(&record).unwrap();
    assert_eq!(AuditLog::read(&path).unwrap(), [record.clone(), record.clone()]);
    // A log that ends whole is appended to as it is: no empty line.
    drop(log);
    AuditLog::open(&path).unwrap().record(&record).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("\n\n") && text.ends_with('\n'), "{text:?}");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    /// Whatever else a log holds (a crash's torn lines, a hand edit), reading it never panics and
    /// keeps every whole record, in order.
    #[test]
    fn an_audit_log_read_keeps_every_record_among_any_lines(
        junk in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..8),
        reasons in prop::collection::vec("[a-z ]{0,20}", 0..8),
    ) {
        let dir = testkit::scratch_dir();
        let path = dir.path().join("audit.log");
        let records: Vec<AuditRecord> = reasons
            .iter()
            .enumerate()
            .map(|(i, reason)| AuditRecord::Refused { at_ms: i as u64, operator: "ab".into(), reason: reason.clone() })
            .collect();
        let mut text = Vec::new();
        for (i, line) in junk.iter().enumerate() {
            let line: Vec<u8> = line.iter().copied().filter(|&byte| byte != b'\n').collect();
            text.extend_from_slice(&line);
            text.push(b'\n');
            if let Some(record) = records.get(i) {
                text.extend_from_slice(&serde_json::to_vec(record).unwrap());
                text.push(b'\n');
            }
        }
        for record in records.iter().skip(junk.len()) {
            text.extend_from_slice(&serde_json::to_vec(record).unwrap());
            text.push(b'\n');
        }
        std::fs::write(&path, &text).unwrap();
        let read = AuditLog::read(&path).unwrap();
        // A junk line that happens to be a record is a record: keep only the ones written here.
        let ours: Vec<AuditRecord> = read.into_iter().filter(|record| matches!(record, AuditRecord::Refused { operator, .. } if operator == "ab")).collect();
        prop_assert_eq!(ours, records);
    }
}
