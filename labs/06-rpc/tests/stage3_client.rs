//! Stage 3: the client. One long connection multiplexes concurrent calls; timeouts and dropped
//! calls cancel on the server; a killed server gives an error, not a hang; the client reconnects
//! after a restart; a pool fails over from a dead address; short mode connects per call.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{ServerProcess, basic_service, dead_addr, hanging_service, start, start_on};
use rpc::{Client, ClientConfig, Error, ErrorCode, Pool, RemoteError, ServerConfig, ShortClient};
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio::net::TcpListener;

fn fast() -> ClientConfig {
    ClientConfig {
        call_timeout: Some(Duration::from_secs(5)),
        connect_timeout: Duration::from_secs(1),
        connect_attempts: 2,
        backoff: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..ClientConfig::default()
    }
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_connection() {
    let mut service = basic_service();
    service.typed("square", |n: u64| async move {
        // Larger numbers take longer: answers come back out of order.
        tokio::time::sleep(Duration::from_micros(n % 7 * 300)).await;
        Ok::<_, RemoteError>(n * n)
    });
    let server = start(service, ServerConfig::default()).await;
    let client = Arc::new(Client::connect(server.addr, fast()).await.unwrap());
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..300u64 {
        let client = Arc::clone(&client);
        calls.spawn(async move { (n, client.call::<u64, u64>("square", &n).await) });
    }
    while let Some(done) = calls.join_next().await {
        let (n, answer) = done.unwrap();
        assert_eq!(answer.unwrap(), n * n, "square({n}) among 300 concurrent calls");
    }
    let mut ports = HashSet::new();
    for _ in 0..10 {
        ports.insert(client.call::<(), u16>("peer", &()).await.unwrap());
    }
    assert_eq!(ports.len(), 1, "every call used the same connection");
    let echoed: Vec<String> = client.call("echo", &vec!["a".to_owned(), "b".to_owned()]).await.unwrap();
    assert_eq!(echoed, ["a", "b"], "echo of [\"a\", \"b\"] through the typed call");
    server.stop().await;
}

#[test(tokio)]
async fn a_payload_of_a_mebibyte_goes_both_ways() {
    let server = start(basic_service(), ServerConfig::default()).await;
    let client = Client::connect(server.addr, fast()).await.unwrap();
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    for round in 0..2 {
        let answer = within("a 1 MiB echo", client.call_raw("echo", big.clone(), None)).await.unwrap();
        assert_eq!(answer.len(), big.len(), "bytes echoed of 1 MiB sent, round {round}");
        assert!(answer == big, "the 1 MiB echoed is the 1 MiB sent, round {round}");
    }
    server.stop().await;
}

#[test(tokio)]
async fn remote_errors_come_back_as_errors() {
    let mut service = basic_service();
    service.typed("fail", |_: ()| async { Err::<(), _>(RemoteError::internal("it broke")) });
    let server = start(service, ServerConfig::default()).await;
    let client = Client::connect(server.addr, fast()).await.unwrap();
    let err = client.call::<(), ()>("missing", &()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UnknownMethod), "the error code of calling \"missing\": {err}");
    let err = client.call::<(), ()>("fail", &()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Internal), "the error code of \"fail\": {err}");
    assert!(err.to_string().contains("it broke"), "the error of \"fail\" carries its message: {err}");
    assert_eq!(
        client.call::<_, Vec<u8>>("echo", &vec![1u8]).await.unwrap(),
        [1],
        "the connection is still fine"
    );
    server.stop().await;
}

#[test(tokio)]
async fn a_call_timeout_fails_the_call_and_stops_the_handler() {
    let (started, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let server = start(hanging_service(&started, &dropped), ServerConfig::default()).await;
    let client = Client::connect(server.addr, fast()).await.unwrap();
    let begin = Instant::now();
    let err = client.call_raw("hang", vec![], Some(Duration::from_millis(150))).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "the error of hang with a 150 ms timeout: {err:?}");
    assert!(begin.elapsed() < Duration::from_secs(2), "time to a 150 ms timeout: {:?}", begin.elapsed());
    eventually("the handler to be dropped", || dropped.load(Ordering::SeqCst)).await;
    server.stop().await;
}

