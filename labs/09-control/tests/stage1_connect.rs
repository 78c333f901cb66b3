//! Stage 1: connect. Frames on a stream (cut anywhere, hostile lengths), the protocol's messages,
//! the reconnect backoff (exponential, capped, jittered: a master restart is not followed by a
//! herd, counted by connects per interval against a listener written here) and the registry of
//! connected agents (since when, tags, a reconnect replacing its old connection, heartbeats and
//! expiry).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use control::backoff::{Backoff, keep_connected};
use control::registry::Registry;
use control::wire::{
    Exit, FrameReader, Hello, MAX_FRAME, ToAgent, ToMaster, Welcome, WireError, decode, encode, encode_frame,
    read_frame, write_frame,
};
use proptest::prelude::*;
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

// ---------------------------------------------------------------------------------------------
// Frames

#[test]
fn a_frame_is_a_two_byte_length_then_the_payload() {
    let mut out = Vec::new();
    encode_frame(b"hello", &mut out).unwrap();
    assert_eq!(out, b"\x00\x05hello");
    encode_frame(b"", &mut out).unwrap();
    assert_eq!(out, b"\x00\x05hello\x00\x00");
}

#[test]
fn a_payload_over_the_limit_is_refused_and_nothing_written() {
    let mut out = vec![1, 2, 3];
    encode_frame(&vec![7; MAX_FRAME], &mut Vec::new()).unwrap();
    let err = encode_frame(&vec![7; MAX_FRAME + 1], &mut out).unwrap_err();
    assert!(matches!(err, WireError::TooLong { len } if len == MAX_FRAME + 1), "{err:?}");
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn the_reader_gives_nothing_until_a_frame_is_whole() {
    let mut frames = FrameReader::new();
    frames.push(b"\x00");
    assert_eq!(frames.next_frame(), None);
    frames.push(b"\x03ab");
    assert_eq!(frames.next_frame(), None);
    assert_eq!(frames.buffered(), 4);
    frames.push(b"c\x00\x01z\x00");
    assert_eq!(frames.next_frame().as_deref(), Some(&b"abc"[..]));
    assert_eq!(frames.next_frame().as_deref(), Some(&b"z"[..]));
    assert_eq!(frames.next_frame(), None);
    assert_eq!(frames.buffered(), 1);
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    /// However the bytes arrive, the same frames come out, in order.
    #[test]
    fn frames_survive_any_cutting(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        cuts in prop::collection::vec(1usize..64, 1..40),
    ) {
        let mut stream = Vec::new();
        for payload in &payloads {
            encode_frame(payload, &mut stream).unwrap();
        }
        let mut frames = FrameReader::new();
        let mut out = Vec::new();
        let (mut at, mut cut) = (0, cuts.iter().cycle());
        while at < stream.len() {
            let end = (at + cut.next().unwrap()).min(stream.len());
            frames.push(&stream[at..end]);
            at = end;
            while let Some(frame) = frames.next_frame() {
                out.push(frame);
            }
        }
        prop_assert_eq!(out, payloads);
        prop_assert_eq!(frames.buffered(), 0);
    }

    /// Any bytes at all: the reader never panics and never holds more than one frame's worth.
    #[test]
    fn hostile_bytes_never_panic_the_reader(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut frames = FrameReader::new();
        frames.push(&bytes);
        while frames.next_frame().is_some() {}
        prop_assert!(frames.buffered() <= MAX_FRAME + 2);
    }

    /// Any bytes as a message: an error, never a panic.
    #[test]
    fn hostile_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode::<ToMaster>(&bytes);
        let _ = decode::<ToAgent>(&bytes);
    }

    /// A hello, any tags: what is encoded decodes the same.
    #[test]
    fn hellos_round_trip(version in any::<u16>(), pairs in prop::collection::btree_map("[a-z]{1,8}", "[ -~]{0,16}", 0..8)) {
        let hello = ToMaster::Hello(Hello { version, tags: pairs });
        prop_assert_eq!(decode::<ToMaster>(&encode(&hello)).unwrap(), hello);
    }
}

