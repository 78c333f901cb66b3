//! Stage 1: one thread, a `mio::Poll`, each connection a state machine with its own buffers:
//! partial reads and writes, `WouldBlock`, resets and half-closes handled, interest switched
//! between readable and writable as the state needs.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;

use common::{ask, connect, read_exactly, read_line, read_to_close, start_loop};
use nbnet::Options;
use testkit::test;

#[test]
fn echoes_a_line() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    assert_eq!(ask(&mut client, "hello"), "hello", "the echo of hello");
    assert_eq!(ask(&mut client, "again"), "again", "the connection stays open for the next request");
}

#[test]
fn a_client_sending_one_byte_at_a_time_is_answered() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    for &byte in b"hello world\nsecond line\n" {
        client.write_all(&[byte]).expect("write one byte");
    }
    assert_eq!(read_line(&mut client), "hello world", "the line read back");
    assert_eq!(read_line(&mut client), "second line", "the line read back");
}

#[test]
fn a_thousand_pipelined_requests_in_one_write_are_answered_in_order() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    let wire: String = (0..1000).map(|i| format!("request {i}\n")).collect();
    client.write_all(wire.as_bytes()).expect("write 1000 requests at once");
    let want = wire.len();
    let got = read_exactly(&mut client, want);
    assert_eq!(String::from_utf8(got).unwrap(), wire, "the 1000 answers, in order");
    testkit::eventually("1000 requests are counted", || server.stats.requests.load(Relaxed) == 1000);
}

#[test]
fn a_response_larger_than_the_socket_buffer_is_written_in_parts() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    client.write_all(b"big 6000000\n").expect("write");
    let got = read_exactly(&mut client, 6_000_001);
    assert!(got[..6_000_000].iter().all(|&b| b == b'b') && got[6_000_000] == b'\n');
    assert_eq!(ask(&mut client, "after"), "after", "the connection reads again once the output is written");
}

#[test]
fn a_client_that_never_reads_is_closed_and_others_are_unaffected() {
    let server = start_loop(Options { max_output: 256 << 10, ..Options::default() });
    let mut other = connect(server.addr);
    assert_eq!(ask(&mut other, "before"), "before", "the echo of before");
    let mut hog = connect(server.addr);
    // 40 MB of answers that are never read: far more than the socket buffers hold.
    let requests = "big 1000000\n".repeat(40);
    let _ = hog.write_all(requests.as_bytes());
    testkit::eventually("the server closes the connection that does not read", || {
        server.stats.overflows.load(Relaxed) == 1
    });
    assert_eq!(ask(&mut other, "after"), "after", "another connection is served throughout");
    let got = read_to_close(&mut hog);
    assert!(got.len() < 40_000_040, "the hog was cut off, not served everything");
}

#[test]
fn a_half_closed_client_gets_every_answer_then_the_close() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    client.write_all(b"one\ntwo\nthree\n").expect("write");
    client.shutdown(std::net::Shutdown::Write).expect("half-close");
    assert_eq!(
        read_to_close(&mut client).escape_ascii().to_string(),
        "one\\ntwo\\nthree\\n",
        "what the server sent before it closed the connection"
    );
    testkit::eventually("the connection is dropped", || server.stats.active.load(Relaxed) == 0);
}

#[test]
fn a_peer_reset_closes_that_connection_only() {
    let server = start_loop(Options::default());
    let mut keeper = connect(server.addr);
    assert_eq!(ask(&mut keeper, "hi"), "hi", "the echo of hi");
    let resetter = connect(server.addr);
    (&resetter).write_all(b"big 5000000\n").expect("write");
    reset(resetter);
    testkit::eventually("the reset connection is dropped", || server.stats.closed.load(Relaxed) == 1);
    assert_eq!(ask(&mut keeper, "still here"), "still here", "the echo of still here");
    assert_eq!(server.stats.active.load(Relaxed), 1, "the loop's active count");
}

#[test]
fn a_peer_that_resets_before_sending_anything_is_dropped() {
    // The read, not a write, meets the reset: ECONNRESET once, with no later event to come.
    let server = start_loop(Options::default());
    let silent = connect(server.addr);
    testkit::eventually("the connection is accepted", || server.stats.active.load(Relaxed) == 1);
    reset(silent);
    testkit::eventually("the reset connection is dropped", || server.stats.closed.load(Relaxed) == 1);
    assert_eq!(server.stats.active.load(Relaxed), 0, "the loop's active count");
}