/// A server, spoken by hand, that answers `echo` at once and nothing else ever (it counts the
/// requests it leaves unanswered): no deadline of its own ends a call, so only the client's
/// timeout can.
async fn echo_only_server() -> (std::net::SocketAddr, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ignored = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ignored);
    let task = tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let mut decoder = rpc::FrameDecoder::new(1 << 20);
        let mut buf = vec![0; 8192];
        loop {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            decoder.extend(&buf[..n]);
            let mut answers = Vec::new();
            while let Ok(Some(frame)) = decoder.next_frame() {
                if frame.kind == rpc::Kind::Request && frame.method == "echo" {
                    let answer = rpc::Frame::new(rpc::Kind::Response, frame.id, frame.payload);
                    rpc::encode(&answer, &mut answers).unwrap();
                } else if frame.kind == rpc::Kind::Request {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
            if stream.write_all(&answers).await.is_err() {
                return;
            }
        }
    });
    (addr, ignored, task)
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn every_one_of_many_calls_keeps_its_timeout() {
    // Many calls wait while thousands more are answered on the same connection: each waiting call
    // still times out, however the client files and clears the deadlines of answered calls.
    const WAITING: usize = 200;
    let (addr, ignored, server) = echo_only_server().await;
    let client = Arc::new(Client::connect(addr, fast()).await.unwrap());
    let mut waiting = tokio::task::JoinSet::new();
    for _ in 0..WAITING {
        let client = Arc::clone(&client);
        waiting.spawn(async move { client.call_raw("hang", vec![], Some(Duration::from_millis(800))).await });
    }
    eventually("every waiting call to be sent", || ignored.load(Ordering::SeqCst) == WAITING).await;
    let mut answered = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let client = Arc::clone(&client);
        answered.spawn(async move {
            for _ in 0..300 {
                let echo = client.call_raw("echo", b"x".to_vec(), Some(Duration::from_secs(60))).await;
                let echo = echo.expect("an echo");
                assert_eq!(echo, b"x", "echo \"x\" while calls wait, \"{}\"", echo.escape_ascii());
            }
        });
    }
    within("the answered calls", answered.join_all()).await;
    let outcomes = within("every waiting call to time out", waiting.join_all()).await;
    for outcome in outcomes {
        assert!(
            matches!(outcome, Err(Error::Timeout { .. })),
            "the outcome of an unanswered call: {outcome:?}"
        );
    }
    server.abort();
}

#[test(tokio)]
async fn a_short_timeout_after_a_long_one_still_expires_on_time() {
    let (started, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let server = start(hanging_service(&started, &dropped), ServerConfig::default()).await;
    let client = Arc::new(Client::connect(server.addr, fast()).await.unwrap());
    let long = {
        let client = Arc::clone(&client);
        tokio::spawn(async move { client.call_raw("hang", vec![], Some(Duration::from_secs(60))).await })
    };
    eventually("the long call to start", || started.load(Ordering::SeqCst)).await;
    let begin = Instant::now();
    let err = client.call_raw("hang", vec![], Some(Duration::from_millis(150))).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "the error of the short call: {err:?}");
    assert!(begin.elapsed() < Duration::from_secs(2), "the short call waited for the long one's timeout");
    assert!(!long.is_finished(), "the long call still waits for its answer");
    long.abort();
    let _ = long.await;
    // Closing the connection drops the server's handlers at once; a stop would wait for them.
    drop(client);
    server.stop().await;
}

