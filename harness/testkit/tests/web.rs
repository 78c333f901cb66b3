//! The fixture web server, driven by a raw `TcpStream` client: framing, ranges, validators, faults,
//! the request log, and stopping.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use testkit::web::{Fault, Route, Site, WebServer};

const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz";

/// A parsed answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A minimal HTTP/1.1 client over one connection.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(server: &WebServer) -> Client {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { stream, buf: Vec::new() }
    }

    fn send(&mut self, raw: &str) {
        self.stream.write_all(raw.as_bytes()).unwrap();
    }

    fn get(&mut self, target: &str, extra: &str) -> Answer {
        self.send(&format!("GET {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n"));
        self.answer(false).unwrap()
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self) -> io::Result<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.take(i + 2)?;
                return Ok(String::from_utf8(line[..i].to_vec()).unwrap());
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads the head of an answer.
    fn head(&mut self) -> io::Result<Answer> {
        let status_line = self.line()?;
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':').unwrap();
            headers.push((n.to_owned(), v.trim().to_owned()));
        }
        Ok(Answer { status, headers, body: Vec::new() })
    }

    /// Reads one answer; `head_only` for the answer to a HEAD.
    fn answer(&mut self, head_only: bool) -> io::Result<Answer> {
        let mut answer = self.head()?;
        if head_only {
            return Ok(answer);
        }
        if answer.header("transfer-encoding") == Some("chunked") {
            loop {
                let size_line = self.line()?;
                let size = usize::from_str_radix(size_line.split(';').next().unwrap(), 16).unwrap();
                if size == 0 {
                    while !self.line()?.is_empty() {}
                    break;
                }
                answer.body.extend(self.take(size)?);
                assert_eq!(self.take(2)?, b"\r\n");
            }
        } else if let Some(len) = answer.header("content-length") {
            answer.body = self.take(len.parse().unwrap())?;
        } else {
            while self.fill()? > 0 {}
            answer.body = std::mem::take(&mut self.buf);
        }
        Ok(answer)
    }

    /// Reads until EOF or an error; returns the bytes and whether it ended in an error.
    fn drain(&mut self) -> (Vec<u8>, bool) {
        loop {
            match self.fill() {
                Ok(0) => return (std::mem::take(&mut self.buf), false),
                Ok(_) => {}
                Err(_) => return (std::mem::take(&mut self.buf), true),
            }
        }
    }
}

fn alphabet_server(route: Route) -> WebServer {
    WebServer::start(Site::new().page("/", "<p>home</p>").route("/f", route))
}

fn alphabet() -> Route {
    Route::ok("text/plain", ALPHABET)
}

#[test]
fn keeps_a_connection_alive_for_several_requests() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    assert_eq!(client.get("/", "").text(), "<p>home</p>");
    assert_eq!(client.get("/f", "").text(), ALPHABET);
    assert_eq!(server.connections(), 1);
    let records = server.requests();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.connection == 0 && r.status == 200 && r.finished.is_some()));
    assert_eq!(records[0].header("HOST"), Some("test"));
}

#[test]
fn answers_pipelined_requests_in_order() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.1\r\n\r\nGET /missing HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\n\r\n");
    let statuses: Vec<u16> = (0..4).map(|_| client.answer(false).unwrap().status).collect();
    assert_eq!(statuses, [200, 404, 405, 200]);
    assert_eq!(server.connections(), 1);
}

#[test]
fn head_sends_the_head_alone() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    client.send("HEAD /f HTTP/1.1\r\n\r\nGET /f HTTP/1.1\r\n\r\n");
    let head = client.answer(true).unwrap();
    assert_eq!(head.header("content-length"), Some("26"));
    let get = client.answer(false).unwrap();
    assert_eq!(get.text(), ALPHABET);
    assert_eq!(head.headers, get.headers);
}