#[test]
fn messages_round_trip_and_trailing_bytes_are_refused() {
    for message in [ToMaster::Heartbeat, ToMaster::Hello(Hello { version: 1, tags: tags(&[("dc", "bj")]) })] {
        assert_eq!(decode::<ToMaster>(&encode(&message)).unwrap(), message);
        let mut longer = encode(&message);
        longer.push(0);
        assert!(matches!(decode::<ToMaster>(&longer), Err(WireError::Malformed(_))));
    }
    let exit = |code, signal| Exit { code, signal, ..Exit::default() };
    assert_eq!(
        (exit(Some(3), None).status(), exit(None, Some(9)).status(), exit(None, None).status()),
        (3, 137, 1)
    );
    let welcome = ToAgent::Welcome(Welcome { heartbeat_ms: 250 });
    assert_eq!(decode::<ToAgent>(&encode(&welcome)).unwrap(), welcome);
    assert!(matches!(decode::<ToAgent>(&[]), Err(WireError::Malformed(_))));
}

#[test(tokio)]
async fn frames_cross_a_stream_and_a_clean_close_is_not_an_error() {
    let (mut near, mut far) = tokio::io::duplex(64);
    let writer = tokio::spawn(async move {
        write_frame(&mut near, b"first").await.unwrap();
        write_frame(&mut near, &[9; 1000]).await.unwrap();
        near.shutdown().await.unwrap();
    });
    let mut frames = FrameReader::new();
    assert_eq!(read_frame(&mut far, &mut frames).await.unwrap().as_deref(), Some(&b"first"[..]));
    assert_eq!(read_frame(&mut far, &mut frames).await.unwrap(), Some(vec![9; 1000]));
    assert_eq!(read_frame(&mut far, &mut frames).await.unwrap(), None);
    writer.await.unwrap();
}

#[test(tokio)]
async fn a_close_inside_a_frame_is_reported() {
    let (mut near, mut far) = tokio::io::duplex(64);
    near.write_all(b"\x00\x10only part").await.unwrap();
    drop(near);
    let err = read_frame(&mut far, &mut FrameReader::new()).await.unwrap_err();
    assert!(matches!(err, WireError::Truncated { buffered: 11 }), "{err:?}");
}

#[test(tokio)]
async fn a_read_cut_short_by_select_loses_nothing() {
    let (mut near, mut far) = tokio::io::duplex(64);
    let mut frames = FrameReader::new();
    near.write_all(b"\x00\x06hal").await.unwrap();
    // The read is abandoned half-way, as a select! on a timer abandons it.
    let abandoned = tokio::time::timeout(Duration::from_millis(20), read_frame(&mut far, &mut frames)).await;
    assert!(abandoned.is_err());
    near.write_all(b"ves").await.unwrap();
    assert_eq!(read_frame(&mut far, &mut frames).await.unwrap().as_deref(), Some(&b"halves"[..]));
}

// ---------------------------------------------------------------------------------------------
// Backoff

#[test]
fn the_bound_doubles_from_the_base_up_to_the_cap() {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000), 7);
    let mut bounds = Vec::new();
    for _ in 0..7 {
        bounds.push(backoff.bound().as_millis());
        backoff.next_delay();
    }
    assert_eq!(bounds, [100, 200, 400, 800, 1000, 1000, 1000]);
    backoff.reset();
    assert_eq!(backoff.bound(), Duration::from_millis(100));
}

#[test]
fn every_delay_is_under_its_bound_and_never_reaches_the_cap() {
    let cap = Duration::from_secs(30);
    let mut backoff = Backoff::new(Duration::from_millis(10), cap, 1);
    for _ in 0..10_000 {
        let bound = backoff.bound();
        let delay = backoff.next_delay();
        assert!(delay < bound && delay < cap, "{delay:?} against {bound:?}");
    }
}

#[test]
fn a_huge_number_of_failures_does_not_overflow() {
    let mut backoff = Backoff::new(Duration::from_secs(3600), Duration::MAX, 3);
    for _ in 0..200 {
        backoff.next_delay();
    }
    assert!(backoff.bound() >= Duration::from_secs(3600));
}

