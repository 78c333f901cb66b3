//! Stage 3: the `Service` trait and its codecs (nbNet's 10-byte length header, lines), timers (idle
//! timeout, per-connection deadlines), a handle that lets other threads hand work back to the loop,
//! and graceful shutdown.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::{ask, connect, read_exactly, read_line, read_to_close, start_loop};
use nbnet::{
    Codec, CodecError, ConnId, Context, EventLoop, LengthCodec, LineCodec, Options, Service, Timers,
};
use proptest::prelude::*;
use testkit::test;

/// A decoded frame with its payload as escaped text, for readable failures.
fn text(
    decoded: Result<Option<(Vec<u8>, usize)>, CodecError>,
) -> Result<Option<(String, usize)>, CodecError> {
    decoded.map(|frame| frame.map(|(payload, used)| (payload.escape_ascii().to_string(), used)))
}

/// Feeds `wire` to `codec` in pieces cut at `cuts`, as reads would deliver it, and collects the
/// requests decoded; `Err` as soon as the codec refuses.
fn decode_in_pieces<C: Codec>(
    codec: &mut C,
    wire: &[u8],
    cuts: &[usize],
) -> Result<Vec<C::Request>, CodecError> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (wire.len() + 1)).collect();
    cuts.push(wire.len());
    cuts.sort_unstable();
    let (mut buffer, mut requests, mut from) = (Vec::new(), Vec::new(), 0);
    for cut in cuts {
        buffer.extend_from_slice(&wire[from..cut]);
        from = cut;
        while let Some((request, used)) = codec.decode(&buffer)? {
            assert!(used > 0 && used <= buffer.len(), "a request uses some of the buffer: {used}");
            requests.push(request);
            buffer.drain(..used);
        }
    }
    Ok(requests)
}

#[test]
fn the_length_codec_frames_with_a_ten_digit_header() {
    let mut codec = LengthCodec::new(100);
    let mut wire = Vec::new();
    codec.encode(b"hello".to_vec(), &mut wire);
    codec.encode(Vec::new(), &mut wire);
    assert_eq!(wire.escape_ascii().to_string(), "0000000005hello0000000000", "two frames encoded");
    assert_eq!(text(codec.decode(&wire)), Ok(Some(("hello".into(), 15))), "the first frame and its length");
    assert_eq!(
        text(codec.decode(&wire[15..])),
        Ok(Some((String::new(), 10))),
        "the empty frame and its length"
    );
    assert_eq!(text(codec.decode(b"00000000")), Ok(None), "a partial header waits");
    assert_eq!(text(codec.decode(b"0000000005hel")), Ok(None), "a partial payload waits");
    assert!(matches!(codec.decode(b"00000x0005hello"), Err(CodecError::BadHeader { .. })));
    assert_eq!(
        text(codec.decode(b"0000000101")),
        Err(CodecError::TooLong { len: 101, max: 100 }),
        "a header over the limit"
    );
    let largest = [b"0000000100".as_slice(), &[b'x'; 100]].concat();
    assert_eq!(
        codec.decode(&largest).map(|frame| frame.map(|(payload, used)| (payload.len(), used))),
        Ok(Some((100, 110))),
        "a frame of exactly the limit"
    );
}