#[test(tokio)]
async fn a_calls_timeout_travels_as_its_deadline() {
    // A server spoken by hand reads the request frame: the client's timeout must be on the wire,
    // so that the server can give up on its own (a cancel frame alone comes too late when the
    // answer is already being computed, and never when the connection is slow).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let mut decoder = rpc::FrameDecoder::new(1 << 20);
        let mut buf = vec![0; 8192];
        let mut tx = Some(tx);
        // Read on after the request, holding the connection open, until the client closes it.
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            decoder.extend(&buf[..n]);
            while let Ok(Some(frame)) = decoder.next_frame() {
                if frame.kind == rpc::Kind::Request
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(frame);
                }
            }
        }
    });
    let client = Client::connect(addr, fast()).await.unwrap();
    let err = client.call_raw("hang", vec![], Some(Duration::from_millis(150))).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "the error of an unanswered call: {err:?}");
    let request = within("the request frame", rx).await.expect("the server read a request");
    assert_eq!(request.method, "hang", "the method of the request the server read");
    let deadline = request.deadline.expect("a call with a timeout sends a deadline");
    assert!(
        deadline > Duration::ZERO && deadline <= Duration::from_millis(150),
        "the deadline sent for a call with a 150 ms timeout: {deadline:?}"
    );
    drop(client);
    server.abort();
}

#[test(tokio)]
async fn dropping_a_call_cancels_it_on_the_server() {
    let (started, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let server = start(hanging_service(&started, &dropped), ServerConfig::default()).await;
    let client = Arc::new(Client::connect(server.addr, fast()).await.unwrap());
    let caller = Arc::clone(&client);
    let call = tokio::spawn(async move { caller.call_raw("hang", vec![], None).await });
    eventually("the handler to start", || started.load(Ordering::SeqCst)).await;
    call.abort();
    eventually("the handler to be dropped", || dropped.load(Ordering::SeqCst)).await;
    let echo = client.call_raw("echo", b"x".to_vec(), None).await.unwrap();
    assert_eq!(echo, b"x", "echo \"x\" after a cancelled call, \"{}\"", echo.escape_ascii());
    server.stop().await;
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_call_gives_an_error_not_a_hang() {
    let mut server = ServerProcess::start(&[]);
    let client = Arc::new(Client::connect(server.addr, fast()).await.unwrap());
    let pong: Vec<String> = client.call("ping", &Vec::<String>::new()).await.unwrap();
    assert_eq!(pong, ["pong"], "the answer of ping to rpc serve");
    let caller = Arc::clone(&client);
    let call = tokio::spawn(async move {
        caller.call_raw("sleep", rpc::to_payload(&vec!["60000".to_owned()]).unwrap(), None).await
    });
    // The sleep request is on the wire before this ping, which the server answers: it is running.
    let _: Vec<String> = client.call("ping", &Vec::<String>::new()).await.unwrap();
    server.kill();
    let err = within("the call", call).await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::ConnectionLost { .. }),
        "the error of a call whose server was killed: {err:?}"
    );
    let err = client.call::<_, Vec<String>>("ping", &Vec::<String>::new()).await.unwrap_err();
    assert!(err.is_connection_error(), "a later call fails too: {err:?}");
}

#[test(tokio)]
async fn the_client_reconnects_after_a_server_restart() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = start_on(listener, basic_service(), ServerConfig::default());
    let client = Client::connect(addr, fast()).await.unwrap();
    let before: u16 = client.call("peer", &()).await.unwrap();
    first.stop().await;

    let begin = Instant::now();
    let err = client.call::<(), u16>("peer", &()).await.unwrap_err();
    assert!(err.is_connection_error(), "no server: {err:?}");
    assert!(begin.elapsed() < Duration::from_secs(3), "and not after a long hang: {:?}", begin.elapsed());

    let second = start_on(TcpListener::bind(addr).await.unwrap(), basic_service(), ServerConfig::default());
    let mut after = None;
    for _ in 0..100 {
        if let Ok(port) = client.call::<(), u16>("peer", &()).await {
            after = Some(port);
            break;
        }
    }
    let after = after.expect("a call succeeds once the server is back");
    assert_ne!(before, after, "over a new connection");
    second.stop().await;
}

