//! Stage 5: scale. Signatures verified once for a swarm, and nothing but the very same signed
//! command taken as verified; a swarm of real agents spread over several loopback source
//! addresses; a broadcast to a thousand of them with every result gathered; agents that echo
//! where real ones start processes, after every check; the file limit raised; and a slow agent
//! that never holds up the others.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use common::{TestMaster, key, master_key, operator};
use control::command::{Checker, Command, Refusal, SignedCommand, Verified};
use control::gather::Gather;
use control::master::{JobEvent, JobOptions};
use control::swarm::{Swarm, SwarmConfig, loopback_sources, raise_fd_limit};
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio_util::sync::CancellationToken;

const HOUR: Duration = Duration::from_secs(3600);

fn signed(target: &str, program: &str, args: &[&str]) -> SignedCommand {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    SignedCommand::sign(
        &Command::new(target, program, &args, Duration::from_secs(60), Duration::from_secs(5)),
        &operator(),
    )
}

// ---------------------------------------------------------------------------------------------
// Verifying once for many

#[test]
fn a_shared_verification_takes_only_the_very_same_signed_command() {
    let verified = Arc::new(Verified::new());
    let mut first = Checker::new(vec![operator().public()], HOUR).sharing(Arc::clone(&verified));
    let mut second = Checker::new(vec![operator().public()], HOUR).sharing(Arc::clone(&verified));
    let command = signed("*", "/bin/echo", &["hi"]);
    assert!(!verified.contains(&command));
    first.check(&command, SystemTime::now()).unwrap();
    assert!(verified.contains(&command), "a verified signature is shared");
    // Each checker keeps its own nonces.
    second.check(&command, SystemTime::now()).unwrap();
    assert_eq!(second.check(&command, SystemTime::now()).unwrap_err(), Refusal::Replayed);

    // The same body with another signature, or another body under the signature, is verified
    // afresh, and fails.
    let mut forged = command.clone();
    forged.signature[0] ^= 1;
    assert!(!verified.contains(&forged));
    let mut third = Checker::new(vec![operator().public()], HOUR).sharing(Arc::clone(&verified));
    assert_eq!(third.check(&forged, SystemTime::now()).unwrap_err(), Refusal::BadSignature);
    let mut tampered = command.clone();
    let last = tampered.body.len() - 1;
    tampered.body[last] ^= 1;
    assert_eq!(third.check(&tampered, SystemTime::now()).unwrap_err(), Refusal::BadSignature);
    // An operator the checker does not trust is refused before any shared verdict.
    let mut stranger = Checker::new(vec![key(7).public()], HOUR).sharing(verified);
    assert!(matches!(stranger.check(&command, SystemTime::now()), Err(Refusal::UnknownOperator(_))));
}

// ---------------------------------------------------------------------------------------------
// A swarm

#[test]
fn loopback_sources_leave_the_masters_address_alone() {
    let sources = loopback_sources(4);
    let expected: Vec<IpAddr> = (2..=5).map(|last| IpAddr::from([127, 0, 0, last])).collect();
    assert_eq!(sources, expected);
    assert!(sources.iter().all(|source| source.is_loopback()), "{sources:?}");
    assert!(!sources.contains(&IpAddr::from([127, 0, 0, 1])), "{sources:?}");
    assert_eq!(sources.iter().collect::<BTreeSet<_>>().len(), 4, "{sources:?}");
}

#[test]
fn the_file_limit_is_raised_to_the_hard_limit() {
    // One below the hard limit first (lowering it is always allowed; by one, so the other tests
    // of this process keep their room), so there is something to raise.
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write only the struct given, which lives here.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    let lowered = libc::rlimit { rlim_cur: limit.rlim_max - 1, rlim_max: limit.rlim_max };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
    let raised = raise_fd_limit().unwrap();
    assert!(raised >= 1024, "{raised}");
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct given, which lives here.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    assert_eq!(limit.rlim_cur, limit.rlim_max);
    assert_eq!(raised, limit.rlim_cur);
}

#[test]
fn a_swarm_makes_the_same_keys_from_the_same_seed() {
    let config = SwarmConfig::new(3, "127.0.0.1:1".parse().unwrap(), master_key().public());
    assert_eq!(config.key(2).public(), config.key(2).public());
    assert_ne!(config.key(1).public(), config.key(2).public());
    let mut other = config.clone();
    other.seed = 1;
    assert_ne!(other.key(1).public(), config.key(1).public());
    assert_eq!(config.id(7), "sim00007");
    let mut none = config.clone();
    none.agents = 0;
    let swarm = Swarm::start(&none, &CancellationToken::new());
    assert!(swarm.is_empty());
    assert_eq!(swarm.len(), 0);
}

