//! Stage 1: HTTP/1.1 over a TCP stream. The sans-IO core (writing a request, parsing a response
//! head, decoding a body from any split of its bytes) and the async client against a fixture
//! server that misbehaves on purpose: chunked and close-delimited bodies, keep-alive, resets,
//! stalls, slow heads, endless bodies, redirect chains and loops.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{TEST_DEADLINE, client_config, url};
use crawler::http::{MAX_HEAD_BYTES, encode_request};
use crawler::{BodyDecoder, BodyKind, Client, ClientConfig, HttpError, ResponseHead};
use proptest::prelude::*;
use testkit::test;
use testkit::web::{Fault, Route, Site, WebServer};

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\nX-Empty:\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\nhello";

/// Decodes `input` as one body of `kind` fed in one piece; the body and the bytes used.
fn decode_whole(kind: BodyKind, input: &[u8]) -> Result<(Vec<u8>, usize, bool), HttpError> {
    let mut decoder = BodyDecoder::new(kind);
    let mut out = Vec::new();
    let used = decoder.decode(input, &mut out)?;
    Ok((out, used, decoder.is_done()))
}

/// Decodes `input` fed in pieces cut at `cuts`; the body, whether it is done, and how many bytes
/// were used in all.
fn decode_split(kind: BodyKind, input: &[u8], cuts: &[usize]) -> Result<(Vec<u8>, bool, usize), HttpError> {
    let mut decoder = BodyDecoder::new(kind);
    let mut out = Vec::new();
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    bounds.push(input.len());
    bounds.sort_unstable();
    let (mut from, mut used) = (0, 0);
    for to in bounds {
        used += decoder.decode(&input[from..to], &mut out)?;
        from = to;
        if decoder.is_done() {
            break;
        }
    }
    Ok((out, decoder.is_done(), used))
}

/// A chunked encoding of `body` in chunks of the given sizes, with an extension on the first
/// chunk and a trailer.
fn chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut first = true;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let size = size.clamp(1, rest.len());
        let ext = if first { ";name=\"quoted;value\"" } else { "" };
        out.extend_from_slice(format!("{size:X}{ext}\r\n").as_bytes());
        out.extend_from_slice(&rest[..size]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[size..];
        first = false;
    }
    out.extend_from_slice(b"0\r\nX-Checksum: 42\r\n\r\n");
    out
}

#[test]
fn writes_the_request_line_and_the_host_header() {
    let bytes =
        encode_request("GET", &url("http://example.com:8080/a/b?x=1&y=2#frag"), &[("User-Agent", "t/1")]);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t/1\r\n\r\n",
        "the target is path and query (never the fragment); Host carries a non-default port"
    );
    let bytes = encode_request("HEAD", &url("http://example.com"), &[]);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "an empty path is requested as /, and port 80 is not written"
    );
}

#[test]
fn parses_a_complete_head_and_says_where_the_body_starts() {
    let (head, len) = ResponseHead::parse(HEAD).unwrap().expect("a complete head");
    assert_eq!(&HEAD[len..], b"hello", "the length covers the head and its empty line");
    assert_eq!(
        (head.minor_version, head.status, head.reason.as_str()),
        (1, 200, "OK"),
        "(minor version, status, reason) of HEAD"
    );
    assert_eq!(head.header("content-type"), Some("text/html; charset=utf-8"), "names match in any case");
    assert_eq!(head.header("X-EMPTY"), Some(""), "the value of X-Empty, a header with an empty value");
    assert_eq!(
        head.headers_named("Set-Cookie").collect::<Vec<_>>(),
        ["a=1", "b=2"],
        "repeated headers are kept"
    );
    assert_eq!(
        head.body_kind(false).unwrap(),
        BodyKind::Length(5),
        "the body kind of HEAD (Content-Length: 5)"
    );
    assert!(head.keep_alive(), "keep_alive() of an HTTP/1.1 head without Connection: close");

    let (head, _) = ResponseHead::parse(b"HTTP/1.0 404 Not Found\r\nServer:  x  \r\n\r\n").unwrap().unwrap();
    assert_eq!(
        (head.minor_version, head.status, head.reason.as_str()),
        (0, 404, "Not Found"),
        "(minor version, status, reason) of an HTTP/1.0 404"
    );
    assert_eq!(head.header("server"), Some("x"), "whitespace around a value is not part of it");
    assert!(!head.keep_alive(), "HTTP/1.0 closes unless it says keep-alive");
    let (head, _) = ResponseHead::parse(b"HTTP/1.1 204\r\n\r\n").unwrap().unwrap();
    assert_eq!((head.status, head.reason.as_str()), (204, ""), "the reason phrase may be missing");
}