#[test(tokio)]
async fn a_pool_fails_over_from_a_dead_address() {
    let live = start(basic_service(), ServerConfig::default()).await;
    let dead = dead_addr().await;
    let pool = Pool::new(&[dead, live.addr, dead], fast()).unwrap();
    let begin = Instant::now();
    for i in 0..20u32 {
        let answer: u32 = pool.call("echo", &i).await.unwrap();
        assert_eq!(answer, i, "echo {i} through a pool with dead addresses");
    }
    assert!(
        begin.elapsed() < Duration::from_secs(4),
        "dead addresses are skipped, not retried on every call"
    );
    let empty = Pool::new(&[], fast());
    assert!(matches!(empty, Err(Error::NoAddresses)), "a pool of no addresses: {:?}", empty.err());
    let all_dead = Pool::new(&[dead], fast()).unwrap();
    let err = all_dead.call::<u32, u32>("echo", &1).await.unwrap_err();
    assert!(matches!(err, Error::AllFailed { .. }), "the error of a pool of dead addresses: {err:?}");
    live.stop().await;
}

/// A hand-written server of one connection that answers each request frame with the bytes
/// `answer` makes of it, and closes the connection when `answer` gives `None`.
async fn scripted_server(
    mut answer: impl FnMut(rpc::Frame) -> Option<Vec<u8>> + Send + 'static,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let mut decoder = rpc::FrameDecoder::new(1 << 20);
        let mut buf = vec![0; 8192];
        loop {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            decoder.extend(&buf[..n]);
            while let Ok(Some(frame)) = decoder.next_frame() {
                let Some(bytes) = answer(frame) else { return };
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
    });
    (addr, task)
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_skippable_bad_frame_is_ignored_and_a_fatal_one_ends_the_connection() {
    let (addr, server) = scripted_server(|frame| {
        if frame.method == "oversized" {
            return Some(vec![0x7F, 0xFF, 0xFF, 0xFF]);
        }
        // A frame of an unknown kind for this very call, then its real answer.
        let mut bytes = rpc::Frame::new(rpc::Kind::Response, frame.id, b"wrong".to_vec()).to_bytes().unwrap();
        bytes[5] = 0xEE;
        rpc::encode(&rpc::Frame::new(rpc::Kind::Response, frame.id, frame.payload), &mut bytes).unwrap();
        Some(bytes)
    })
    .await;
    let client = Client::new(addr, fast());
    assert_eq!(client.config().backoff_max, fast().backoff_max, "the client's configured backoff_max");
    assert_eq!(client.config().call_timeout, fast().call_timeout, "the client's configured call_timeout");
    let answer = within("echo", client.call_raw("echo", b"right".to_vec(), None)).await.unwrap();
    assert_eq!(
        answer,
        b"right",
        "the answer after a frame of an unknown kind: \"{}\"",
        answer.escape_ascii()
    );
    let err = within("a call answered with a 2 GB length", client.call_raw("oversized", vec![], None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConnectionLost { .. }),
        "the error of a call answered with a 2 GB length: {err:?}"
    );
    server.abort();
}

#[test(tokio)]
async fn a_pool_counts_the_addresses_it_tried_and_never_runs_a_call_twice() {
    let all_dead = Pool::new(&[dead_addr().await, dead_addr().await], fast()).unwrap();
    let err = all_dead.call::<u32, u32>("echo", &1).await.unwrap_err();
    let Error::AllFailed { tried, last } = err else {
        panic!("the error of a pool of two dead addresses: {err:?}")
    };
    assert_eq!(tried, 2, "addresses tried in a pool of two dead ones");
    assert!(matches!(*last, Error::Connect { .. }), "the last error of a pool of dead addresses: {last:?}");

    // The first address reads the request and hangs up: the call may have run, so the live second
    // address must not see it.
    let (breaking, task) = scripted_server(|_| None).await;
    let live = start(basic_service(), ServerConfig::default()).await;
    let pool = Pool::new(&[breaking, live.addr], fast()).unwrap();
    let err = pool.call::<u32, u32>("echo", &1).await.unwrap_err();
    let Error::AllFailed { tried, last } = err else {
        panic!("the error of a call whose connection broke: {err:?}")
    };
    assert_eq!(tried, 1, "addresses tried for a call whose connection broke");
    assert!(matches!(*last, Error::ConnectionLost { .. }), "the last error of a broken call: {last:?}");
    task.abort();
    live.stop().await;
}

#[test(tokio)]
async fn a_pool_leaves_a_failed_address_alone_for_its_backoff() {
    let named = |name: &'static str| {
        let mut service = basic_service();
        service.typed("name", move |_: ()| async move { Ok::<_, RemoteError>(name.to_owned()) });
        service
    };
    let down = dead_addr().await;
    let second = start(named("second"), ServerConfig::default()).await;
    let config = ClientConfig { backoff_max: Duration::from_secs(600), ..fast() };
    let pool = Pool::new(&[down, second.addr], config).unwrap();
    let answer: String = pool.call("name", &()).await.unwrap();
    assert_eq!(answer, "second", "the first call, failing over from the dead first address");
    // The first address comes back, but failed within its backoff of 600 s: calls still go to
    // the second, even on the first's turn.
    let first = start_on(TcpListener::bind(down).await.unwrap(), named("first"), ServerConfig::default());
    for call in 2..=5 {
        let answer: String = pool.call("name", &()).await.unwrap();
        assert_eq!(answer, "second", "call {call}, within the first address's backoff");
    }
    first.stop().await;
    second.stop().await;
}