#[test]
fn sends_validators_and_lets_a_route_replace_them() {
    let server = alphabet_server(alphabet().header("Last-Modified", "Tue, 03 Nov 2026 10:00:00 GMT"));
    let mut client = Client::connect(&server);
    let answer = client.get("/f", "");
    let etag = answer.header("etag").unwrap().to_owned();
    assert!(etag.len() == 18 && etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(answer.header("accept-ranges"), Some("bytes"));
    assert_eq!(answer.header("server"), Some("testkit"));
    assert_eq!(answer.header("content-type"), Some("text/plain"));
    let modified: Vec<_> =
        answer.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("last-modified")).collect();
    assert_eq!(modified.len(), 1);
    assert_eq!(modified[0].1, "Tue, 03 Nov 2026 10:00:00 GMT");

    server.set_route("/f", Route::ok("text/plain", "changed"));
    let changed = client.get("/f", "");
    assert_eq!(changed.text(), "changed");
    assert_ne!(changed.header("etag").unwrap(), etag);
    assert_eq!(changed.header("last-modified"), Some("Mon, 02 Nov 2026 10:00:00 GMT"));
    server.set_route("/f", Route::ok("text/plain", "changed").header("ETag", "\"v2\""));
    assert_eq!(client.get("/f", "").header("etag"), Some("\"v2\""));
}

#[test]
fn answers_the_three_range_forms() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    for (range, status, body, content_range) in [
        ("bytes=2-4", 206, "cde", Some("bytes 2-4/26")),
        ("bytes=20-", 206, "uvwxyz", Some("bytes 20-25/26")),
        ("bytes=-3", 206, "xyz", Some("bytes 23-25/26")),
        ("bytes=24-99", 206, "yz", Some("bytes 24-25/26")),
        ("bytes=0-1,4-5", 200, ALPHABET, None),
        ("bytes=26-", 416, "416 Range Not Satisfiable\n", Some("bytes */26")),
    ] {
        let answer = client.get("/f", &format!("Range: {range}\r\n"));
        assert_eq!(answer.status, status, "{range}");
        assert_eq!(answer.text(), body, "{range}");
        assert_eq!(answer.header("content-range"), content_range, "{range}");
    }
    let records = server.requests();
    assert_eq!(records[0].range(), Some((2, Some(4))));
    assert_eq!(records[1].range(), Some((20, None)));
    assert_eq!(records[2].range(), None);
}

#[test]
fn if_range_with_a_stale_tag_gets_the_whole_body() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    let etag = client.get("/f", "").header("etag").unwrap().to_owned();
    assert_eq!(client.get("/f", &format!("Range: bytes=1-1\r\nIf-Range: {etag}\r\n")).text(), "b");
    assert_eq!(client.get("/f", "Range: bytes=1-1\r\nIf-Range: \"stale\"\r\n").status, 200);
}

#[test]
fn serves_ranges_only_on_200_routes() {
    let server = alphabet_server(Route::status(503));
    let answer = Client::connect(&server).get("/f", "Range: bytes=0-1\r\n");
    assert_eq!(answer.status, 503);
    assert_eq!(answer.text(), "503 Service Unavailable\n");
    assert_eq!(answer.header("etag"), None);
}

#[test]
fn finds_routes_by_target_then_by_path() {
    let site =
        Site::new().page("/q?x=1", "exact").page("/q", "path").route("/old", Route::redirect(301, "/q"));
    let server = WebServer::start(site);
    let mut client = Client::connect(&server);
    assert_eq!(client.get("/q?x=1", "").text(), "exact");
    assert_eq!(client.get("/q?x=2", "").text(), "path");
    assert_eq!(client.get("/nothing", "").status, 404);
    let moved = client.get("/old", "");
    assert_eq!((moved.status, moved.header("location")), (301, Some("/q")));
}

#[test]
fn honours_connection_close_and_http_1_0() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.0\r\n\r\n");
    let answer = client.answer(false).unwrap();
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(client.drain(), (Vec::new(), false));

    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(client.answer(false).unwrap().header("connection"), Some("keep-alive"));
    assert_eq!(client.get("/f", "Connection: close\r\n").header("connection"), Some("close"));
    assert_eq!(client.drain(), (Vec::new(), false));
}

