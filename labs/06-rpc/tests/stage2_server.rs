//! Stage 2: the server, spoken to frame by frame over a raw connection. Methods by name, many
//! requests at once on one connection answered as they finish, deadlines and cancel frames that
//! really stop the handler, the in-flight bound, refusals of bad frames, and a graceful shutdown.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Gate, Gauge, RawConn, basic_service, hanging_service, remote_error, request, start};
use rpc::{ErrorCode, Frame, Kind, RemoteError, ServerConfig, Service, from_payload, to_payload};
use testkit::test;
use testkit::tokio::{eventually, within};
use tokio::io::AsyncWriteExt;

#[test(tokio)]
async fn methods_are_called_by_name() {
    let mut service = basic_service();
    service.typed("add", |(a, b): (u32, u32)| async move { Ok::<_, RemoteError>(a + b) });
    let server = start(service, ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;

    conn.send(&request(1, "echo", b"hello".to_vec())).await;
    let answer = conn.expect().await;
    assert_eq!(
        (answer.kind, answer.id, &answer.payload[..]),
        (Kind::Response, 1, &b"hello"[..]),
        "(kind, id, payload) answering echo \"hello\"; payload \"{}\"",
        answer.payload.escape_ascii()
    );

    conn.send(&request(2, "add", to_payload(&(40u32, 2u32)).unwrap())).await;
    let answer = conn.expect().await;
    assert_eq!((answer.kind, answer.id), (Kind::Response, 2), "(kind, id) answering add(40, 2): {answer:?}");
    assert_eq!(from_payload::<u32>(&answer.payload).unwrap(), 42, "the result of add(40, 2)");

    conn.send(&request(3, "nope", vec![])).await;
    let answer = conn.expect().await;
    assert_eq!(answer.id, 3, "the id answering the unknown method \"nope\": {answer:?}");
    assert_eq!(
        remote_error(&answer).code,
        ErrorCode::UnknownMethod,
        "the error code of the unknown method \"nope\""
    );

    conn.send(&request(4, "add", b"\xFF".to_vec())).await;
    let answer = conn.expect().await;
    assert_eq!(remote_error(&answer).code, ErrorCode::BadRequest, "a payload that is not the argument");
    server.stop().await;
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_one_connection_finish_in_reverse() {
    const CALLS: u64 = 1000;
    // Call i may finish only once every call above it has: the last to arrive finishes first, and
    // nothing finishes until all are running at once (the turns start when the last one enters).
    let turn = Arc::new(tokio::sync::watch::channel(CALLS).0);
    let gauge = Gauge::default();
    let mut service = Service::new();
    let (turn2, gauge2) = (Arc::clone(&turn), gauge.clone());
    service.method("turn", move |call| {
        let (turn, gauge) = (Arc::clone(&turn2), gauge2.clone());
        async move {
            let _running = gauge.enter();
            if gauge.now() == CALLS as usize {
                turn.send_replace(CALLS - 1);
            }
            let me: u64 = call.decode()?;
            let _ = turn.subscribe().wait_for(|t| *t == me).await;
            turn.send_modify(|t| *t = t.wrapping_sub(1));
            Ok(to_payload(&(me * 3)).unwrap())
        }
    });
    let config = ServerConfig { max_in_flight: 2000, ..ServerConfig::default() };
    let server = start(service, config).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut batch = Vec::new();
    for i in 0..CALLS {
        rpc::encode(&request(i + 100, "turn", to_payload(&i).unwrap()), &mut batch).unwrap();
    }
    conn.send_bytes(&batch).await;
    let mut order = Vec::new();
    for _ in 0..CALLS {
        let answer = conn.expect().await;
        assert_eq!(answer.kind, Kind::Response, "the kind of an answer to turn: {answer:?}");
        let i = answer.id - 100;
        assert_eq!(from_payload::<u64>(&answer.payload).unwrap(), i * 3, "the answer belongs to its request");
        order.push(i);
    }
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..CALLS).collect::<Vec<_>>(), "every call answered once");
    assert!(order[..10].iter().all(|&i| i >= CALLS - 20), "the last calls finish first: {:?}", &order[..10]);
    assert_eq!(gauge.max(), CALLS as usize, "all the handlers ran at once");
    server.stop().await;
}