#[test]
fn delays_are_spread_over_the_whole_interval() {
    // Full jitter: the first waits of many agents are uniform over [0, base), so their mean is near
    // half the base, and every tenth of the interval gets its share.
    let base = Duration::from_secs(1);
    let mut tenths = [0u32; 10];
    let mut total = Duration::ZERO;
    for seed in 0..2000 {
        let delay = Backoff::new(base, Duration::from_secs(60), seed).next_delay();
        total += delay;
        tenths[(delay.as_millis() / 100).min(9) as usize] += 1;
    }
    let mean = total / 2000;
    assert!((Duration::from_millis(430)..Duration::from_millis(570)).contains(&mean), "mean {mean:?}");
    assert!(
        tenths.iter().all(|&count| (120..=280).contains(&count)),
        "per tenth of the interval: {tenths:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_waits_and_others_differ() {
    let waits = |seed| {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5), seed);
        (0..8).map(|_| backoff.next_delay()).collect::<Vec<_>>()
    };
    assert_eq!(waits(42), waits(42));
    assert_ne!(waits(42), waits(43));
}

/// A master stand-in: accepts connections, keeps them, and notes when each arrived.
struct Listener {
    addr: SocketAddr,
    held: Arc<Mutex<Vec<TcpStream>>>,
    arrivals: Arc<Mutex<Vec<tokio::time::Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    async fn start(port: u16) -> Listener {
        let listener = TcpListener::bind(addr(port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = Arc::new(Mutex::new(Vec::new()));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let (h, a) = (Arc::clone(&held), Arc::clone(&arrivals));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                a.lock().unwrap().push(tokio::time::Instant::now());
                h.lock().unwrap().push(stream);
            }
        });
        Listener { addr, held, arrivals, task }
    }

    fn arrivals(&self) -> Vec<tokio::time::Instant> {
        self.arrivals.lock().unwrap().clone()
    }

    /// Closes every connection at once, as a master that restarts does.
    fn drop_everyone(&self) {
        self.held.lock().unwrap().clear();
    }

    fn stop(self) {
        self.task.abort();
        self.drop_everyone();
    }
}

/// `agents` reconnect loops against `addr`, each with its own seed; an attempt connects, then
/// waits for the peer to close. Counts the attempts that connected.
fn start_agents(
    agents: u64,
    addr: SocketAddr,
    base: Duration,
    cap: Duration,
    shutdown: &CancellationToken,
) -> Arc<Mutex<u32>> {
    let sessions = Arc::new(Mutex::new(0));
    for seed in 0..agents {
        let (shutdown, sessions) = (shutdown.clone(), Arc::clone(&sessions));
        tokio::spawn(async move {
            let mut backoff = Backoff::new(base, cap, 1000 + seed);
            keep_connected(&mut backoff, Duration::ZERO, &shutdown, || {
                let sessions = Arc::clone(&sessions);
                async move {
                    let Ok(mut stream) = TcpStream::connect(addr).await else { return false };
                    *sessions.lock().unwrap() += 1;
                    let _ = stream.read(&mut [0; 16]).await;
                    true
                }
            })
            .await;
        });
    }
    sessions
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_master_restart_is_not_followed_by_a_herd() {
    const AGENTS: usize = 100;
    let shutdown = CancellationToken::new();
    let master = Listener::start(0).await;
    start_agents(AGENTS as u64, master.addr, Duration::from_millis(1000), Duration::from_secs(4), &shutdown);
    eventually("every agent to connect", || master.arrivals().len() == AGENTS).await;

    let restart = tokio::time::Instant::now();
    master.drop_everyone();
    eventually("every agent to come back", || master.arrivals().len() == 2 * AGENTS).await;
    let mut back: Vec<Duration> = master.arrivals()[AGENTS..].iter().map(|at| *at - restart).collect();
    back.sort();
    // Each comes back after a wait drawn from [0, 1 s): spread over the second, not in a burst.
    // Uniform arrivals put about 5 in any 50 ms; a herd puts them all in one.
    let busiest = back
        .iter()
        .enumerate()
        .map(|(i, at)| back[i..].iter().take_while(|later| **later - *at < Duration::from_millis(50)).count())
        .max()
        .unwrap();
    assert!(busiest <= 25, "{busiest} of {AGENTS} agents reconnected within the same 50 ms: {back:?}");
    assert!(back[AGENTS - 1] >= Duration::from_millis(500), "everyone was back after {:?}", back[AGENTS - 1]);
    assert!(
        back[AGENTS - 1] < Duration::from_millis(1500),
        "the last came back after {:?}",
        back[AGENTS - 1]
    );
    shutdown.cancel();
    master.stop();
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn after_an_outage_every_agent_is_back_within_the_cap() {
    const AGENTS: usize = 20;
    let shutdown = CancellationToken::new();
    let master = Listener::start(0).await;
    let port = master.addr.port();
    let sessions = start_agents(
        AGENTS as u64,
        master.addr,
        Duration::from_millis(20),
        Duration::from_millis(300),
        &shutdown,
    );
    eventually("every agent to connect", || master.arrivals().len() == AGENTS).await;
    master.stop();
    // Down long enough for every agent to have failed many times and reached the cap.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = *sessions.lock().unwrap();
    let master = Listener::start(port).await;
    let back = tokio::time::Instant::now();
    eventually("every agent to reconnect", || master.arrivals().len() == AGENTS).await;
    assert!(back.elapsed() < Duration::from_millis(300 + 400), "the last agent took {:?}", back.elapsed());
    assert_eq!(*sessions.lock().unwrap(), before + AGENTS as u32);
    shutdown.cancel();
    master.stop();
}

#[test(tokio)]
async fn keep_connected_stops_at_the_shutdown_even_mid_attempt() {
    let shutdown = CancellationToken::new();
    let mut backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(5), 0);
    let attempts = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&attempts);
    let stop = shutdown.clone();
    let looping = tokio::spawn(async move {
        keep_connected(&mut backoff, Duration::ZERO, &stop, || {
            let counted = Arc::clone(&counted);
            async move {
                *counted.lock().unwrap() += 1;
                // An attempt that would never end by itself: a session that stays up.
                std::future::pending::<bool>().await
            }
        })
        .await;
    });
    eventually("the first attempt", || *attempts.lock().unwrap() == 1).await;
    shutdown.cancel();
    within("keep_connected to return", looping).await.unwrap();
    assert_eq!(*attempts.lock().unwrap(), 1);
}

