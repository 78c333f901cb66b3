//! Stage 4: push. A subscription yields the server's messages until either side ends it, and the
//! credit window bounds what a slow subscriber makes the server produce.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{DropFlag, basic_service, start};
use rpc::{Client, ClientConfig, ErrorCode, RemoteError, ServerConfig, Service};
use testkit::test;
use testkit::tokio::{eventually, within};

/// `count N` sends 0..N and ends; `fail` sends two and fails; `forever` counts what it produced
/// and holds `dropped`'s guard.
fn streams(produced: &Arc<AtomicUsize>, dropped: &Arc<AtomicBool>) -> Service {
    let mut service = basic_service();
    service.stream("count", |call, mut publisher| async move {
        let n: u32 = call.decode()?;
        for i in 0..n {
            publisher.send(&i).await?;
        }
        Ok(())
    });
    service.stream("fail", |_, mut publisher| async move {
        publisher.send(&1u32).await?;
        publisher.send(&2u32).await?;
        Err(RemoteError::internal("the source dried up"))
    });
    let (produced, dropped) = (Arc::clone(produced), Arc::clone(dropped));
    service.stream("forever", move |_, mut publisher| {
        let (produced, guard) = (Arc::clone(&produced), DropFlag(Arc::clone(&dropped)));
        async move {
            let _guard = guard;
            for i in 0u64.. {
                publisher.send(&i).await?;
                produced.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        }
    });
    service
}

fn config(window: u32) -> ClientConfig {
    ClientConfig { window, call_timeout: Some(Duration::from_secs(5)), ..ClientConfig::default() }
}

#[test(tokio)]
async fn a_stream_delivers_every_message_then_ends() {
    let (produced, dropped) = (Arc::default(), Arc::default());
    let server = start(streams(&produced, &dropped), ServerConfig::default()).await;
    let client = Client::connect(server.addr, config(4)).await.unwrap();
    let mut sub = client.subscribe("count", &500u32).await.unwrap();
    let mut got = Vec::new();
    while let Some(item) = within("the next message", sub.next::<u32>()).await {
        got.push(item.unwrap());
    }
    assert_eq!(got, (0..500).collect::<Vec<_>>(), "in order, through a window of 4");
    assert!(sub.next::<u32>().await.is_none(), "an ended stream stays ended");
    server.stop().await;
}

#[test(tokio)]
async fn two_streams_and_calls_share_a_connection() {
    let (produced, dropped) = (Arc::default(), Arc::default());
    let server = start(streams(&produced, &dropped), ServerConfig::default()).await;
    let client = Client::connect(server.addr, config(8)).await.unwrap();
    let mut a = client.subscribe("count", &50u32).await.unwrap();
    let mut b = client.subscribe("count", &30u32).await.unwrap();
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    loop {
        let next_a = a.next::<u32>().await;
        let next_b = b.next::<u32>().await;
        let _: u32 = client.call("echo", &7u32).await.unwrap();
        if next_a.is_none() && next_b.is_none() {
            break;
        }
        got_a.extend(next_a.map(Result::unwrap));
        got_b.extend(next_b.map(Result::unwrap));
    }
    assert_eq!(got_a, (0..50).collect::<Vec<_>>(), "the messages of stream a, count 50, read in turn with b");
    assert_eq!(got_b, (0..30).collect::<Vec<_>>(), "the messages of stream b, count 30, read in turn with a");
    server.stop().await;
}

#[test(tokio)]
async fn a_server_error_ends_the_stream() {
    let (produced, dropped) = (Arc::default(), Arc::default());
    let server = start(streams(&produced, &dropped), ServerConfig::default()).await;
    let client = Client::connect(server.addr, config(8)).await.unwrap();
    let mut sub = client.subscribe("fail", &()).await.unwrap();
    assert_eq!(sub.next::<u32>().await.unwrap().unwrap(), 1, "the first message of \"fail\"");
    assert_eq!(sub.next::<u32>().await.unwrap().unwrap(), 2, "the second message of \"fail\"");
    let err = sub.next::<u32>().await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Internal), "the error code ending \"fail\": {err}");
    let after = sub.next::<u32>().await;
    assert!(after.is_none(), "the next message after the error ended the stream: {after:?}");
    let mut missing = client.subscribe("nothing", &()).await.unwrap();
    let err = missing.next::<u32>().await.unwrap().unwrap_err();
    assert_eq!(
        err.code(),
        Some(ErrorCode::UnknownMethod),
        "the error code of subscribing to \"nothing\": {err}"
    );
    server.stop().await;
}