#[test]
fn an_incomplete_head_is_none_at_every_length() {
    for end in 0..HEAD.len() - 5 {
        assert!(
            ResponseHead::parse(&HEAD[..end]).unwrap().is_none(),
            "the first {end} bytes are not a complete head: \"{}\"",
            HEAD[..end].escape_ascii()
        );
    }
}

#[test]
fn accepts_bare_newlines_and_folded_headers() {
    let input = b"HTTP/1.1 200 OK\nA: 1\nLong: first\r\n  second\n\nBODY";
    let (head, len) = ResponseHead::parse(input).unwrap().unwrap();
    assert_eq!(&input[len..], b"BODY", "what follows the head of \"{}\"", input.escape_ascii());
    assert_eq!(head.header("a"), Some("1"), "header A of a head with bare newlines");
    assert_eq!(head.header("long"), Some("first second"), "a folded line continues the header");
}

#[test]
fn rejects_malformed_heads() {
    let bad: [&[u8]; 9] = [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1200 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
    ];
    for head in bad {
        assert!(ResponseHead::parse(head).is_err(), "accepted \"{}\"", head.escape_ascii());
    }
    let huge = [b"HTTP/1.1 200 OK\r\n".as_slice(), &b"X: y\r\n".repeat(MAX_HEAD_BYTES / 4)].concat();
    assert!(
        matches!(ResponseHead::parse(&huge), Err(HttpError::HeadTooLarge { .. })),
        "a head that grows past MAX_HEAD_BYTES is an error even before it ends"
    );
    // A complete head of MAX_HEAD_BYTES bytes, blank line included, is the largest allowed.
    let head_of = |len: usize| {
        let start = "HTTP/1.1 200 OK\r\nX: ";
        format!("{start}{}\r\n\r\n", "y".repeat(len - start.len() - 4))
    };
    let largest = head_of(MAX_HEAD_BYTES);
    let parsed = ResponseHead::parse(largest.as_bytes());
    assert!(matches!(parsed, Ok(Some((_, len))) if len == MAX_HEAD_BYTES), "a head of MAX_HEAD_BYTES bytes");
    for len in [MAX_HEAD_BYTES + 1, MAX_HEAD_BYTES + 1_000] {
        let parsed = ResponseHead::parse(head_of(len).as_bytes());
        assert!(matches!(parsed, Err(HttpError::HeadTooLarge { .. })), "a complete head of {len} bytes");
    }
    let unfinished = &largest.as_bytes()[..MAX_HEAD_BYTES - 1];
    assert!(matches!(ResponseHead::parse(unfinished), Ok(None)), "an unfinished head just under the limit");
}

#[test]
fn body_framing_follows_rfc_9112() {
    let kind = |head: &str, head_request: bool| {
        let (head, _) = ResponseHead::parse(head.as_bytes()).unwrap().unwrap();
        head.body_kind(head_request)
    };
    let cases: [(&str, bool, BodyKind); 11] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, BodyKind::Empty),
        ("HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\n", false, BodyKind::Length(5)),
        ("HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n", false, BodyKind::Empty),
        ("HTTP/1.1 204 No Content\r\n\r\n", false, BodyKind::Empty),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, BodyKind::Empty),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n",
            false,
            BodyKind::Chunked,
        ),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", false, BodyKind::Chunked),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, BodyKind::Close),
        ("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", false, BodyKind::Length(7)),
        ("HTTP/1.1 200 OK\r\n\r\n", false, BodyKind::Close),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, BodyKind::Length(0)),
    ];
    for (head, head_request, expected) in cases {
        assert_eq!(kind(head, head_request).unwrap(), expected, "{head:?} (HEAD request: {head_request})");
    }
    for head in [
        "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    ] {
        assert!(
            matches!(kind(head, false), Err(HttpError::BadContentLength { .. })),
            "{head:?} must be a BadContentLength error"
        );
    }
    let keep = |head: &str| ResponseHead::parse(head.as_bytes()).unwrap().unwrap().0.keep_alive();
    for (head, alive) in [
        ("HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\n\r\n", false),
        ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", true),
        ("HTTP/1.0 200 OK\r\n\r\n", false),
        ("HTTP/1.0 200\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\n\r\n", true),
    ] {
        assert_eq!(keep(head), alive, "keep_alive() of {head:?}");
    }
}

