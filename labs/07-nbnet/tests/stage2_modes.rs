//! Stage 2: a raw epoll backend running the same state machine level- or edge-triggered, and what
//! breaks when a mode's rule is broken: an edge-triggered reader that stops before `EAGAIN`
//! starves, a level-triggered loop that asks for writability with nothing to write spins.

mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::{Echo, connect, localhost, read_exactly};
use nbnet::epoll::{Epoll, EpollLoop, Rules, Trigger};
use testkit::test;

const CHUNK: usize = 1024;
const QUIET: Duration = Duration::from_millis(30);

fn epoll_loop(trigger: Trigger, rules: Rules) -> EpollLoop<Echo> {
    EpollLoop::bind(localhost(), Echo, trigger, rules, CHUNK).expect("bind 127.0.0.1:0")
}

/// Turns the loop until `done` holds (at most 2000 turns).
fn turn_until(server: &mut EpollLoop<Echo>, mut done: impl FnMut(&EpollLoop<Echo>) -> bool) -> bool {
    for _ in 0..2000 {
        if done(server) {
            return true;
        }
        server.turn(Some(Duration::from_millis(5))).expect("epoll_wait");
    }
    done(server)
}

/// Turns the loop until a wait of QUIET reports nothing (at most 200 turns); returns the turns.
fn settle(server: &mut EpollLoop<Echo>) -> usize {
    for turns in 0..200 {
        if server.turn(Some(QUIET)).expect("epoll_wait") == 0 {
            return turns;
        }
    }
    panic!("the loop never went quiet");
}

/// A 16 KiB line: 16 reads of CHUNK bytes.
fn long_line() -> Vec<u8> {
    let mut line = vec![b'a'; 16 * CHUNK - 1];
    line.push(b'\n');
    line
}

#[test]
fn level_triggered_reports_a_ready_descriptor_on_every_wait() {
    let epoll = Epoll::new().expect("epoll_create1");
    let (mut a, b) = UnixStream::pair().expect("socketpair");
    epoll.add(b.as_raw_fd(), 7, true, false, Trigger::Level).expect("add");
    a.write_all(b"x").expect("write");
    let mut events = Vec::with_capacity(8);
    for _ in 0..3 {
        assert_eq!(
            epoll.wait(&mut events, Some(Duration::ZERO)).expect("wait"),
            1,
            "still unread: reported again"
        );
        assert_eq!({ events[0].u64 }, 7, "the event carries the token it was added with");
    }
}

#[test]
fn edge_triggered_reports_a_descriptor_once_per_change() {
    let epoll = Epoll::new().expect("epoll_create1");
    let (mut a, mut b) = UnixStream::pair().expect("socketpair");
    epoll.add(b.as_raw_fd(), 9, true, false, Trigger::Edge).expect("add");
    a.write_all(b"x").expect("write");
    let mut events = Vec::with_capacity(8);
    assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).expect("wait"), 1, "events for the first data");
    assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).expect("wait"), 0, "no new edge, no event");
    a.write_all(b"y").expect("write");
    assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).expect("wait"), 1, "new data is a new edge");
    let mut buf = [0; 8];
    assert_eq!(b.read(&mut buf).expect("read"), 2, "bytes read: both writes");
    epoll.modify(b.as_raw_fd(), 9, true, true, Trigger::Edge).expect("modify");
    assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).expect("wait"), 1, "writable after MOD");
    epoll.delete(b.as_raw_fd()).expect("delete");
    a.write_all(b"z").expect("write");
    assert_eq!(epoll.wait(&mut events, Some(Duration::ZERO)).expect("wait"), 0, "deleted: never reported");
}

#[test]
fn an_edge_triggered_reader_that_reads_one_chunk_per_event_stalls() {
    let mut server = epoll_loop(Trigger::Edge, Rules { drain_reads: false, drop_write_interest: true });
    let mut client = connect(server.local_addr().unwrap());
    client.write_all(&long_line()).expect("write 16 KiB");
    assert!(turn_until(&mut server, |s| s.stats().bytes_read > 0), "the first edge is reported");
    settle(&mut server);
    let stats = server.stats();
    assert_eq!(stats.bytes_read, CHUNK as u64, "one chunk read, and no event ever comes for the rest");
    assert_eq!(stats.bytes_written, 0, "the line is never complete, so never answered");
    assert_eq!(server.connections(), 1, "connections open: the stalled one");
}

#[test]
fn an_edge_triggered_reader_that_drains_serves_everything() {
    let mut server = epoll_loop(Trigger::Edge, Rules::FOLLOWED);
    let mut client = connect(server.local_addr().unwrap());
    let line = long_line();
    client.write_all(&line).expect("write 16 KiB");
    let total = line.len() as u64;
    assert!(turn_until(&mut server, |s| s.stats().bytes_written == total), "the whole line is echoed");
    assert_eq!(
        read_exactly(&mut client, line.len()).escape_ascii().to_string(),
        line.escape_ascii().to_string(),
        "the 16 KiB line echoed back"
    );
}

