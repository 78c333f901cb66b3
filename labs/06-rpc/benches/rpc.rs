//! The protocol's costs: encoding and decoding frames, and one echo round trip on loopback over a
//! long connection and over a short one (a connection per call).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rpc::{Client, ClientConfig, Frame, FrameDecoder, Kind, Server, ServerConfig, Service, ShortClient};

fn codec(c: &mut Criterion) {
    let frame = Frame::request(42, "echo", vec![7; 64]);
    let mut stream = Vec::new();
    for id in 0..1000 {
        rpc::encode(&Frame { id, ..frame.clone() }, &mut stream).expect("a small frame encodes");
    }
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("encode_1000_frames_64B", |b| {
        let mut out = Vec::with_capacity(stream.len());
        b.iter(|| {
            out.clear();
            for id in 0..1000 {
                let frame = Frame {
                    kind: Kind::Response,
                    id,
                    method: String::new(),
                    deadline: None,
                    payload: vec![7; 64],
                };
                rpc::encode(black_box(&frame), &mut out).expect("a small frame encodes");
            }
            out.len()
        })
    });
    group.bench_function("decode_1000_frames_64B", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new(1 << 20);
            decoder.extend(black_box(&stream));
            let mut count = 0;
            while let Some(frame) = decoder.next_frame().expect("valid frames") {
                count += frame.payload.len();
            }
            count
        })
    });
    group.finish();
}

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    let mut service = Service::new();
    service.method("echo", |call| async move { Ok(call.payload) });
    runtime.spawn(Server::new(service, ServerConfig::default()).serve(listener, std::future::pending()));
    let client = runtime.block_on(Client::connect(addr, ClientConfig::default())).expect("the server is up");
    let short = ShortClient::new(addr, ClientConfig::default());
    let mut group = c.benchmark_group("echo_round_trip");
    group.throughput(Throughput::Elements(1));
    group.bench_function("long_connection", |b| {
        b.iter(|| runtime.block_on(client.call_raw("echo", vec![1; 16], None)).expect("an answer"))
    });
    group.bench_function("short_connection", |b| {
        b.iter(|| runtime.block_on(short.call_raw("echo", vec![1; 16])).expect("an answer"))
    });
    group.finish();
}

criterion_group!(benches, codec, round_trip);
criterion_main!(benches);