#[test]
fn answers_garbage_with_400_and_closes() {
    let server = alphabet_server(alphabet());
    let mut client = Client::connect(&server);
    client.send("BLAH\r\n\r\n");
    let answer = client.answer(false).unwrap();
    assert_eq!((answer.status, answer.header("connection")), (400, Some("close")));
    assert_eq!(client.drain(), (Vec::new(), false));
}

#[test]
fn delay_holds_the_answer_back() {
    let server = alphabet_server(alphabet().with(Fault::Delay(Duration::from_millis(100))));
    let start = Instant::now();
    assert_eq!(Client::connect(&server).get("/f", "").text(), ALPHABET);
    assert!(start.elapsed() >= Duration::from_millis(100));
}

#[test]
fn trickle_sends_the_body_slowly_in_pieces() {
    let pause = Duration::from_millis(20);
    let server = alphabet_server(alphabet().with(Fault::Trickle { chunk: 10, pause }));
    let start = Instant::now();
    assert_eq!(Client::connect(&server).get("/f", "").text(), ALPHABET);
    assert!(start.elapsed() >= pause * 2);
}

#[test]
fn reset_after_cuts_the_body_short() {
    let server = alphabet_server(alphabet().with(Fault::ResetAfter(5)));
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.1\r\n\r\n");
    let head = client.head().unwrap();
    assert_eq!(head.header("content-length"), Some("26"));
    let (body, error) = client.drain();
    assert_eq!(body, b"abcde");
    assert!(error, "a reset, not a clean close");
    testkit::eventually("the reset request to finish", || server.requests()[0].finished.is_some());
}

#[test]
fn reset_times_resets_the_first_requests_across_connections() {
    let server = alphabet_server(alphabet().with(Fault::ResetTimes(2)));
    for _ in 0..2 {
        let mut client = Client::connect(&server);
        client.send("GET /f HTTP/1.1\r\n\r\n");
        let (bytes, error) = client.drain();
        assert!(bytes.is_empty());
        assert!(error, "a reset, not a clean close");
    }
    assert_eq!(Client::connect(&server).get("/f", "").text(), ALPHABET);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0, 200]);
}

#[test]
fn fail_times_fails_the_first_requests_then_recovers() {
    let server = alphabet_server(alphabet().with(Fault::FailTimes(2, 503)));
    let mut first = Client::connect(&server);
    assert_eq!(first.get("/f", "").status, 503);
    assert_eq!(Client::connect(&server).get("/f", "").status, 503);
    assert_eq!(first.get("/f", "").status, 200);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[test]
fn stall_sends_part_of_the_body_and_then_nothing() {
    let server = alphabet_server(alphabet().with(Fault::Stall(4)));
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.1\r\n\r\n");
    client.head().unwrap();
    assert_eq!(client.take(4).unwrap(), b"abcd");
    client.stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let err = client.fill().unwrap_err();
    assert!(matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut), "{err}");
    assert!(server.requests()[0].finished.is_none());
}

#[test]
fn never_ends_keeps_sending() {
    let server = alphabet_server(alphabet().with(Fault::NeverEnds));
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.1\r\n\r\n");
    let head = client.head().unwrap();
    let announced: usize = head.header("content-length").unwrap().parse().unwrap();
    let body = client.take(3 * ALPHABET.len()).unwrap();
    assert!(announced > body.len());
    assert_eq!(body, ALPHABET.repeat(3).as_bytes());
}