#[test(tokio)]
async fn a_pool_spreads_calls_round_robin() {
    // Two live servers that say which they are: ten calls in a row go to each in turn.
    let named = |name: &'static str| {
        let mut service = basic_service();
        service.typed("name", move |_: ()| async move { Ok::<_, RemoteError>(name.to_owned()) });
        service
    };
    let first = start(named("first"), ServerConfig::default()).await;
    let second = start(named("second"), ServerConfig::default()).await;
    let pool = Pool::new(&[first.addr, second.addr], fast()).unwrap();
    let mut answered = Vec::new();
    for _ in 0..10 {
        answered.push(pool.call::<(), String>("name", &()).await.unwrap());
    }
    let by_first = answered.iter().filter(|name| *name == "first").count();
    assert_eq!(
        (by_first, answered.len() - by_first),
        (5, 5),
        "(calls answered by the first server, by the second) of ten round-robin calls: {answered:?}"
    );
    assert!(
        answered.windows(2).all(|pair| pair[0] != pair[1]),
        "consecutive calls go to different servers: {answered:?}"
    );
    first.stop().await;
    second.stop().await;
}

#[test(tokio)]
async fn short_mode_connects_once_per_call() {
    let server = start(basic_service(), ServerConfig::default()).await;
    let short = ShortClient::new(server.addr, fast());
    let mut ports = HashSet::new();
    for i in 0..5u32 {
        assert_eq!(short.call::<u32, u32>("echo", &i).await.unwrap(), i, "echo {i} in short mode");
        ports.insert(short.call::<(), u16>("peer", &()).await.unwrap());
    }
    assert_eq!(ports.len(), 5, "a new connection for every call");
    server.stop().await;
}

#[test(tokio)]
async fn connecting_to_nothing_fails_after_the_backoff() {
    let dead = dead_addr().await;
    let begin = Instant::now();
    let err = Client::connect(dead, fast()).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "the error of connecting to a dead address: {err:?}");
    assert!(begin.elapsed() < Duration::from_secs(3), "time to give up connecting: {:?}", begin.elapsed());
}

#[test(tokio)]
async fn failed_connection_attempts_wait_a_doubling_backoff() {
    // Four attempts at an address nobody listens on: refused at once, so the waits between them
    // are all the time there is, and a sleep never ends early: 100 + 200 + 400 ms at least.
    let dead = dead_addr().await;
    let config = ClientConfig {
        connect_attempts: 4,
        backoff: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        ..fast()
    };
    let begin = Instant::now();
    let err = Client::connect(dead, config).await.unwrap_err();
    let took = begin.elapsed();
    assert!(matches!(err, Error::Connect { .. }), "the error of connecting to a dead address: {err:?}");
    assert!(
        took >= Duration::from_millis(700),
        "time for 4 attempts with a backoff of 100 ms doubling (100 + 200 + 400 ms of waits): {took:?}"
    );
}