#[test]
fn decodes_a_length_body_and_leaves_what_follows() {
    let (body, used, done) = decode_whole(BodyKind::Length(5), b"helloHTTP/1.1 200 OK").unwrap();
    assert_eq!((body.as_slice(), used, done), (&b"hello"[..], 5, true), "the next response is not body");
    let (body, used, done) = decode_whole(BodyKind::Length(5), b"hel").unwrap();
    assert_eq!(
        (body.as_slice(), used, done),
        (&b"hel"[..], 3, false),
        "(body, bytes used, done) of a 5-byte body after 3 bytes"
    );
    let (body, _, done) = decode_whole(BodyKind::Empty, b"").unwrap();
    assert!(body.is_empty() && done, "an empty body is done before any byte");
}

#[test]
fn decodes_chunks_with_extensions_and_trailers() {
    let input = b"4;ext=1;q=\"a;b\"\r\nWiki\r\n5\r\npedia\r\nE \r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX: y\r\n\r\nNEXT";
    let mut decoder = BodyDecoder::new(BodyKind::Chunked);
    let mut out = Vec::new();
    let used = decoder.decode(input, &mut out).unwrap();
    assert_eq!(
        out.escape_ascii().to_string(),
        "Wikipedia in\\r\\n\\r\\nchunks.",
        "the body of chunks with extensions and trailers"
    );
    assert!(decoder.is_done(), "is_done() after the last chunk and the trailers");
    assert_eq!(&input[used..], b"NEXT", "decoding stops at the end of the body");
    assert_eq!(
        decoder.trailers(),
        [("Expires".to_owned(), "never".to_owned()), ("X".to_owned(), "y".to_owned())],
        "the trailer fields are kept"
    );
    // A framing line may be up to 8 KiB long: here 4 KiB of extensions.
    let long = format!("3;{}\r\nabc\r\n0\r\n\r\n", "x".repeat(4_096));
    let (body, _, done) = decode_whole(BodyKind::Chunked, long.as_bytes()).unwrap();
    assert_eq!((body.as_slice(), done), (&b"abc"[..], true), "a chunk with 4 KiB of extensions");
    let (body, _, done) = decode_whole(BodyKind::Chunked, b"a\r\n0123456789\r\n0\r\n\r\n").unwrap();
    assert_eq!((body.as_slice(), done), (&b"0123456789"[..], true), "sizes are hexadecimal");
}

#[test]
fn rejects_broken_chunked_framing() {
    let bad: [&[u8]; 6] = [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"3x\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabcX\r\n0\r\n\r\n",
        b"\r\nabc\r\n0\r\n\r\n",
        b"fffffffffffffffffffff\r\n",
        b"-3\r\nabc\r\n0\r\n\r\n",
    ];
    for input in bad {
        assert!(
            matches!(decode_whole(BodyKind::Chunked, input), Err(HttpError::BadChunk { .. })),
            "accepted \"{}\"",
            input.escape_ascii()
        );
    }
    // A framing line over 8 KiB, whole or in pieces, and a trailer that never ends.
    let long = format!("3;{}\r\nabc\r\n0\r\n\r\n", "x".repeat(20_000));
    let whole = decode_whole(BodyKind::Chunked, long.as_bytes());
    assert!(matches!(whole, Err(HttpError::BadChunk { .. })), "a 20 KB chunk-size line: {whole:?}");
    let split = decode_split(BodyKind::Chunked, long.as_bytes(), &[5_000, 10_000, 15_000]);
    assert!(matches!(split, Err(HttpError::BadChunk { .. })), "the same line in four pieces: {split:?}");
    let trailer = format!("0\r\nX-Long: {}", "y".repeat(20_000));
    let endless = decode_whole(BodyKind::Chunked, trailer.as_bytes());
    assert!(matches!(endless, Err(HttpError::BadChunk { .. })), "a 20 KB trailer line: {endless:?}");
}