#[test]
fn chunked_splits_the_body_with_an_extension_and_a_trailer() {
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let server = alphabet_server(Route::ok("application/octet-stream", body.clone()).with(Fault::Chunked));
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.1\r\n\r\n");
    let head = client.head().unwrap();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.header("content-length"), None);
    // Read the raw chunked body by hand to see the extension and the trailer.
    let mut decoded = Vec::new();
    let mut sizes = Vec::new();
    let mut extensions = 0;
    loop {
        let line = client.line().unwrap();
        extensions += usize::from(line.contains(';'));
        let size = usize::from_str_radix(line.split(';').next().unwrap(), 16).unwrap();
        if size == 0 {
            break;
        }
        sizes.push(size);
        decoded.extend(client.take(size).unwrap());
        client.take(2).unwrap();
    }
    assert_eq!(client.line().unwrap(), "X-Testkit-Trailer: end");
    assert_eq!(client.line().unwrap(), "");
    assert_eq!(decoded, body);
    assert_eq!(extensions, 1);
    assert!(sizes.len() > 3 && sizes.contains(&1), "{sizes:?}");
    // A HEAD says chunked but sends no chunk at all.
    client.send("HEAD /f HTTP/1.1\r\n\r\n");
    assert_eq!(client.answer(true).unwrap().header("transfer-encoding"), Some("chunked"));
    // The connection stays usable.
    assert_eq!(client.get("/", "").status, 200);
}

#[test]
fn no_content_length_closes_after_the_body() {
    let server = alphabet_server(alphabet().with(Fault::NoContentLength));
    let mut client = Client::connect(&server);
    let answer = client.get("/f", "");
    assert_eq!(answer.header("content-length"), None);
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(answer.text(), ALPHABET);
}

#[test]
fn ignore_range_answers_200() {
    let server = alphabet_server(alphabet().with(Fault::IgnoreRange));
    let answer = Client::connect(&server).get("/f", "Range: bytes=3-5\r\n");
    assert_eq!((answer.status, answer.text().as_str()), (200, ALPHABET));
    assert_eq!(answer.header("accept-ranges"), None, "a server without ranges does not offer them");
    assert!(answer.header("etag").is_some());
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 249) as u8).collect();
    server.set_route("/f", Route::ok("application/octet-stream", big.clone()).with(Fault::IgnoreRange));
    let mut client = Client::connect(&server);
    for _ in 0..2 {
        let answer = client.get("/f", "Range: bytes=16384-32767\r\n");
        assert_eq!(answer.status, 200);
        assert!(answer.body == big);
    }
}

#[test]
fn wrong_content_range_lies_consistently() {
    let server = alphabet_server(alphabet().with(Fault::WrongContentRange));
    let answer = Client::connect(&server).get("/f", "Range: bytes=3-5\r\n");
    assert_eq!(answer.status, 206);
    assert_eq!(answer.header("content-range"), Some("bytes 4-5/26"));
    assert_eq!(answer.text(), "ef");
}

#[test]
fn counts_concurrent_slow_requests() {
    const N: usize = 4;
    let server = alphabet_server(alphabet().with(Fault::Delay(Duration::from_millis(400))));
    let mut clients: Vec<Client> = (0..N).map(|_| Client::connect(&server)).collect();
    for client in &mut clients {
        client.send("GET /f HTTP/1.1\r\n\r\n");
    }
    for client in &mut clients {
        assert_eq!(client.answer(false).unwrap().status, 200);
    }
    assert_eq!(server.max_in_flight(), N);
    assert_eq!(server.connections(), N as u64);
}

#[test]
fn counts_stalled_requests_as_in_flight() {
    let server = alphabet_server(alphabet().with(Fault::Stall(0)));
    let mut clients: Vec<Client> = (0..3).map(|_| Client::connect(&server)).collect();
    for client in &mut clients {
        client.send("GET /f HTTP/1.1\r\n\r\n");
        client.head().unwrap();
    }
    assert_eq!(server.max_in_flight(), 3);
    drop(clients);
    testkit::eventually("the stalled requests to finish", || {
        server.requests().iter().all(|r| r.finished.is_some())
    });
    let mut client = Client::connect(&server);
    assert_eq!(client.get("/", "").status, 200);
    assert_eq!(server.max_in_flight(), 3);
}