#[test(tokio)]
async fn a_deadline_cancels_the_handler() {
    let (started, dropped) = (Arc::default(), Arc::default());
    let server = start(hanging_service(&started, &dropped), ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut frame = request(5, "hang", vec![]);
    frame.deadline = Some(Duration::from_millis(100));
    conn.send(&frame).await;
    let answer = conn.expect().await;
    assert_eq!(answer.id, 5, "the id answering hang with a 100 ms deadline: {answer:?}");
    assert_eq!(
        remote_error(&answer).code,
        ErrorCode::DeadlineExceeded,
        "the error code of hang past its deadline"
    );
    assert!(started.load(Ordering::SeqCst), "the hang handler started before its deadline passed");
    eventually("the handler to be dropped", || dropped.load(Ordering::SeqCst)).await;
    server.stop().await;
}

#[test(tokio)]
async fn deadlines_pass_while_the_in_flight_bound_is_full() {
    // Two calls that hang hold both permits, and a third waits for one: only the deadlines can
    // free them, so they must pass while the server is not reading.
    let (started, dropped) = (Arc::default(), Arc::default());
    let config = ServerConfig { max_in_flight: 2, ..ServerConfig::default() };
    let server = start(hanging_service(&started, &dropped), config).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut batch = Vec::new();
    for id in 1..=3 {
        let mut frame = request(id, "hang", vec![]);
        frame.deadline = Some(Duration::from_millis(100));
        rpc::encode(&frame, &mut batch).unwrap();
    }
    conn.send_bytes(&batch).await;
    let mut expired = Vec::new();
    for _ in 0..3 {
        let answer = conn.expect().await;
        assert_eq!(remote_error(&answer).code, ErrorCode::DeadlineExceeded, "call {}", answer.id);
        expired.push(answer.id);
    }
    expired.sort_unstable();
    assert_eq!(expired, [1, 2, 3], "each call expired once");
    conn.send(&request(4, "echo", b"free".to_vec())).await;
    assert_eq!(conn.expect().await.payload, b"free", "the bound is free again");
    server.stop().await;
}

#[test(tokio)]
async fn every_one_of_many_hanging_calls_expires() {
    // Many calls at once, none of which ends by itself: each must keep its deadline, however the
    // server files them.
    const CALLS: u64 = 300;
    let (started, dropped) = (Arc::default(), Arc::default());
    let server = start(hanging_service(&started, &dropped), ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut batch = Vec::new();
    for id in 0..CALLS {
        let mut frame = request(id, "hang", vec![]);
        frame.deadline = Some(Duration::from_millis(50));
        rpc::encode(&frame, &mut batch).unwrap();
    }
    conn.send_bytes(&batch).await;
    let mut expired = Vec::new();
    for _ in 0..CALLS {
        let answer = conn.expect().await;
        assert_eq!(remote_error(&answer).code, ErrorCode::DeadlineExceeded, "call {}", answer.id);
        expired.push(answer.id);
    }
    expired.sort_unstable();
    assert_eq!(expired, (0..CALLS).collect::<Vec<_>>(), "each call expired once");
    server.stop().await;
}

#[test(tokio)]
async fn a_cancel_frame_aborts_the_call() {
    let (started, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let server = start(hanging_service(&started, &dropped), ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;
    conn.send(&request(8, "hang", vec![])).await;
    eventually("the handler to start", || started.load(Ordering::SeqCst)).await;
    assert!(!dropped.load(Ordering::SeqCst), "the hang handler runs until it is cancelled");
    conn.send(&Frame::new(Kind::Cancel, 8, vec![])).await;
    eventually("the handler to be dropped", || dropped.load(Ordering::SeqCst)).await;
    conn.send(&request(9, "echo", b"still here".to_vec())).await;
    let answer = conn.expect().await;
    assert_eq!((answer.id, &answer.payload[..]), (9, &b"still here"[..]), "the connection carries on");
    server.stop().await;
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_bound_holds_on_one_connection() {
    const BOUND: usize = 4;
    let (gate, gauge) = (Gate::new(), Gauge::default());
    let mut service = basic_service();
    let (gate2, gauge2) = (gate.clone(), gauge.clone());
    service.method("wait", move |call| {
        let (gate, gauge) = (gate2.clone(), gauge2.clone());
        async move {
            let _running = gauge.enter();
            gate.pass().await;
            Ok(call.payload)
        }
    });
    let config = ServerConfig { max_in_flight: BOUND, ..ServerConfig::default() };
    let server = start(service, config).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut batch = Vec::new();
    for i in 0..50u64 {
        rpc::encode(&request(i, "wait", vec![i as u8]), &mut batch).unwrap();
    }
    conn.send_bytes(&batch).await;
    eventually("the bound to fill", || gauge.now() == BOUND).await;
    // A second connection is not held up by the first one's bound.
    let mut other = RawConn::connect(server.addr).await;
    other.send(&request(1, "echo", b"x".to_vec())).await;
    let answer = other.expect().await;
    assert_eq!(
        answer.payload,
        b"x",
        "echo \"x\" on a second connection, \"{}\"",
        answer.payload.escape_ascii()
    );
    assert_eq!(gauge.now(), BOUND, "no more than the bound started");
    gate.open();
    for _ in 0..50 {
        let answer = conn.expect().await;
        assert_eq!(answer.payload, [answer.id as u8], "the payload answering wait {}", answer.id);
    }
    assert_eq!(gauge.max(), BOUND, "at most {BOUND} handlers ran at once");
    server.stop().await;
}

/// The most bytes the kernel can hold for a loopback connection nobody reads: the receiver's
/// largest receive buffer and the sender's largest send buffer (the last of the minimum, default
/// and maximum in `/proc/sys/net/ipv4/tcp_rmem` and `tcp_wmem`).
fn kernel_buffering() -> usize {
    let max = |name: &str| -> usize {
        let text = std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}")).expect("Linux's TCP limits");
        text.split_whitespace().last().and_then(|n| n.parse().ok()).expect("a maximum in bytes")
    };
    max("tcp_rmem") + max("tcp_wmem")
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bound_stops_the_server_reading() {
    // With a bound of 1 held by a call that hangs, the server must leave further requests in the
    // socket: the client's writes stall once the kernel's buffers are full. A server that reads on
    // (queueing tasks that wait for a permit) takes every byte, however many, and the write ends.
    // Only the server's stall can be waited for, so the write is given a fixed time; the server
    // that stops reading never lets it finish, whatever the time.
    let (started, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let config =
        ServerConfig { max_in_flight: 1, grace: Duration::from_millis(100), ..ServerConfig::default() };
    let server = start(hanging_service(&started, &dropped), config).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(&request(0, "hang", vec![]).to_bytes().unwrap()).await.unwrap();
    eventually("the hanging call to hold the one permit", || started.load(Ordering::SeqCst)).await;

    // Past all the kernel can hold, and a margin for the server's own read buffer.
    let want = kernel_buffering() + (16 << 20);
    let mut batch = Vec::with_capacity(want + (1 << 20));
    let mut id = 1;
    while batch.len() < want {
        rpc::encode(&request(id, "echo", vec![7; 1 << 20]), &mut batch).unwrap();
        id += 1;
    }
    let mut written = 0;
    let writing = async {
        while written < batch.len() {
            match stream.write(&batch[written..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n,
            }
        }
    };
    let finished = tokio::time::timeout(Duration::from_secs(2), writing).await.is_ok();
    assert!(
        !finished && written < batch.len(),
        "bytes of requests the server took while its bound of 1 was full: {written} of {}, more than the \
         kernel's buffers hold ({} bytes): it read on instead of waiting for a permit",
        batch.len(),
        want - (16 << 20)
    );
    drop(stream);
    server.stop().await;
}

#[test(tokio)]
async fn bad_versions_and_kinds_get_an_error_frame_and_the_connection_carries_on() {
    let server = start(basic_service(), ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut bytes = request(77, "echo", vec![]).to_bytes().unwrap();
    bytes[4] = 2;
    conn.send_bytes(&bytes).await;
    let answer = conn.expect().await;
    assert_eq!(answer.id, 77, "the id answering frame 77 of version 2: {answer:?}");
    assert_eq!(
        remote_error(&answer).code,
        ErrorCode::UnsupportedVersion,
        "the error code of frame 77 of version 2"
    );

    let mut bytes = request(78, "echo", vec![]).to_bytes().unwrap();
    bytes[5] = 99;
    conn.send_bytes(&bytes).await;
    let answer = conn.expect().await;
    assert_eq!(
        (answer.id, remote_error(&answer).code),
        (78, ErrorCode::UnknownKind),
        "(id, error code) answering frame 78 of kind 99"
    );

    conn.send(&Frame::new(Kind::Response, 79, vec![])).await;
    let answer = conn.expect().await;
    assert_eq!((answer.id, answer.kind), (79, Kind::Error), "a client does not send responses");

    conn.send(&request(80, "echo", b"fine".to_vec())).await;
    let answer = conn.expect().await;
    assert_eq!(
        answer.payload,
        b"fine",
        "echo \"fine\" after the bad frames, \"{}\"",
        answer.payload.escape_ascii()
    );
    server.stop().await;
}

#[test(tokio)]
async fn an_oversized_frame_gets_an_error_and_the_connection_closes() {
    let config = ServerConfig { max_frame: 4096, ..ServerConfig::default() };
    let server = start(basic_service(), config).await;
    let mut conn = RawConn::connect(server.addr).await;
    conn.send_bytes(&[0x40, 0, 0, 0, 1, 1]).await;
    let answer = conn.expect().await;
    assert_eq!(
        remote_error(&answer).code,
        ErrorCode::BadFrame,
        "the error code of a 1 GiB frame over a 4096-byte maximum"
    );
    assert_eq!(conn.recv().await, None, "the server closes the connection");
    // The server itself is fine.
    let mut again = RawConn::connect(server.addr).await;
    again.send(&request(1, "echo", b"ok".to_vec())).await;
    let answer = again.expect().await;
    assert_eq!(
        answer.payload,
        b"ok",
        "echo \"ok\" on a new connection, \"{}\"",
        answer.payload.escape_ascii()
    );
    server.stop().await;
}

/// The basic service, and `slow`, which answers its payload once `gate` opens.
fn gated_service(gate: &Gate, gauge: &Gauge) -> Service {
    let mut service = basic_service();
    let (gate, gauge) = (gate.clone(), gauge.clone());
    service.method("slow", move |call| {
        let (gate, gauge) = (gate.clone(), gauge.clone());
        async move {
            let _running = gauge.enter();
            gate.pass().await;
            Ok(call.payload)
        }
    });
    service
}

#[test(tokio)]
async fn a_bound_of_one_passes_from_call_to_call() {
    let (gate, gauge) = (Gate::new(), Gauge::default());
    let config = ServerConfig { max_in_flight: 1, ..ServerConfig::default() };
    let server = start(gated_service(&gate, &gauge), config).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut batch = Vec::new();
    rpc::encode(&request(0, "slow", b"first".to_vec()), &mut batch).unwrap();
    for id in 1..=20 {
        rpc::encode(&request(id, "echo", vec![]), &mut batch).unwrap();
    }
    conn.send_bytes(&batch).await;
    eventually("the slow call to start", || gauge.now() == 1).await;
    gate.open();
    let mut answered = Vec::new();
    for _ in 0..=20 {
        let answer = conn.expect().await;
        assert_eq!(answer.kind, Kind::Response, "the answer to call {}: {answer:?}", answer.id);
        answered.push(answer.id);
    }
    assert_eq!(answered, (0..=20).collect::<Vec<_>>(), "ids answered, one call at a time, in order");
    server.stop().await;
}

#[test(tokio)]
async fn a_reused_id_keeps_only_its_own_deadline() {
    let (gate, gauge) = (Gate::new(), Gauge::default());
    let mut service = gated_service(&gate, &gauge);
    service.method("hang", |_| std::future::pending());
    let server = start(service, ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;
    let mut first = request(7, "echo", b"quick".to_vec());
    first.deadline = Some(Duration::from_millis(50));
    conn.send(&first).await;
    assert_eq!(conn.expect().await.kind, Kind::Response, "the first call of id 7, with a 50 ms deadline");
    // The same id again, with no deadline: the first call's deadline is not its own.
    conn.send(&request(7, "slow", b"slow".to_vec())).await;
    eventually("the second call of id 7 to start", || gauge.now() == 1).await;
    let mut later = request(8, "hang", vec![]);
    later.deadline = Some(Duration::from_millis(300));
    conn.send(&later).await;
    let answer = conn.expect().await;
    assert_eq!(
        (answer.id, remote_error(&answer).code),
        (8, ErrorCode::DeadlineExceeded),
        "the first answer after a later 300 ms deadline passed: {answer:?}"
    );
    gate.open();
    let answer = conn.expect().await;
    assert_eq!(
        (answer.kind, answer.id, &answer.payload[..]),
        (Kind::Response, 7, &b"slow"[..]),
        "(kind, id, payload) answering the second call of id 7; payload \"{}\"",
        answer.payload.escape_ascii()
    );
    server.stop().await;
}

#[test(tokio)]
async fn the_stream_limit_counts_only_open_streams() {
    let mut service = basic_service();
    service.stream("forever", |_, _| std::future::pending());
    service.stream("none", |_, _| async { Ok(()) });
    let config = ServerConfig { max_streams: 1, ..ServerConfig::default() };
    let server = start(service, config).await;
    let mut conn = RawConn::connect(server.addr).await;
    let subscribe = |id, method| Frame { kind: Kind::Subscribe, ..request(id, method, vec![]) };
    conn.send(&subscribe(1, "forever")).await;
    conn.send(&subscribe(2, "forever")).await;
    let answer = conn.expect().await;
    assert_eq!(
        (answer.id, remote_error(&answer).code),
        (2, ErrorCode::Busy),
        "a second stream while the limit of 1 is open: {answer:?}"
    );
    conn.send(&Frame::new(Kind::Cancel, 1, vec![])).await;
    conn.send(&subscribe(3, "none")).await;
    let answer = conn.expect().await;
    assert_eq!(
        (answer.kind, answer.id),
        (Kind::End, 3),
        "a stream once the open one was cancelled: {answer:?}"
    );
    // Stream 3 has ended; its task may take a moment to finish after its end frame went out.
    let mut accepted = false;
    for id in 4..1004 {
        conn.send(&subscribe(id, "none")).await;
        let answer = conn.expect().await;
        if answer.kind == Kind::End {
            accepted = true;
            break;
        }
        assert_eq!(remote_error(&answer).code, ErrorCode::Busy, "a refused stream {id}");
        tokio::task::yield_now().await;
    }
    assert!(accepted, "a stream once the only other one ended");
    server.stop().await;
}

#[test(tokio)]
async fn shutdown_finishes_the_calls_in_flight() {
    let (gate, gauge) = (Gate::new(), Gauge::default());
    let mut service = basic_service();
    let (gate2, gauge2) = (gate.clone(), gauge.clone());
    service.method("slow", move |call| {
        let (gate, gauge) = (gate2.clone(), gauge2.clone());
        async move {
            let _running = gauge.enter();
            gate.pass().await;
            Ok(call.payload)
        }
    });
    let mut server = start(service, ServerConfig::default()).await;
    let mut conn = RawConn::connect(server.addr).await;
    conn.send(&request(1, "slow", b"done".to_vec())).await;
    eventually("the call to start", || gauge.now() == 1).await;
    server.begin_stop();
    let addr = server.addr;
    let mut refused = false;
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused, "a stopping server accepts no new connection");
    let task = server.take_task();
    assert!(!task.is_finished(), "serve waits for the call in flight");
    gate.open();
    let answer = conn.expect().await;
    assert_eq!(
        (answer.kind, &answer.payload[..]),
        (Kind::Response, &b"done"[..]),
        "(kind, payload) answering the call in flight at shutdown; payload \"{}\"",
        answer.payload.escape_ascii()
    );
    within("serve", task).await.unwrap().unwrap();
}

#[test(tokio)]
async fn shutdown_cancels_calls_that_outlive_the_grace_period() {
    let (started, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let config = ServerConfig { grace: Duration::from_millis(200), ..ServerConfig::default() };
    let mut server = start(hanging_service(&started, &dropped), config).await;
    let mut conn = RawConn::connect(server.addr).await;
    conn.send(&request(3, "hang", vec![])).await;
    eventually("the call to start", || started.load(Ordering::SeqCst)).await;
    server.begin_stop();
    within("serve", server.take_task()).await.unwrap().unwrap();
    assert!(dropped.load(Ordering::SeqCst), "the handler was cancelled");
    // Closing without a word is acceptable too.
    if let Some(answer) = conn.recv().await {
        assert_eq!(
            remote_error(&answer).code,
            ErrorCode::ShuttingDown,
            "the error code of a call cancelled at shutdown"
        );
    }
}