#[test]
fn only_a_close_delimited_body_may_end_with_the_connection() {
    let mut decoder = BodyDecoder::new(BodyKind::Close);
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode(b"all of it", &mut out).unwrap(),
        9,
        "bytes used of \"all of it\", close-delimited"
    );
    assert!(!decoder.is_done(), "a close-delimited body is not done until the connection ends");
    assert!(decoder.finish(), "the end of the connection completes it");
    assert_eq!(out, b"all of it", "the close-delimited body, \"{}\"", out.escape_ascii());
    for kind in [BodyKind::Length(10), BodyKind::Chunked] {
        let mut decoder = BodyDecoder::new(kind);
        decoder.decode(b"3\r\nabc", &mut Vec::new()).unwrap();
        assert!(!decoder.finish(), "{kind:?}: a body cut short by the end of the connection is incomplete");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn no_bytes_make_the_head_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ResponseHead::parse(&bytes);
        let mut with_head = b"HTTP/1.1 200 OK\r\n".to_vec();
        with_head.extend_from_slice(&bytes);
        if let Ok(Some((head, len))) = ResponseHead::parse(&with_head) {
            prop_assert!(len <= with_head.len(), "head length {} of {} bytes", len, with_head.len());
            let _ = head.body_kind(false);
        }
    }

    #[test]
    fn no_bytes_make_the_body_decoder_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        cut in 0usize..300,
        length in 0u64..400,
    ) {
        for kind in [BodyKind::Chunked, BodyKind::Length(length), BodyKind::Close] {
            let mut decoder = BodyDecoder::new(kind);
            let mut out = Vec::new();
            let cut = cut.min(bytes.len());
            if let Ok(used) = decoder.decode(&bytes[..cut], &mut out) {
                prop_assert!(used <= cut, "{:?} used {} of {} bytes", kind, used, cut);
                let _ = decoder.decode(&bytes[cut..], &mut out);
            }
            let _ = decoder.finish();
        }
    }

    #[test]
    fn any_split_of_a_chunked_body_decodes_the_same(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        sizes in proptest::collection::vec(1usize..80, 1..6),
        cuts in proptest::collection::vec(0usize..600, 0..8),
    ) {
        let mut input = chunked(&body, &sizes);
        let end = input.len();
        input.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let (whole, used, done) = decode_whole(BodyKind::Chunked, &input).unwrap();
        prop_assert_eq!(&whole, &body, "the body decoded whole, in chunks of {:?}", sizes);
        prop_assert!(done, "the body decoded whole is done");
        prop_assert_eq!(used, end, "bytes used decoding the body whole");
        let (split, done, used) = decode_split(BodyKind::Chunked, &input, &cuts).unwrap();
        prop_assert_eq!(split, body, "the body decoded in pieces cut at {:?}", cuts);
        prop_assert!(done, "the body decoded in pieces cut at {:?} is done", cuts);
        prop_assert_eq!(used, end, "the bytes after the body are never taken");
    }

    #[test]
    fn a_head_parses_the_same_however_it_arrives(cut in 0usize..HEAD.len()) {
        prop_assume!(cut < HEAD.len() - 5);
        prop_assert!(ResponseHead::parse(&HEAD[..cut]).unwrap().is_none(), "the head parsed from its first {} bytes", cut);
        let (head, len) = ResponseHead::parse(HEAD).unwrap().unwrap();
        prop_assert_eq!(len, HEAD.len() - 5, "the length of the whole head");
        prop_assert_eq!(head.status, 200, "the status of the whole head");
    }
}

// The client against the fixture server.

fn server(site: Site) -> WebServer {
    WebServer::start(site)
}

/// Runs `future` with the test deadline: a client that hangs fails the test instead of hanging it.
async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_DEADLINE, future).await.expect("the client hung past the test deadline")
}

#[test(tokio)]
async fn fetches_a_page_and_says_who_is_asking() {
    let server = server(Site::new().page("/hello", "<p>hello</p>"));
    let client = Client::new(ClientConfig { user_agent: "stage1-test/1.0".into(), ..client_config() });
    let response = bounded(client.get(&url(&server.url("/hello?x=1")))).await;
    let response = response.unwrap_or_else(|err| panic!("GET failed: {err}"));
    assert_eq!(response.status(), 200, "the status of GET /hello?x=1");
    assert_eq!(
        response.body,
        b"<p>hello</p>",
        "the body of GET /hello?x=1, \"{}\"",
        response.body.escape_ascii()
    );
    assert!(response.is_html(), "Content-Type {:?}", response.head.header("content-type"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "requests the server saw for one GET: {requests:?}");
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("GET", "/hello?x=1"),
        "the method and target the server saw"
    );
    assert_eq!(request.header("host"), Some(server.addr().to_string().as_str()), "Host is host:port");
    assert_eq!(request.header("user-agent"), Some("stage1-test/1.0"), "the User-Agent the server saw");
}

