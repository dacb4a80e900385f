//! Any bytes as the answer of any action, with any HTTP status, in either shape, through
//! the decoder a `Client` uses: a typed answer or a typed error, never a panic. A typed
//! answer written back must decode again to the same JSON.
#![no_main]

use ccc_openapi::decode::{Body, Reply};
use ccc_openapi::shape::Shape;
use ccc_openapi::models;
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 201, 400, 403, 404, 429, 500, 503];

fuzz_target!(|data: &[u8]| {
    let [pick, status, rest @ ..] = data else { return };
    let model = models::ALL[usize::from(*pick) % models::ALL.len()];
    let http_status = STATUSES[usize::from(*status) % STATUSES.len()];
    let shape = if status & 0x80 == 0 { Shape::OpenApi } else { Shape::Demo };
    let body = if status & 0x40 == 0 {
        Body::Bytes(rest.to_vec())
    } else {
        match serde_json::from_slice(rest) {
            Ok(value) => Body::Json(value),
            Err(_) => return,
        }
    };
    let reply = Reply { http_status, body, shape };
    let Some(result) = models::decode_answer(model.version, model.name, reply) else {
        panic!("every model decodes by name");
    };
    if let Ok(canonical) = result {
        let again = models::reencode(model.version, model.name, &canonical)
            .expect("known")
            .expect("a written answer reads back");
        assert_eq!(again, canonical);
    }
});
