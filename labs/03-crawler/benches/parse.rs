//! The sans-IO hot paths: parsing response heads, decoding chunked bodies, extracting the links of
//! a generated page, normalising URLs.

use std::hint::black_box;

use crawler::{BodyDecoder, BodyKind, ResponseHead, Url, extract_links};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use testkit::web::SiteSpec;

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 04:00:00 GMT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20480\r\nLast-Modified: Sun, 29 Nov 2026 12:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"6564a1b0-5000\"\r\nAccept-Ranges: bytes\r\n\r\n";

fn heads(c: &mut Criterion) {
    let mut group = c.benchmark_group("head");
    group.throughput(Throughput::Bytes(HEAD.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| ResponseHead::parse(black_box(HEAD)).map(|h| h.map(|(h, n)| (h.status, n))))
    });
    group.finish();
}

fn chunked(c: &mut Criterion) {
    let body: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let mut encoded = Vec::new();
    for chunk in body.chunks(4096) {
        encoded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        encoded.extend_from_slice(chunk);
        encoded.extend_from_slice(b"\r\n");
    }
    encoded.extend_from_slice(b"0\r\n\r\n");
    let mut group = c.benchmark_group("chunked");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    // Fed in 1,500-byte pieces, the size of one Ethernet frame's payload.
    group.bench_function("decode_256KiB_in_1500B_reads", |b| {
        let mut out = Vec::with_capacity(body.len());
        b.iter(|| {
            out.clear();
            let mut decoder = BodyDecoder::new(BodyKind::Chunked);
            for piece in encoded.chunks(1500) {
                decoder.decode(black_box(piece), &mut out).expect("valid chunked body");
            }
            assert!(decoder.is_done());
            out.len()
        })
    });
    group.finish();
}

fn links(c: &mut Criterion) {
    let site = SiteSpec { pages: 200, links_per_page: 40, page_bytes: 32 * 1024, seed: 1 }.generate();
    let (html, _) = &site.files["/"];
    let page = Url::parse("http://127.0.0.1:8080/").expect("a valid URL");
    let mut group = c.benchmark_group("links");
    group.throughput(Throughput::Bytes(html.len() as u64));
    group.bench_function("extract_32KiB_page", |b| b.iter(|| extract_links(black_box(html), &page).len()));
    group.finish();
}

fn urls(c: &mut Criterion) {
    let page = Url::parse("http://Example.COM:80/a/b/c/page.html?x=1").expect("a valid URL");
    let references =
        ["../d/./e.html", "/p/17.html#top", "g;x?y#s", "//Other.example/x/../y", "%7euser/", "."];
    let mut group = c.benchmark_group("url");
    group.throughput(Throughput::Elements(references.len() as u64));
    group.bench_function("join_and_normalize", |b| {
        b.iter(|| {
            references
                .iter()
                .filter_map(|r| page.join(black_box(r)).ok())
                .map(|u| u.normalize().path().len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, heads, chunked, links, urls);
criterion_main!(benches);