#[test(tokio)]
async fn reads_chunked_and_close_delimited_bodies() {
    let body = "<p>".to_owned() + &"chunky ".repeat(3000) + "</p>";
    let site = Site::new()
        .route("/chunked", Route::html(body.clone()).with(Fault::Chunked))
        .route("/close", Route::html(body.clone()).with(Fault::NoContentLength))
        .route(
            "/slow",
            Route::html(body.clone()).with(Fault::Trickle { chunk: 1000, pause: Duration::from_millis(2) }),
        );
    let server = server(site);
    let client = Client::new(client_config());
    for path in ["/chunked", "/close", "/slow", "/chunked"] {
        let response = bounded(client.get(&url(&server.url(path)))).await;
        let response = response.unwrap_or_else(|err| panic!("GET {path} failed: {err}"));
        assert_eq!(response.status(), 200, "the status of GET {path}");
        assert_eq!(response.body.len(), body.len(), "the body length of GET {path}: the whole body");
        assert!(response.body == body.as_bytes(), "the body of GET {path}: the bytes served");
    }
}

#[test(tokio)]
async fn keeps_the_connection_alive_and_reuses_it() {
    let site = Site::new().page("/a", "a").route("/b", Route::html("b").with(Fault::Chunked)).page("/c", "c");
    let server = server(site);
    let client = Client::new(client_config());
    for path in ["/a", "/b", "/c", "/a", "/b"] {
        let response = bounded(client.get(&url(&server.url(path)))).await;
        assert_eq!(
            response.unwrap_or_else(|err| panic!("GET {path}: {err}")).status(),
            200,
            "the status of GET {path}"
        );
    }
    let connections: Vec<u64> = server.requests().iter().map(|r| r.connection).collect();
    assert_eq!(connections.len(), 5, "requests the server saw for five GETs");
    assert!(
        connections.iter().all(|&c| c == connections[0]),
        "five requests one after another should share one kept-alive connection, got connections {connections:?}"
    );
    assert_eq!(server.connections(), 1, "connections opened for five GETs one after another");

    // A close-delimited body ends the connection: the next request needs a new one.
    let server = WebServer::start(Site::new().route("/close", Route::html("x").with(Fault::NoContentLength)));
    for _ in 0..2 {
        bounded(client.get(&url(&server.url("/close")))).await.unwrap();
    }
    assert_eq!(server.connections(), 2, "a connection whose body ended with it cannot be reused");
}

#[test(tokio)]
async fn a_pooled_connection_that_died_is_retried_once_on_a_new_one() {
    let site = Site::new()
        .page("/first", "first")
        .route("/second", Route::html("second").with(Fault::ResetTimes(1)));
    let server = server(site);
    let client = Client::new(client_config());
    bounded(client.get(&url(&server.url("/first")))).await.unwrap();
    // The kept-alive connection is reset before any answer: the client cannot know whether the
    // server had closed it while idle, so it sends the request again on a fresh connection.
    let response = bounded(client.get(&url(&server.url("/second")))).await;
    let response = response.unwrap_or_else(|err| panic!("a dead pooled connection must be retried: {err}"));
    assert_eq!(response.body, b"second", "the body of GET /second, \"{}\"", response.body.escape_ascii());
    let second = server.requests_for("/second");
    assert_eq!(second.len(), 2, "exactly one retry");
    assert_ne!(second[0].connection, second[1].connection, "the retry is on a new connection");

    // On a fresh connection the same failure is an error: the client does not retry it by itself.
    let server = WebServer::start(Site::new().route("/reset", Route::html("x").with(Fault::ResetTimes(1))));
    let result = bounded(Client::new(client_config()).get(&url(&server.url("/reset")))).await;
    assert!(result.is_err(), "a reset on a new connection is an error");
    assert_eq!(server.requests_for("/reset").len(), 1, "requests for /reset, reset on a new connection");
}