#[test(tokio)]
async fn a_session_that_lasted_resets_the_backoff() {
    // Attempts 1-5 fail at once, 6 stays up for 50 ms and then ends: the wait after it is drawn
    // from the base again, not from the bound five failures reached.
    let shutdown = CancellationToken::new();
    let base = Duration::from_millis(10);
    let mut backoff = Backoff::new(base, Duration::from_secs(60), 5);
    let times = Arc::new(Mutex::new(Vec::new()));
    let (seen, stop) = (Arc::clone(&times), shutdown.clone());
    let looping = tokio::spawn(async move {
        keep_connected(&mut backoff, Duration::from_millis(40), &shutdown, || {
            let (seen, stop) = (Arc::clone(&seen), stop.clone());
            async move {
                let attempt = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(tokio::time::Instant::now());
                    seen.len()
                };
                if attempt == 6 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    return true;
                }
                if attempt == 7 {
                    stop.cancel();
                }
                false
            }
        })
        .await;
    });
    within("seven attempts", looping).await.unwrap();
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 7);
    let after_session = times[6] - times[5] - Duration::from_millis(50);
    assert!(
        after_session < base + Duration::from_millis(15),
        "waited {after_session:?} after a good session"
    );
}

#[test(tokio)]
async fn a_session_that_ended_at_once_does_not_reset_the_backoff() {
    // Nine failures grow the bound to seconds; the tenth attempt connects but is closed at once (a
    // master that accepts and drops, again and again): that is no reason to come back sooner.
    // Under a paused clock the waits pass at once, and are still measured.
    tokio::time::pause();
    let base = Duration::from_millis(10);
    let mut waited_long = 0;
    for seed in 0..5 {
        let shutdown = CancellationToken::new();
        let mut backoff = Backoff::new(base, Duration::from_secs(60), seed);
        let times = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&times);
        let stop = shutdown.clone();
        keep_connected(&mut backoff, Duration::from_secs(1), &shutdown, || {
            let (seen, stop) = (Arc::clone(&seen), stop.clone());
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push(tokio::time::Instant::now());
                if seen.len() == 11 {
                    stop.cancel();
                }
                seen.len() == 10
            }
        })
        .await;
        let times = times.lock().unwrap();
        if times[10] - times[9] > Duration::from_millis(25) {
            waited_long += 1;
        }
    }
    // Each wait is drawn below a bound of seconds: under 25 ms for one agent in two hundred.
    assert!(
        waited_long >= 3,
        "only {waited_long} of 5 agents kept their backoff after a session of no length"
    );
}