#[test]
fn drop_closes_held_connections_promptly() {
    let site = Site::new()
        .route("/stall", alphabet().with(Fault::Stall(2)))
        .route("/never", alphabet().with(Fault::NeverEnds))
        .route("/slow", alphabet().with(Fault::Delay(Duration::from_secs(60))));
    let server = WebServer::start(site);
    let mut clients = Vec::new();
    for target in ["/stall", "/never", "/slow"] {
        let mut client = Client::connect(&server);
        client.send(&format!("GET {target} HTTP/1.1\r\n\r\n"));
        clients.push(client);
    }
    let idle = Client::connect(&server);
    testkit::eventually("three requests", || server.requests().len() == 3);
    let start = Instant::now();
    drop(server);
    assert!(start.elapsed() < Duration::from_secs(2), "drop took {:?}", start.elapsed());
    for mut client in clients.into_iter().chain([idle]) {
        client.drain();
    }
}

#[test]
fn survives_a_client_that_leaves_mid_answer() {
    let big: Vec<u8> = vec![7; 8 << 20];
    let server = alphabet_server(Route::ok("application/octet-stream", big));
    for _ in 0..3 {
        let mut client = Client::connect(&server);
        client.send("GET /f HTTP/1.1\r\n\r\n");
        client.head().unwrap();
        client.take(1000).unwrap();
    }
    let mut client = Client::connect(&server);
    let answer = client.get("/f", "");
    assert_eq!(answer.body.len(), 8 << 20);
    assert_eq!(client.get("/", "").status, 200);
}

#[test]
fn serves_many_connections_at_once() {
    let server = alphabet_server(alphabet());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let addr = server.addr();
            thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                let mut client = Client { stream, buf: Vec::new() };
                for _ in 0..50 {
                    assert_eq!(client.get("/f", "").body.len(), 26);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(server.requests().len(), 400);
    assert!(server.max_in_flight() >= 1 && server.max_in_flight() <= 8);
}

#[test]
fn streams_a_large_body_and_its_ranges() {
    const SIZE: usize = 64 << 20;
    let body: Vec<u8> = (0..SIZE).map(|i| (i % 253) as u8).collect();
    let server = alphabet_server(Route::ok("application/octet-stream", body.clone()));
    let mut client = Client::connect(&server);
    let start = Instant::now();
    let whole = client.get("/f", "");
    let took = start.elapsed();
    assert!(whole.body == body);
    let half = SIZE / 2;
    let part = client.get("/f", &format!("Range: bytes={half}-\r\n"));
    assert_eq!(part.status, 206);
    assert!(part.body[..] == body[half..]);
    eprintln!("64 MiB in {took:?}");
}

#[test]
fn counted_faults_apply_in_order() {
    let server = alphabet_server(alphabet().with(Fault::ResetTimes(1)).with(Fault::FailTimes(1, 500)));
    let mut client = Client::connect(&server);
    client.send("GET /f HTTP/1.1\r\n\r\n");
    assert!(client.drain().0.is_empty());
    let mut client = Client::connect(&server);
    assert_eq!(client.get("/f", "").status, 500);
    assert_eq!(client.get("/f", "").status, 200);
    assert_eq!(client.get("/f", "").status, 200);
}

#[test]
fn set_route_restarts_the_fault_counts() {
    let server = alphabet_server(alphabet().with(Fault::FailTimes(1, 503)));
    let mut client = Client::connect(&server);
    assert_eq!(client.get("/f", "").status, 503);
    assert_eq!(client.get("/f", "").status, 200);
    server.set_route("/f", alphabet().with(Fault::FailTimes(1, 429)));
    assert_eq!(client.get("/f", "").status, 429);
    assert_eq!(client.get("/f", "").status, 200);
}

#[test]
fn cuts_only_bodies_longer_than_the_cut() {
    for fault in [Fault::Stall(5), Fault::ResetAfter(5), Fault::NeverEnds] {
        let server = alphabet_server(alphabet().with(fault.clone()));
        let mut client = Client::connect(&server);
        client.send("HEAD /f HTTP/1.1\r\n\r\n");
        assert_eq!(client.answer(true).unwrap().status, 200, "{fault:?}");
        if fault != Fault::NeverEnds {
            assert_eq!(client.get("/f", "Range: bytes=-5\r\n").text(), "vwxyz", "{fault:?}");
        }
        assert_eq!(client.get("/", "").status, 200, "{fault:?}: the connection carries on");
        assert_eq!(server.connections(), 1);
    }
}