#[test(tokio)]
async fn follows_redirect_chains_and_stops_loops() {
    let site = Site::new()
        .route("/start", Route::redirect(301, "/middle/one"))
        .route("/middle/one", Route::redirect(302, "../two?q=1"))
        .route("/two?q=1", Route::redirect(307, "three"))
        .route("/three", Route::redirect(308, "/end"))
        .route("/end", Route::redirect(303, "/final"))
        .page("/final", "<p>arrived</p>")
        .route("/loop-a", Route::redirect(302, "/loop-b"))
        .route("/loop-b", Route::redirect(302, "/loop-a"));
    let server = server(site);
    let client = Client::new(client_config());
    let response = bounded(client.get(&url(&server.url("/start")))).await;
    let response = response.unwrap_or_else(|err| panic!("the chain should be followed: {err}"));
    assert_eq!(response.status(), 200, "the status at the end of the redirect chain");
    assert_eq!(
        response.body,
        b"<p>arrived</p>",
        "the body at the end of the redirect chain, \"{}\"",
        response.body.escape_ascii()
    );
    assert_eq!(response.url.path(), "/final", "the response says where it came from");
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        ["/start", "/middle/one", "/two?q=1", "/three", "/end", "/final"],
        "the targets requested following the chain from /start"
    );

    let result = bounded(client.get(&url(&server.url("/loop-a")))).await;
    assert!(matches!(result, Err(HttpError::RedirectLoop { .. })), "a loop is an error: {result:?}");
    assert!(server.requests_for("/loop-a").len() <= 2, "a loop is noticed, not followed to the limit");

    let limited = Client::new(ClientConfig { max_redirects: 3, ..client_config() });
    let result = bounded(limited.get(&url(&server.url("/start")))).await;
    assert!(
        matches!(result, Err(HttpError::TooManyRedirects { .. })),
        "five redirects with a limit of 3: {result:?}"
    );
    let exactly = Client::new(ClientConfig { max_redirects: 5, ..client_config() });
    let result = bounded(exactly.get(&url(&server.url("/start")))).await;
    assert!(result.is_ok(), "five redirects with a limit of 5 are followed: {result:?}");
    let one_short = Client::new(ClientConfig { max_redirects: 4, ..client_config() });
    let result = bounded(one_short.get(&url(&server.url("/start")))).await;
    assert!(
        matches!(result, Err(HttpError::TooManyRedirects { .. })),
        "five redirects with a limit of 4: {result:?}"
    );
    let once = bounded(client.get_once(&url(&server.url("/start")))).await.unwrap();
    assert_eq!(
        (once.status(), once.head.header("location")),
        (301, Some("/middle/one")),
        "get_once does not follow"
    );
}

#[test(tokio)]
async fn a_reset_in_the_middle_of_a_body_is_an_error_not_a_hang() {
    let body = "x".repeat(10_000);
    let server = server(Site::new().route("/reset", Route::html(body).with(Fault::ResetAfter(1000))));
    let started = Instant::now();
    let result = bounded(Client::new(client_config()).get(&url(&server.url("/reset")))).await;
    assert!(result.is_err(), "a body cut short by a reset must not be returned as a response");
    assert!(started.elapsed() < Duration::from_secs(4), "it is noticed at once, not by a timeout");
}

#[test(tokio)]
async fn a_stalled_body_hits_the_body_timeout() {
    let server = server(Site::new().route("/stall", Route::html("y".repeat(10_000)).with(Fault::Stall(100))));
    let client = Client::new(ClientConfig { body_timeout: Duration::from_millis(300), ..client_config() });
    let started = Instant::now();
    let result = bounded(client.get(&url(&server.url("/stall")))).await;
    assert!(
        matches!(result, Err(HttpError::BodyTimeout { .. })),
        "GET of a stalled body with a 300 ms body timeout: {result:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "time to a 300 ms body timeout: {:?}",
        started.elapsed()
    );
}