#[test]
fn a_request_split_across_many_reads_is_reassembled() {
    let server = start_loop(Options { read_chunk: 7, ..Options::default() });
    let mut client = connect(server.addr);
    let line = "x".repeat(10_000);
    assert_eq!(ask(&mut client, &line), line, "a 7-byte read buffer still sees the whole line");
}

#[test]
fn hundreds_of_connections_are_served_by_one_thread() {
    let server = start_loop(Options::default());
    let mut clients: Vec<TcpStream> = (0..300).map(|_| connect(server.addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("client {i}\n").as_bytes()).expect("write");
    }
    for (i, client) in clients.iter_mut().enumerate() {
        assert_eq!(read_line(client), format!("client {i}"), "the line read back");
    }
    assert_eq!(server.stats.accepted.load(Relaxed), 300, "the loop's accepted count");
}

#[test]
fn quit_closes_after_the_earlier_answers_and_counts_bytes() {
    let server = start_loop(Options::default());
    let mut client = connect(server.addr);
    client.write_all(b"a\nb\nquit\nnever answered\n").expect("write");
    assert_eq!(
        read_to_close(&mut client).escape_ascii().to_string(),
        "a\\nb\\n",
        "what the server sent before it closed the connection"
    );
    testkit::eventually("the bytes are counted", || {
        // At least up to `quit` was read; what follows may or may not have been.
        server.stats.bytes_read.load(Relaxed) >= 9 && server.stats.bytes_written.load(Relaxed) == 4
    });
}

#[test]
fn a_client_closing_without_a_word_is_dropped() {
    let server = start_loop(Options::default());
    for _ in 0..20 {
        drop(connect(server.addr));
    }
    testkit::eventually("every silent connection is dropped", || {
        server.stats.accepted.load(Relaxed) == 20 && server.stats.active.load(Relaxed) == 0
    });
    let mut client = connect(server.addr);
    let mut byte = [0; 1];
    client.set_read_timeout(Some(std::time::Duration::from_millis(50))).unwrap();
    assert!(client.read(&mut byte).is_err(), "nothing is said to a client that said nothing");
}

#[test]
fn a_request_longer_than_max_input_closes_the_connection() {
    let server = start_loop(Options { max_input: 64 << 10, ..Options::default() });
    let mut other = connect(server.addr);
    assert_eq!(ask(&mut other, "before"), "before", "the echo of the other client");
    let mut flood = connect(server.addr);
    // 512 KiB with no line end: under the test codec's own limit (1 MiB), far over max_input. The
    // write fails once the server hangs up, which is the point.
    let _ = flood.write_all(&vec![b'x'; 512 << 10]);
    testkit::eventually("the connection holding more than max_input is closed", || {
        server.stats.closed.load(Relaxed) == 1
    });
    assert_eq!(
        read_to_close(&mut flood).escape_ascii().to_string(),
        "",
        "a request never finished is never answered"
    );
    assert_eq!(ask(&mut other, "after"), "after", "the other connection is served throughout");
    assert_eq!(server.stats.overflows.load(Relaxed), 0, "a connection closed for its input is no overflow");
}

#[test]
fn max_input_bytes_of_an_unfinished_request_are_allowed() {
    // The limit is inclusive: 64 KiB waiting for their line end keep the connection open.
    let server = start_loop(Options { max_input: 64 << 10, ..Options::default() });
    let mut client = connect(server.addr);
    let line = "y".repeat(64 << 10);
    client.write_all(line.as_bytes()).expect("write 64 KiB without a line end");
    testkit::eventually("the server to read the 64 KiB", || {
        server.stats.bytes_read.load(Relaxed) == 64 << 10 || server.stats.closed.load(Relaxed) > 0
    });
    client.write_all(b"\n").expect("write the line end");
    let echoed = read_exactly(&mut client, line.len() + 1);
    assert!(echoed == format!("{line}\n").as_bytes(), "the 64 KiB line echoed back");
    assert_eq!(server.stats.closed.load(Relaxed), 0, "connections closed");
}

/// Closes `stream` with a reset (SO_LINGER of 0) instead of a FIN.
fn reset(stream: TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt reads `linger`, a valid struct of the size given, during the call.
    let done = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(done, 0, "setsockopt(SO_LINGER)");
    drop(stream);
}