#[test]
fn a_level_triggered_reader_may_read_one_chunk_per_event() {
    let mut server = epoll_loop(Trigger::Level, Rules { drain_reads: false, drop_write_interest: true });
    let mut client = connect(server.local_addr().unwrap());
    let line = long_line();
    client.write_all(&line).expect("write 16 KiB");
    let total = line.len() as u64;
    assert!(
        turn_until(&mut server, |s| s.stats().bytes_written == total),
        "level-triggered reports the rest"
    );
    assert!(server.stats().wakeups >= 16, "one wakeup per chunk: {:?}", server.stats());
    assert_eq!(
        read_exactly(&mut client, line.len()).escape_ascii().to_string(),
        line.escape_ascii().to_string(),
        "the 16 KiB line echoed back"
    );
}

#[test]
fn level_triggered_write_interest_with_nothing_to_write_spins() {
    let mut server = epoll_loop(Trigger::Level, Rules { drain_reads: true, drop_write_interest: false });
    let _client = connect(server.local_addr().unwrap());
    assert!(turn_until(&mut server, |s| s.connections() == 1), "accepted");
    let before = server.stats().wakeups;
    let mut events = 0;
    for _ in 0..100 {
        events += server.turn(Some(Duration::from_secs(1))).expect("epoll_wait");
    }
    assert_eq!(events, 100, "an idle connection wakes every wait: a busy loop");
    assert_eq!(server.stats().wakeups - before, 100, "wakeups in the 100 waits");
}

#[test]
fn level_triggered_without_write_interest_sleeps_when_idle() {
    let mut server = epoll_loop(Trigger::Level, Rules::FOLLOWED);
    let mut client = connect(server.local_addr().unwrap());
    client.write_all(b"ping\n").expect("write");
    assert!(turn_until(&mut server, |s| s.stats().bytes_written == 5), "answered");
    settle(&mut server);
    assert_eq!(server.turn(Some(QUIET)).expect("epoll_wait"), 0, "nothing to do, nothing reported");
}

#[test]
fn edge_triggered_write_interest_does_not_spin() {
    let mut server = epoll_loop(Trigger::Edge, Rules { drain_reads: true, drop_write_interest: false });
    let mut client = connect(server.local_addr().unwrap());
    client.write_all(b"ping\n").expect("write");
    assert!(turn_until(&mut server, |s| s.stats().bytes_written == 5), "answered");
    let turns = settle(&mut server);
    assert!(turns < 10, "writability is reported once per edge, not on every wait ({turns} turns)");
    assert_eq!(server.turn(Some(QUIET)).expect("epoll_wait"), 0, "events on the idle edge-triggered loop");
}

#[test]
fn the_epoll_loop_closes_connections_that_hang_up() {
    for trigger in [Trigger::Level, Trigger::Edge] {
        let mut server = epoll_loop(trigger, Rules::FOLLOWED);
        let client = connect(server.local_addr().unwrap());
        assert!(turn_until(&mut server, |s| s.connections() == 1), "{trigger:?}: accepted");
        drop(client);
        assert!(
            turn_until(&mut server, |s| s.connections() == 0),
            "{trigger:?}: a hang-up closes the connection"
        );
        assert_eq!(server.stats().closed, 1, "{trigger:?}: connections closed");
    }
}

#[test]
fn the_epoll_loop_writes_a_large_answer_as_the_socket_drains() {
    // More than the socket buffers hold, and no request after it: the rest goes out on writable
    // events alone, with no readable event to prompt it.
    const LEN: usize = 4_000_000;
    for trigger in [Trigger::Level, Trigger::Edge] {
        let mut server = epoll_loop(trigger, Rules::FOLLOWED);
        let mut client = connect(server.local_addr().unwrap());
        client.write_all(format!("big {LEN}\n").as_bytes()).expect("write the request");
        client.set_nonblocking(true).expect("a non-blocking client");
        let (mut got, mut buf) = (0, vec![0u8; 1 << 16]);
        let all = turn_until(&mut server, |_| {
            loop {
                match client.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            got == LEN + 1
        });
        assert!(all, "{trigger:?}: the client read {got} of {} bytes", LEN + 1);
    }
}

#[test]
fn epoll_wait_without_a_timeout_waits_for_an_event() {
    let epoll = Epoll::new().expect("epoll_create1");
    let (a, b) = UnixStream::pair().expect("a socket pair");
    epoll.add(b.as_raw_fd(), 3, true, false, Trigger::Level).expect("add");
    let writer = std::thread::spawn(move || {
        // The event comes later than any short timeout would have waited.
        std::thread::sleep(Duration::from_millis(100));
        (&a).write_all(b"x").expect("write");
        a
    });
    let mut events = Vec::with_capacity(4);
    let n = epoll.wait(&mut events, None).expect("epoll_wait");
    assert_eq!(n, 1, "a wait with no timeout returns with the event, not before");
    drop(writer.join());
}

#[test]
fn epoll_ctl_errors_are_returned() {
    // epoll cannot watch a regular file (EPERM), nor a descriptor it already watches (EEXIST).
    let epoll = Epoll::new().expect("epoll_create1");
    let file = std::fs::File::open("Cargo.toml").expect("the package's Cargo.toml");
    let refused = epoll.add(file.as_raw_fd(), 1, true, false, Trigger::Level);
    assert!(refused.is_err(), "adding a regular file: {refused:?}");
    let (_a, b) = UnixStream::pair().expect("a socket pair");
    epoll.add(b.as_raw_fd(), 2, true, false, Trigger::Level).expect("add");
    let again = epoll.add(b.as_raw_fd(), 2, true, false, Trigger::Level);
    assert!(again.is_err(), "adding a descriptor twice: {again:?}");
}
