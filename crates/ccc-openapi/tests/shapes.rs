//! Every answer sample read through the proxy shapes gives the same typed answer as
//! CCC's own JSON: the Java demo's (lower-case first letters, wrappers replaced by their
//! arrays) and a custom function's lower-case keys (C41).

use std::path::Path;

use ccc_openapi::shape::{Shape, demo_shape, pascal_case_keys};
use ccc_openapi::{Version, models};
use serde_json::Value;

fn samples() -> Vec<(Version, String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/answers");
    let mut out = Vec::new();
    for version in Version::ALL {
        let dir = root.join(version.as_str());
        for entry in std::fs::read_dir(&dir).expect("answers dir") {
            let path = entry.expect("entry").path();
            let action = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let json: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.push((version, action, json));
        }
    }
    out
}

fn lower_first(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let k = c
                        .next()
                        .map(|f| f.to_lowercase().chain(c).collect())
                        .unwrap_or_default();
                    (k, lower_first(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_first).collect()),
        other => other,
    }
}

#[test]
fn every_model_has_a_sample_and_every_sample_a_model() {
    let samples = samples();
    assert_eq!(samples.len(), models::ALL.len());
    for (version, action, _) in &samples {
        assert!(
            models::find(*version, action).is_some(),
            "{version} {action}"
        );
    }
}

#[test]
fn proxy_shapes_decode_to_the_same_answer() {
    for (version, action, json) in samples() {
        let direct = models::reencode(version, &action, &json).unwrap().unwrap();
        assert_eq!(direct, json, "{action}");
        let demo = demo_shape(json.clone());
        assert_ne!(demo, json, "{action}: the demo shape differs");
        let via_demo = models::reencode(version, &action, &pascal_case_keys(demo))
            .unwrap()
            .unwrap();
        assert_eq!(via_demo, json, "{action} via the demo shape");
        let lower = lower_first(json.clone());
        let via_lower = models::reencode(version, &action, &pascal_case_keys(lower))
            .unwrap()
            .unwrap();
        assert_eq!(via_lower, json, "{action} via lower-case keys");
        assert_eq!(Shape::OpenApi.answer(json.clone()), json);
    }
}

#[test]
fn empty_lists_stay_wrapped() {
    let json = serde_json::json!({"Success": true, "SkillLevels": {"SkillLevel": []}});
    let back = models::reencode(Version::V20170705, "ListSkillGroupsOfUser", &json)
        .unwrap()
        .unwrap();
    assert_eq!(back, json);
    let nested = serde_json::json!({"CallDetailRecords": {"List": {"CallDetailRecord": []}, "PageNumber": 1}});
    let back = models::reencode(Version::V20170705, "ListRecentCallRecords", &nested)
        .unwrap()
        .unwrap();
    assert_eq!(back, nested);
    assert!(models::reencode(Version::V20170705, "NoSuchAction", &json).is_none());
}

#[test]
fn by_name_answers_and_requests() {
    use ccc_openapi::WireParams;
    use ccc_openapi::decode::Reply;
    for (version, action, json) in samples() {
        let reply = Reply::openapi(200, serde_json::to_vec(&json).unwrap());
        let back = models::decode_answer(version, &action, reply)
            .unwrap()
            .unwrap();
        assert_eq!(back, json, "{action}");
    }
    let wire: WireParams = [("InstanceId", "i"), ("Callee", "1"), ("Action", "MakeCall")]
        .into_iter()
        .collect();
    let params = models::decode_request(Version::V20200701, "MakeCall", &wire)
        .unwrap()
        .unwrap();
    assert_eq!(params.get("Callee"), Some("1"));
    let missing: WireParams = [("InstanceId", "i")].into_iter().collect();
    assert!(
        models::decode_request(Version::V20200701, "MakeCall", &missing)
            .unwrap()
            .is_err()
    );
    assert!(models::decode_request(Version::V20170705, "MakeCall", &wire).is_none());
}