#[test]
fn the_line_codec_cuts_at_line_ends() {
    let mut codec = LineCodec::new(8);
    assert_eq!(text(codec.decode(b"ab\r\ncd\n")), Ok(Some(("ab".into(), 4))), "a line ended by \\r\\n");
    assert_eq!(text(codec.decode(b"cd\n")), Ok(Some(("cd".into(), 3))), "a line ended by \\n");
    assert_eq!(text(codec.decode(b"\n")), Ok(Some((String::new(), 1))), "an empty line");
    assert_eq!(text(codec.decode(b"abc")), Ok(None), "a line without its end waits");
    assert!(matches!(codec.decode(b"0123456789\n"), Err(CodecError::TooLong { .. })));
    assert!(matches!(codec.decode(b"0123456789ab"), Err(CodecError::TooLong { .. })), "no end in sight");
    // The limit counts the line without its end: 8 bytes, then "\r\n", is the longest line.
    assert_eq!(text(codec.decode(b"01234567\r\n")), Ok(Some(("01234567".into(), 10))), "a line of 8");
    assert_eq!(text(codec.decode(b"01234567\r")), Ok(None), "a line of 8 whose \\n has not come");
    assert!(matches!(codec.decode(b"012345678\n"), Err(CodecError::TooLong { .. })), "a line of 9");
    assert!(
        matches!(codec.decode(b"012345678\r"), Err(CodecError::TooLong { .. })),
        "9 bytes and a \\r, no end yet"
    );
    let mut out = Vec::new();
    codec.encode(b"ok".to_vec(), &mut out);
    assert_eq!(out.escape_ascii().to_string(), "ok\\n", "a line encoded");
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn the_length_codec_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = LengthCodec::new(1000).decode(&bytes);
        let digits: Vec<u8> = bytes.iter().map(|b| b'0' + b % 10).collect();
        let _ = LengthCodec::new(1000).decode(&digits);
    }

    #[test]
    fn the_line_codec_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = LineCodec::new(16).decode(&bytes);
    }

    #[test]
    fn any_split_of_length_frames_gives_the_same_messages(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut codec = LengthCodec::new(1000);
        let mut wire = Vec::new();
        for payload in &payloads {
            codec.encode(payload.clone(), &mut wire);
        }
        prop_assert_eq!(decode_in_pieces(&mut codec, &wire, &cuts).unwrap(), payloads, "the frames decoded from pieces");
    }

    #[test]
    fn any_split_of_lines_gives_the_same_lines(
        lines in proptest::collection::vec("[a-z ]{0,20}", 0..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut codec = LineCodec::new(100);
        let wire: String = lines.iter().map(|line| format!("{line}\r\n")).collect();
        let want: Vec<Vec<u8>> = lines.iter().map(|line| line.as_bytes().to_vec()).collect();
        prop_assert_eq!(decode_in_pieces(&mut codec, wire.as_bytes(), &cuts).unwrap(), want, "the lines decoded from pieces");
    }
}

/// nbNet's own example: a service answering each framed message in upper case.
struct Upper;

impl Service for Upper {
    type Codec = LengthCodec;

    fn codec(&self) -> LengthCodec {
        LengthCodec::new(1 << 20)
    }

    fn call(&self, message: Vec<u8>, _cx: &mut Context<'_>) -> Option<Vec<u8>> {
        Some(message.to_ascii_uppercase())
    }
}

#[test]
fn an_nbnet_service_over_length_frames() {
    let event_loop = EventLoop::bind(common::localhost(), Upper, Options::default()).expect("bind");
    let (addr, handle) = (event_loop.local_addr().unwrap(), event_loop.handle());
    let thread = std::thread::spawn(move || common::watch(|| event_loop.run()));
    let mut client = connect(addr);
    client.write_all(b"0000000005hello00000").expect("write");
    client.write_all(b"00003abc0000000000").expect("write");
    assert_eq!(
        read_exactly(&mut client, 38).escape_ascii().to_string(),
        "0000000005HELLO0000000003ABC0000000000",
        "the bytes read back"
    );
    client.write_all(b"garbage!!!").expect("write");
    assert_eq!(
        read_to_close(&mut client).escape_ascii().to_string(),
        "",
        "a bad header closes the connection"
    );
    handle.shutdown();
    thread.join().expect("the loop does not panic").expect("the loop ends cleanly");
}