#[test(tokio)]
async fn a_body_that_never_ends_hits_the_timeout_or_the_cap() {
    let server = server(Site::new().route("/endless", Route::html("z").with(Fault::NeverEnds)));
    let timed = Client::new(ClientConfig { body_timeout: Duration::from_millis(400), ..client_config() });
    let result = bounded(timed.get(&url(&server.url("/endless")))).await;
    assert!(
        matches!(result, Err(HttpError::BodyTimeout { .. } | HttpError::BodyTooLarge { .. })),
        "GET of an endless body with a 400 ms body timeout: {result:?}"
    );
    let capped =
        // 60 is no multiple of the 16 bytes the endless body comes in: the cap is passed, never met.
        Client::new(ClientConfig { max_body: 60, body_timeout: Duration::from_secs(30), ..client_config() });
    let started = Instant::now();
    let result = bounded(capped.get(&url(&server.url("/endless")))).await;
    assert!(
        matches!(result, Err(HttpError::BodyTooLarge { limit: 60, .. })),
        "GET of an endless body with a 60-byte cap: {result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(15), "the cap stops it before the body timeout");
}

#[test(tokio)]
async fn a_body_over_the_cap_is_an_error() {
    let server = server(
        Site::new()
            .page("/big", "b".repeat(5000))
            .route("/big-chunked", Route::html("c".repeat(5000)).with(Fault::Chunked))
            .route("/big-close", Route::html("d".repeat(5000)).with(Fault::NoContentLength)),
    );
    let client = Client::new(ClientConfig { max_body: 4096, ..client_config() });
    for path in ["/big", "/big-chunked"] {
        let result = bounded(client.get(&url(&server.url(path)))).await;
        assert!(
            matches!(result, Err(HttpError::BodyTooLarge { limit: 4096, .. })),
            "GET {path} of 5000 bytes with a 4096-byte cap: {result:?}"
        );
    }
    let fits = Client::new(ClientConfig { max_body: 5000, ..client_config() });
    for path in ["/big", "/big-chunked", "/big-close"] {
        let result = bounded(fits.get(&url(&server.url(path)))).await;
        let got = result.unwrap_or_else(|err| panic!("GET {path} of 5000 bytes with a 5000-byte cap: {err}"));
        assert_eq!(got.body.len(), 5000, "GET {path}: exactly the cap fits");
    }
}

#[test(tokio)]
async fn a_slow_head_hits_the_header_timeout() {
    let server =
        server(Site::new().route("/slow", Route::html("late").with(Fault::Delay(Duration::from_secs(3)))));
    let client = Client::new(ClientConfig { header_timeout: Duration::from_millis(300), ..client_config() });
    let started = Instant::now();
    let result = bounded(client.get(&url(&server.url("/slow")))).await;
    assert!(
        matches!(result, Err(HttpError::HeaderTimeout { .. })),
        "GET of a head 3 s late with a 300 ms header timeout: {result:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(2500),
        "time to a 300 ms header timeout: {took:?}"
    );
}

#[test(tokio)]
async fn refuses_https_and_reports_unreachable_hosts() {
    let client = Client::new(client_config());
    let result = bounded(client.get(&url("https://127.0.0.1:9/"))).await;
    let Err(err @ HttpError::UnsupportedScheme { .. }) = result else {
        panic!("https must be refused: {result:?}")
    };
    assert!(err.to_string().contains("TLS"), "the message says why: {err}");

    // A port nobody listens on: bind one, then free it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let result = bounded(client.get(&url(&format!("http://127.0.0.1:{port}/")))).await;
    let Err(err @ HttpError::Connect { .. }) = result else { panic!("expected a connect error: {result:?}") };
    assert!(err.to_string().contains(&port.to_string()), "the message names the address: {err}");
}

/// The answers of a scripted server: for each connection it accepts, in order, one answer per request
/// read on it; each answer is written in pieces, 50 ms apart, so that a piece arrives in a read of
/// its own. A connection is closed (cleanly) after its last answer.
type Script = Vec<Vec<Vec<&'static [u8]>>>;

/// A server on loopback that plays `script`; returns its address and how many connections it
/// accepted so far. It stops accepting once the script is played.
fn scripted(script: Script) -> (SocketAddr, Arc<AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for answers in script {
            let Ok((mut stream, _)) = listener.accept() else { return };
            count.fetch_add(1, Ordering::SeqCst);
            for pieces in answers {
                // A GET has no body: its request ends with the blank line.
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => return,
                    }
                }
                for (i, piece) in pieces.iter().enumerate() {
                    if i > 0 {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    if stream.write_all(piece).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (addr, accepted)
}

/// `GET path` from a scripted server at `addr`.
async fn get_from(client: &Client, addr: SocketAddr, path: &str) -> Result<Vec<u8>, HttpError> {
    bounded(client.get(&url(&format!("http://{addr}{path}")))).await.map(|response| response.body)
}

fn accepted(count: &AtomicUsize) -> usize {
    count.load(Ordering::SeqCst)
}

#[test(tokio)]
async fn an_interim_answer_is_skipped_and_a_body_cut_by_a_close_is_an_error() {
    let (addr, _) = scripted(vec![vec![vec![
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ]]]);
    let client = Client::new(client_config());
    let body = get_from(&client, addr, "/").await;
    assert_eq!(body.ok().as_deref(), Some(&b"ok"[..]), "the answer after a 100 Continue");

    // Ten bytes announced, four sent, then the connection closed: cut short, not complete.
    let (addr, _) = scripted(vec![vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"]]]);
    let result = get_from(&client, addr, "/").await;
    assert!(matches!(result, Err(HttpError::Truncated { .. })), "a body cut by a close: {result:?}");
}

#[test(tokio)]
async fn a_connection_is_reused_only_when_its_answer_ended_exactly() {
    let client = Client::new(ClientConfig { max_idle_per_host: 3, ..client_config() });
    assert_eq!(client.config().max_idle_per_host, 3, "config() is the config the client was made with");

    // A body that comes in two reads, and nothing after it: the connection carries the next request.
    let (addr, connections) = scripted(vec![vec![
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok", b"ok"],
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"],
    ]]);
    assert_eq!(get_from(&client, addr, "/1").await.ok().as_deref(), Some(&b"okok"[..]), "the first body");
    assert_eq!(client.idle_connections(), 1, "the connection waits in the pool");
    assert_eq!(get_from(&client, addr, "/2").await.ok().as_deref(), Some(&b"yes"[..]), "the second body");
    assert_eq!(accepted(&connections), 1, "connections for two answers that ended exactly");

    // Bytes after the body, in its last read: an answer to nothing, so the connection is dropped.
    let client = Client::new(client_config());
    let (addr, connections) = scripted(vec![
        vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok", b"okJUNK"]],
        vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"]],
    ]);
    assert_eq!(get_from(&client, addr, "/1").await.ok().as_deref(), Some(&b"okok"[..]), "the first body");
    assert_eq!(client.idle_connections(), 0, "a connection with bytes after the body is not kept");
    assert_eq!(get_from(&client, addr, "/2").await.ok().as_deref(), Some(&b"yes"[..]), "the second body");
    assert_eq!(accepted(&connections), 2, "connections when the first answer had bytes after its body");

    // Connection: close.
    let client = Client::new(client_config());
    let (addr, _) =
        scripted(vec![vec![vec![b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"]]]);
    assert_eq!(get_from(&client, addr, "/").await.ok().as_deref(), Some(&b"ok"[..]), "the body");
    assert_eq!(client.idle_connections(), 0, "a connection the server closes is not kept");
}

#[test(tokio)]
async fn a_pooled_connection_that_dies_in_the_middle_of_an_answer_is_not_retried() {
    // The request was read and partly answered: sending it again could do its work twice.
    let (addr, connections) = scripted(vec![
        vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"],
            vec![b"HTTP/1.1 200 OK\r\nContent-Le"],
        ],
        vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry"]],
    ]);
    let client = Client::new(client_config());
    assert_eq!(get_from(&client, addr, "/1").await.ok().as_deref(), Some(&b"first"[..]), "the first body");
    let result = get_from(&client, addr, "/2").await;
    assert!(result.is_err(), "a pooled connection that closed after part of a head: {result:?}");
    assert_eq!(accepted(&connections), 1, "no new connection to send the request again");
}

#[test(tokio)]
async fn the_pool_keeps_at_most_max_idle_per_host() {
    let server =
        server(Site::new().route("/", Route::html("x").with(Fault::Delay(Duration::from_millis(200)))));
    let client = Client::new(ClientConfig { max_idle_per_host: 2, ..client_config() });
    let target = url(&server.url("/"));
    // Four requests at once: none finds an idle connection, so four are opened.
    let (a, b, c, d) =
        tokio::join!(client.get(&target), client.get(&target), client.get(&target), client.get(&target));
    for result in [a, b, c, d] {
        result.unwrap_or_else(|err| panic!("GET / failed: {err}"));
    }
    assert_eq!(server.connections(), 4, "connections opened for four requests at once");
    assert_eq!(client.idle_connections(), 2, "connections kept idle with max_idle_per_host 2");
}