#[test(tokio)]
async fn dropping_the_subscription_stops_the_producer() {
    let (produced, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let server = start(streams(&produced, &dropped), ServerConfig::default()).await;
    let client = Client::connect(server.addr, config(16)).await.unwrap();
    let mut sub = client.subscribe("forever", &()).await.unwrap();
    for expected in 0..40u64 {
        assert_eq!(sub.next::<u64>().await.unwrap().unwrap(), expected, "message {expected} of \"forever\"");
    }
    drop(sub);
    eventually("the producer to be stopped", || dropped.load(Ordering::SeqCst)).await;
    let _: u32 = client.call("echo", &1u32).await.unwrap();
    server.stop().await;
}

#[test(tokio)]
async fn a_window_of_one_flows_and_the_publisher_counts_its_credit_down() {
    let (produced, dropped) = (Arc::default(), Arc::default());
    let mut service = streams(&produced, &dropped);
    let left = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&left);
    service.stream("credit", move |_, mut publisher| {
        let record = Arc::clone(&record);
        async move {
            for i in 0u32.. {
                publisher.send(&i).await?;
                record.lock().unwrap().push(publisher.credit());
            }
            Ok(())
        }
    });
    let server = start(service, ServerConfig::default()).await;

    let client = Client::connect(server.addr, config(1)).await.unwrap();
    let mut sub = client.subscribe("count", &20u32).await.unwrap();
    let mut got = Vec::new();
    while let Some(item) = within("the next message through a window of 1", sub.next::<u32>()).await {
        got.push(item.unwrap());
    }
    assert_eq!(got, (0..20).collect::<Vec<_>>(), "messages through a window of 1");

    // A subscriber that never reads: its window of 8 is spent one message at a time.
    let client = Client::connect(server.addr, config(8)).await.unwrap();
    let sub = client.subscribe("credit", &()).await.unwrap();
    eventually("the window to be spent", || left.lock().unwrap().len() >= 8).await;
    for _ in 0..20 {
        let _: u32 = client.call("echo", &1u32).await.unwrap();
    }
    assert_eq!(
        *left.lock().unwrap(),
        [7, 6, 5, 4, 3, 2, 1, 0],
        "Publisher::credit after each of the messages sent through a window of 8"
    );
    drop(sub);
    // The cancel frame went out before this call: once it is answered, the producer is stopped.
    let _: u32 = client.call("echo", &1u32).await.unwrap();
    server.stop().await;
}

#[test(tokio, flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_holds_the_producer_to_the_window() {
    const WINDOW: u32 = 8;
    let (produced, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let server = start(streams(&produced, &dropped), ServerConfig::default()).await;
    let client = Client::connect(server.addr, config(WINDOW)).await.unwrap();
    let mut sub = client.subscribe("forever", &()).await.unwrap();
    eventually("the window to be used", || produced.load(Ordering::SeqCst) >= WINDOW as usize).await;
    // Round trips on the same connection: the server has read and acted on everything since.
    for _ in 0..50 {
        let _: u32 = client.call("echo", &1u32).await.unwrap();
    }
    tokio::task::yield_now().await;
    assert_eq!(produced.load(Ordering::SeqCst), WINDOW as usize, "the producer waits for credit");
    for expected in 0..1000u64 {
        assert_eq!(
            within("a message", sub.next::<u64>()).await.unwrap().unwrap(),
            expected,
            "message {expected} of \"forever\" through a window of {WINDOW}"
        );
    }
    let seen = produced.load(Ordering::SeqCst);
    assert!(seen <= 1000 + WINDOW as usize, "reading grants credit, a window at a time: {seen}");
    drop(sub);
    eventually("the producer to be stopped", || dropped.load(Ordering::SeqCst)).await;
    server.stop().await;
}
