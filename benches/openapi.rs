//! `openapi`: signed requests built per second, and answers decoded per second for a
//! large `ListRecentCallRecords` page (100 records, each with an agent and a recording,
//! every field of the model filled).
//!
//! A signed request is `Direct::prepare`: parameters flattened and placed, common
//! parameters added, sorted, percent-encoded twice, HMAC'd, the URL and body written;
//! exactly what a call sends (the timestamp and nonce are given, as `ccc api --dry-run`
//! gives them; making them is measured apart).
//!
//! Run: `cargo bench -p ccc-benches --bench openapi`

use std::hint::black_box;

use ccc_openapi::decode::{Body, Reply, decode};
use ccc_openapi::shape::{Shape, demo_shape};
use ccc_openapi::sign::{self, ParamStyle};
use ccc_openapi::transport::{Direct, Request, SignatureVersion};
use ccc_openapi::v2017::{
    ListRecentCallRecordsResponse, ListSkillGroupsOfUser, PickGlobalOutboundNumbers,
};
use ccc_openapi::v2020::MakeCall;
use ccc_openapi::{Credentials, Envelope};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;

#[global_allocator]
static GLOBAL: ccc_benches::CountingAllocator = ccc_benches::CountingAllocator;

const RECORD: &str =
    include_str!("../crates/ccc-openapi/tests/data/answers/2017-07-05/ListRecentCallRecords.json");
const TS: &str = "2024-01-02T03:04:05Z";
const NONCE: &str = "3f1a9c2e0b7d4e219a555c0d1e2f3a4b";

/// A page of `n` records: the sample's record repeated with distinct ids.
fn page(n: usize) -> Vec<u8> {
    let mut sample: Value = serde_json::from_str(RECORD).expect("sample");
    let record = sample["CallDetailRecords"]["List"]["CallDetailRecord"][0].clone();
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = record.clone();
            r["ContactId"] = Value::from(format!("job-65382141036850{i:04}"));
            r
        })
        .collect();
    sample["CallDetailRecords"]["List"]["CallDetailRecord"] = Value::Array(records);
    sample["CallDetailRecords"]["PageSize"] = Value::from(n);
    serde_json::to_vec(&sample).expect("page")
}

fn direct(signature: SignatureVersion) -> Direct {
    Direct::builder(Credentials::new(
        "LTAI5tExampleKeyId",
        "ExampleSecretOf30CharactersXX",
    ))
    .endpoint("http://127.0.0.1:9/")
    .style(ParamStyle::Tea)
    .signature(signature)
    .build()
    .expect("direct")
}

fn openapi(c: &mut Criterion) {
    let v2 = direct(SignatureVersion::V2);
    let v3 = direct(SignatureVersion::V3);
    let skills = Request::of(&ListSkillGroupsOfUser::new("ccc-test", "agent@ccc-test"));
    let pick = Request::of(&PickGlobalOutboundNumbers::new(
        "ccc-test",
        "13800000000",
        (1..=12).map(|i| format!("skg-{i}@ccc-test")),
    ));
    let call = Request::of(&MakeCall::new("ccc-test", "13800000000").user_id("agent@ccc-test"));
    let per_request = ccc_benches::allocations_of(|| {
        black_box(v2.prepare(&skills, TS, NONCE));
    });
    println!(
        "openapi: {per_request} heap allocations per signed V2 request (ListSkillGroupsOfUser)"
    );

    let mut group = c.benchmark_group("openapi_sign");
    group.throughput(Throughput::Elements(1));
    group.bench_function("v2_list_skill_groups", |b| {
        b.iter(|| {
            black_box(&v2)
                .prepare(black_box(&skills), TS, NONCE)
                .signature
                .len()
        });
    });
    group.bench_function("v2_pick_numbers_12_list_items", |b| {
        b.iter(|| {
            black_box(&v2)
                .prepare(black_box(&pick), TS, NONCE)
                .signature
                .len()
        });
    });
    group.bench_function("v3_make_call", |b| {
        b.iter(|| {
            black_box(&v3)
                .prepare(black_box(&call), TS, NONCE)
                .signature
                .len()
        });
    });
    group.bench_function("v2_with_fresh_timestamp_and_nonce", |b| {
        b.iter(|| {
            let nonce = sign::nonce().expect("random");
            black_box(&v2)
                .prepare(black_box(&skills), &sign::timestamp_now(), &nonce)
                .signature
                .len()
        });
    });
    group.finish();

    let body = page(100);
    let demo = serde_json::to_vec(&demo_shape(serde_json::from_slice(&body).expect("json")))
        .expect("demo");
    let mut group = c.benchmark_group("openapi_decode");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("list_recent_call_records_100", |b| {
        b.iter(|| {
            let reply = Reply::openapi(200, black_box(&body).clone());
            decode::<ListRecentCallRecordsResponse>("ListRecentCallRecords", reply)
                .map(|r| r.call_detail_records.map_or(0, |p| p.list.len()))
        });
    });
    group.throughput(Throughput::Bytes(demo.len() as u64));
    group.bench_function("list_recent_call_records_100_demo_shape", |b| {
        b.iter(|| {
            let reply = Reply {
                http_status: 200,
                body: Body::Bytes(black_box(&demo).clone()),
                shape: Shape::Demo,
            };
            decode::<ListRecentCallRecordsResponse>("ListRecentCallRecords", reply)
                .map(|r| r.call_detail_records.map_or(0, |p| p.list.len()))
        });
    });
    let snapshot =
        include_bytes!("../crates/ccc-openapi/tests/data/answers/2020-07-01/MakeCall.json");
    group.throughput(Throughput::Bytes(snapshot.len() as u64));
    group.bench_function("make_call_answer", |b| {
        b.iter(|| {
            serde_json::from_slice::<Envelope<ccc_core::model::AgentSnapshot>>(black_box(snapshot))
                .map(|r| r.data.is_some())
        });
    });
    group.finish();
    println!(
        "openapi: the ListRecentCallRecords page is {} bytes (demo shape {} bytes)",
        body.len(),
        demo.len()
    );
}

criterion_group!(benches, openapi);
criterion_main!(benches);