/// A master that accepts every new key, and a swarm of `agents` for it.
async fn swarm_of(agents: usize, shutdown: &CancellationToken) -> (TestMaster, Swarm) {
    raise_fd_limit().unwrap();
    let master = TestMaster::start(|config| {
        config.auto_accept = true;
        config.heartbeat = Duration::from_secs(5);
    })
    .await;
    let mut config = SwarmConfig::new(agents, master.addr, master_key().public());
    config.operators = vec![operator().public()];
    config.backoff = (Duration::from_millis(20), Duration::from_millis(200));
    let swarm = Swarm::start(&config, shutdown);
    eventually("every agent of the swarm to connect", || master.handle.agents().len() == agents).await;
    (master, swarm)
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_dials_from_several_loopback_addresses() {
    let shutdown = CancellationToken::new();
    let (master, swarm) = swarm_of(200, &shutdown).await;
    assert_eq!(swarm.len(), 200);
    assert!(!swarm.is_empty());
    eventually("every agent to say it is connected", || swarm.connected() == 200).await;
    let sources: BTreeSet<IpAddr> = master.handle.agents().iter().map(|agent| agent.addr.ip()).collect();
    assert_eq!(sources, loopback_sources(4).into_iter().collect(), "the agents came from {sources:?}");
    let racks: BTreeSet<String> =
        master.handle.agents().iter().filter_map(|agent| agent.tags.get("rack").cloned()).collect();
    assert_eq!(racks.len(), 10, "{racks:?}");
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_to_a_thousand_agents_gathers_every_result() {
    let shutdown = CancellationToken::new();
    let (master, swarm) = swarm_of(1000, &shutdown).await;
    let started = Instant::now();
    let mut job =
        master.handle.start(&signed("*", "/bin/echo", &["hello", "world"]), &JobOptions::default()).unwrap();
    let mut gather = Gather::new(job.hosts.clone(), started);
    while let Some(event) = within("the broadcast's next event", job.next()).await {
        gather.record(&event, Instant::now());
    }
    assert_eq!(gather.counts(), [("done", 1000)], "{}", gather.report(Instant::now(), 5, 3));
    let groups = gather.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].stdout, b"/bin/echo hello world\n",
        "the built-in echo prints the program and its arguments"
    );
    // Echoed, not run: and checked all the same.
    let mut job =
        master.handle.start(&signed("sim0000[0-4]", "/bin/cat", &[]), &JobOptions::default()).unwrap();
    let mut refused = 0;
    while let Some(event) = within("the next event", job.next()).await {
        if let JobEvent::Ended(_, ending) = event {
            refused += usize::from(ending.label() == "refused");
        }
    }
    assert_eq!(refused, 5, "an echoing agent still keeps to its allow-list");
    assert!(swarm.agents().iter().all(|(_, agent)| agent.status().ran <= 1));
    shutdown.cancel();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_agent_never_holds_up_the_others() {
    let shutdown = CancellationToken::new();
    let (master, swarm) = swarm_of(20, &shutdown).await;
    // sim00000 stops reading: its connection stays open, its socket fills, its outbox too.
    swarm.agents()[0].1.freeze();
    let options =
        JobOptions { wait: Duration::from_secs(2), probe: Duration::from_secs(1), ..JobOptions::default() };
    // Ten commands of 60 kB: more than the kernel buffers of a loopback connection whose reader
    // does not read, so the master's writes to it block.
    let mut jobs = Vec::new();
    for n in 0..10 {
        let big = "x".repeat(60_000);
        jobs.push(master.handle.start(&signed("*", "/bin/echo", &[&big, &n.to_string()]), &options).unwrap());
    }
    for job in jobs {
        let endings = within("a job with a slow agent in it", job.endings()).await;
        assert_eq!(endings.len(), 20);
        let done = endings.values().filter(|ending| ending.label() == "done").count();
        assert_eq!(done, 19, "{endings:?}");
        assert!(["lost", "unreachable"].contains(&endings["sim00000"].label()), "{:?}", endings["sim00000"]);
    }
    shutdown.cancel();
}