#[test]
fn timers_come_due_earliest_first() {
    let mut timers = Timers::new();
    assert!(timers.is_empty(), "a new timer queue is empty");
    let now = Instant::now();
    timers.schedule(now + Duration::from_secs(3), 3, 0);
    timers.schedule(now + Duration::from_secs(1), 1, 0);
    timers.schedule(now + Duration::from_secs(2), 2, 5);
    assert_eq!(timers.len(), 3, "timers pending");
    assert_eq!(timers.next_deadline(), Some(now + Duration::from_secs(1)), "the earliest deadline");
    let mut due = Vec::new();
    timers.expire(now, &mut due);
    assert!(due.is_empty(), "nothing is due yet");
    timers.expire(now + Duration::from_secs(2), &mut due);
    assert_eq!(due, [(1, 0), (2, 5)], "the (token, generation) pairs due, earliest first");
    assert_eq!(timers.next_deadline(), Some(now + Duration::from_secs(3)), "the deadline left");
    assert!(!timers.is_empty());
}

#[test]
fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let server = start_loop(Options { idle_timeout: Some(Duration::from_millis(300)), ..Options::default() });
    let mut idle = connect(server.addr);
    let mut busy = connect(server.addr);
    // Busy too: a client sending a long request a byte at a time, which gets no answer yet.
    let mut sending = connect(server.addr);
    assert_eq!(ask(&mut idle, "hello"), "hello", "the echo of hello");
    let started = Instant::now();
    while server.stats.timeouts.load(Relaxed) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the idle connection is never closed");
        assert_eq!(ask(&mut busy, "tick"), "tick", "the echo of tick");
        sending.write_all(b"x").expect("a byte of the long request");
        std::thread::sleep(Duration::from_millis(20)); // the busy clients' pace, not a wait for a condition
    }
    assert!(started.elapsed() >= Duration::from_millis(250), "not closed before its idle time");
    assert_eq!(
        read_to_close(&mut idle).escape_ascii().to_string(),
        "",
        "what the server sent before it closed the connection"
    );
    assert_eq!(ask(&mut busy, "still open"), "still open", "activity keeps a connection open");
    sending.write_all(b"\n").expect("the end of the long request");
    let line = read_line(&mut sending);
    assert!(line.bytes().all(|b| b == b'x') && !line.is_empty(), "reading alone keeps a connection open");
    assert_eq!(server.stats.timeouts.load(Relaxed), 1, "the loop's timeouts count");
}

#[test]
fn a_deadline_closes_a_connection_however_active() {
    // An idle timeout much shorter than the deadline: its timer comes round first, and must not
    // close a connection whose deadline has not come.
    let server = start_loop(Options { idle_timeout: Some(Duration::from_millis(100)), ..Options::default() });
    let mut client = connect(server.addr);
    assert_eq!(ask(&mut client, "deadline 1500"), "ok", "the echo of deadline 1500");
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_millis(500) {
        assert_eq!(ask(&mut client, "not yet"), "not yet", "the connection before its deadline");
        std::thread::sleep(Duration::from_millis(20)); // the client's pace, not a wait for a condition
    }
    testkit::eventually("the deadline closes the connection", || {
        let _ = client.write_all(b"tick\n");
        server.stats.timeouts.load(Relaxed) == 1
    });
    let _ = read_to_close(&mut client);
}

#[test]
fn an_idle_loop_wakes_for_its_timers_alone() {
    let server = start_loop(Options { idle_timeout: Some(Duration::from_millis(300)), ..Options::default() });
    let mut short = connect(server.addr);
    assert_eq!(ask(&mut short, "deadline 100"), "ok", "the answer to the deadline request");
    let mut idle = connect(server.addr);
    assert_eq!(ask(&mut idle, "hello"), "hello", "the echo");
    // From here no byte moves: only the poll timeout, the earliest timer, brings the loop round.
    assert_eq!(
        read_to_close(&mut short).escape_ascii().to_string(),
        "",
        "the deadline closes its connection on a silent loop"
    );
    assert_eq!(
        read_to_close(&mut idle).escape_ascii().to_string(),
        "",
        "the idle timeout closes its connection on a silent loop"
    );
    testkit::eventually("both closes are counted as timeouts", || server.stats.timeouts.load(Relaxed) == 2);
}

