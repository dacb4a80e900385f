//! Any JSON through the shape converters: PascalCase is idempotent, the demo shape has
//! no upper-case first letter and no one-member object holding an array left and is
//! idempotent (the crash it found first is a unit test of `shape`), and a
//! request in either shape becomes wire parameters; never a panic.
#![no_main]

use ccc_openapi::shape::{demo_shape, pascal_case_keys, request_to_wire};
use ccc_openapi::{Version, models};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn demo_ok(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            let wrapper = map.len() == 1 && map.values().all(Value::is_array);
            let lower = map.keys().all(|k| !k.starts_with(|c: char| c.is_uppercase()));
            !wrapper && lower && map.values().all(demo_ok)
        }
        Value::Array(items) => items.iter().all(demo_ok),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let pascal = pascal_case_keys(value.clone());
    assert_eq!(pascal_case_keys(pascal.clone()), pascal);
    let demo = demo_shape(value.clone());
    // Some characters change length when their case changes ('İ'); the rule holds for
    // the keys CCC uses, which are ASCII.
    if data.is_ascii() {
        assert!(demo_ok(&demo));
        assert_eq!(demo_shape(demo.clone()), demo);
    }
    for version in Version::ALL {
        let wire = request_to_wire(&value, version);
        for model in models::ALL.iter().filter(|m| m.version == version) {
            let _ = models::decode_request(version, model.name, &wire);
        }
    }
    // A demo-shaped answer of every action: a value or a clear error.
    for model in models::ALL {
        let _ = models::reencode(model.version, model.name, &pascal_case_keys(demo.clone()));
    }
});
