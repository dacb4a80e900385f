//! `sip`: parse and serialize the benchmark INVITE and 200 OK (`../shared/bench/`), and,
//! in the same run, parse the same bytes with rsip 0.4 (another published Rust SIP
//! parser, the one rsipstack grew from) for a side-by-side ratio. It also counts the
//! heap allocations of one parse: the borrowing path makes one (the header list),
//! whatever the number of headers.
//!
//! Run: `cargo bench -p ccc-benches --bench sip`

use std::hint::black_box;

use ccc_sip::message::{Builder, HeaderName, StartLine, parse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: ccc_benches::CountingAllocator = ccc_benches::CountingAllocator;

const INVITE: &[u8] = include_bytes!("../crates/ccc-sip/tests/data/invite.sip");
const OK200: &[u8] = include_bytes!("../crates/ccc-sip/tests/data/ok200.sip");

/// The owned builder for the same message, as a user agent would hold it.
fn builder_of(bytes: &[u8]) -> Builder {
    let m = parse(bytes).expect("the bench message parses");
    let mut b = match m.start {
        StartLine::Request { method, uri } => Builder::request(method, uri),
        StartLine::Response { code, reason } => Builder::response(code, reason),
    };
    for h in &m.headers {
        b = match h.name {
            HeaderName::Known(k) => b.header(k, h.value),
            HeaderName::Other(name) => b.other_header(name, h.value),
        };
    }
    b
}

fn sip(c: &mut Criterion) {
    let ours = ccc_benches::allocations_of(|| drop(black_box(parse(black_box(INVITE)))));
    let theirs = ccc_benches::allocations_of(|| {
        drop(black_box(rsip::SipMessage::try_from(black_box(INVITE))));
    });
    let headers = parse(INVITE).map(|m| m.headers.len()).unwrap_or(0);
    println!(
        "sip: INVITE with {headers} headers: {ours} heap allocations per parse (rsip: {theirs})"
    );
    assert_eq!(
        ours, 1,
        "the borrowing parse allocates the header list only"
    );

    let mut group = c.benchmark_group("sip");
    for (name, bytes) in [("invite", INVITE), ("ok200", OK200)] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("parse_{name}"), |b| {
            b.iter(|| parse(black_box(bytes)).map(|m| m.headers.len()));
        });
        group.bench_function(format!("rsip_parse_{name}"), |b| {
            b.iter(|| rsip::SipMessage::try_from(black_box(bytes)).is_ok());
        });
    }
    let invite = builder_of(INVITE);
    group.throughput(Throughput::Bytes(INVITE.len() as u64));
    group.bench_function("serialize_invite", |b| {
        b.iter(|| black_box(&invite).build().map(|v| v.len()));
    });
    group.finish();
}

criterion_group!(benches, sip);
criterion_main!(benches);