#[test]
fn a_loop_with_nothing_to_do_sleeps() {
    // No timer, no traffic: the poll waits for an event instead of returning at once.
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    assert_eq!(ask(&mut client, "hello"), "hello", "the echo of hello");
    let before = server.stats.wakeups.load(Relaxed);
    std::thread::sleep(Duration::from_millis(200)); // the window watched, not a wait for a condition
    let woke = server.stats.wakeups.load(Relaxed) - before;
    assert!(woke <= 5, "an idle loop woke {woke} times in 200 ms");
}

/// The connection an `id` request was answered on.
fn conn_id(answer: &str) -> ConnId {
    let (token, generation) = answer.split_once(' ').expect("`id` answers TOKEN GENERATION");
    ConnId { token: token.parse().expect("a token"), generation: generation.parse().expect("a generation") }
}

#[test]
fn a_late_handle_write_never_reaches_the_slots_next_connection() {
    let server = start_loop(Options::default());
    let mut first = connect(server.addr);
    let old = conn_id(&ask(&mut first, "id"));
    first.write_all(b"quit\n").expect("write");
    assert_eq!(read_to_close(&mut first).escape_ascii().to_string(), "", "quit closes the first connection");
    testkit::eventually("the first connection is dropped", || server.stats.closed.load(Relaxed) == 1);
    let mut second = connect(server.addr);
    let new = conn_id(&ask(&mut second, "id"));
    assert_eq!(new.token, old.token, "the freed slot is reused: the case generations are for");
    assert_ne!(new.generation, old.generation, "a new occupant of the slot has a new generation");
    // A write computed for the first connection arrives only now; the channel keeps the order.
    assert!(server.handle.write(old, b"stale".to_vec()), "the loop takes the late write");
    assert!(server.handle.write(new, b"fresh\n".to_vec()), "the loop takes the write for the second");
    assert_eq!(read_line(&mut second), "fresh", "the write for the slot's earlier connection is dropped");
}

#[test]
fn another_thread_answers_through_the_handle() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    client.write_all(b"later 1\n").expect("write");
    assert_eq!(read_line(&mut client), "done 1", "the line read back");
    assert_eq!(ask(&mut client, "now"), "now", "the echo of now");
    // A handle write for a connection that has gone is dropped, not sent to the slot's next owner.
    client.write_all(b"later 2\nquit\n").expect("write");
    let rest = read_to_close(&mut client);
    assert!(
        rest.is_empty() || rest == b"done 2\n",
        "after quit, nothing or the late answer: \"{}\"",
        rest.escape_ascii()
    );
    let mut next = connect(server.addr);
    assert_eq!(ask(&mut next, "fresh"), "fresh", "the echo of fresh");
}

#[test]
fn shutdown_with_connections_open_closes_them_and_returns() {
    // A grace period longer than the test: connections with nothing left to write close at once,
    // not when it ends.
    let server = start_loop(Options { shutdown_grace: Duration::from_secs(600), ..Options::default() });
    let mut clients: Vec<_> = (0..5).map(|_| connect(server.addr)).collect();
    for client in &mut clients {
        assert_eq!(ask(client, "hi"), "hi", "the echo of hi");
    }
    clients[0].write_all(b"half a requ").expect("write");
    server.handle.shutdown();
    server.wait_done().expect("run returns Ok after a shutdown");
    for client in &mut clients {
        assert_eq!(read_to_close(client).escape_ascii().to_string(), "", "every connection is closed");
    }
    assert!(std::net::TcpStream::connect(server.addr).is_err(), "the listener is closed");
}

#[test]
fn shutdown_finishes_writing_pending_responses() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    client.write_all(b"big 8000000\n").expect("write");
    testkit::eventually("the request is handled", || server.stats.requests.load(Relaxed) == 1);
    server.handle.shutdown();
    let got = read_to_close(&mut client);
    assert_eq!(got.len(), 8_000_001, "the answer is written in full before the close");
    server.wait_done().expect("run returns Ok");
}