// ---------------------------------------------------------------------------------------------
// Registry

#[test]
fn the_registry_knows_who_is_connected_since_when_with_which_tags() {
    let mut registry = Registry::new(Duration::from_secs(30));
    let (now, since) = (Instant::now(), SystemTime::now());
    registry.connect("web2", addr(4002), tags(&[("role", "web")]), now, since, 'b');
    registry.connect("db1", addr(4001), tags(&[("role", "db"), ("dc", "bj")]), now, since, 'a');
    assert_eq!(registry.len(), 2);
    assert!(!registry.is_empty());
    let mut ids: Vec<&str> = registry.ids().collect();
    ids.sort();
    assert_eq!(ids, ["db1", "web2"]);
    let agents = registry.list();
    assert_eq!(agents.iter().map(|agent| agent.id.as_str()).collect::<Vec<_>>(), ["db1", "web2"]);
    assert_eq!(agents[0].tags, tags(&[("dc", "bj"), ("role", "db")]));
    assert_eq!(agents[0].addr, addr(4001));
    assert_eq!(agents[0].since, since);
    assert_eq!(registry.get("web2").unwrap().tags["role"], "web");
    assert_eq!(registry.handle("db1"), Some(&'a'));
    assert!(registry.get("web9").is_none());
}

#[test]
fn a_reconnect_replaces_the_old_connection_and_its_end_changes_nothing() {
    let mut registry = Registry::new(Duration::from_secs(30));
    let now = Instant::now();
    let (first, old) = registry.connect("web1", addr(1), BTreeMap::new(), now, SystemTime::now(), "first");
    assert_eq!(old, None);
    let (second, old) = registry.connect("web1", addr(2), BTreeMap::new(), now, SystemTime::now(), "second");
    assert_ne!(first, second);
    assert_eq!(old, Some("first"), "the old connection's handle comes back to be closed");
    assert_eq!(registry.len(), 1);
    // The old connection notices it is gone only later: its end must not remove the new one.
    assert_eq!(registry.disconnect("web1", first), None);
    assert!(!registry.heard("web1", first, now));
    assert_eq!(registry.get("web1").unwrap().addr, addr(2));
    assert_eq!(registry.disconnect("web1", second), Some("second"));
    assert!(registry.is_empty());
}

#[test]
fn a_silent_agent_expires_and_a_heard_one_does_not() {
    let timeout = Duration::from_secs(30);
    let mut registry = Registry::new(timeout);
    let start = Instant::now();
    let (quiet, _) = registry.connect("quiet", addr(1), BTreeMap::new(), start, SystemTime::now(), 1);
    let (chatty, _) = registry.connect("chatty", addr(2), BTreeMap::new(), start, SystemTime::now(), 2);
    assert!(registry.expire(start + timeout).is_empty(), "exactly the timeout is not over it");
    assert!(registry.heard("chatty", chatty, start + Duration::from_secs(20)));
    let expired = registry.expire(start + Duration::from_secs(31));
    assert_eq!(expired, [("quiet".to_string(), 1)]);
    assert!(registry.get("quiet").is_none());
    assert!(!registry.heard("quiet", quiet, start + Duration::from_secs(31)));
    assert!(registry.expire(start + Duration::from_secs(50)).is_empty());
    assert_eq!(registry.expire(start + Duration::from_secs(51)), [("chatty".to_string(), 2)]);
}

#[test]
fn a_removed_agent_is_gone_whatever_its_connection() {
    let mut registry = Registry::new(Duration::from_secs(30));
    registry.connect("web1", addr(1), BTreeMap::new(), Instant::now(), SystemTime::now(), 7);
    assert_eq!(registry.remove("web1"), Some(7));
    assert_eq!(registry.remove("web1"), None);
    assert!(registry.list().is_empty());
    assert_eq!(registry.ids().count(), 0);
}
