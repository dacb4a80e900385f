//! `ccc turn-test` against two coturn regions.

use std::process::Command;

use ccc_testpeers::{Coturn, TurnAuth};

#[test]
fn ranks_regions_as_json() {
    let auth = || TurnAuth::Static {
        user: "agent".into(),
        password: "pw".into(),
    };
    let Some(a) = Coturn::start(auth(), "region-a.test").expect("coturn") else {
        return;
    };
    let b = Coturn::start(auth(), "region-b.test")
        .expect("coturn")
        .expect("installed");
    let output = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args([
            "turn-test",
            "--username",
            "agent",
            "--password",
            "pw",
            "--rounds",
            "2",
            "--json",
        ])
        .args(["--server", &format!("cn-a={}", a.turn_url())])
        .args(["--server", &format!("cn-b={}", b.turn_url())])
        .args([
            "--server",
            "cn-broken=turn:127.0.0.1:1?transport=udp",
            "--timeout-ms",
            "300",
        ])
        .output()
        .expect("ccc runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    let ranking = answer["ranking"].as_array().expect("a ranking");
    assert_eq!(ranking.len(), 3);
    assert_eq!(ranking[2]["region"], "cn-broken", "the broken region last");
    assert!(ranking[2]["servers"][0]["error"].as_str().is_some());
    for entry in &ranking[..2] {
        assert!(
            entry["median_to_relay_ms"].as_f64().unwrap() > 0.0,
            "{entry}"
        );
        assert_eq!(entry["servers"][0]["successes"], 2);
        assert!(
            entry["servers"][0]["binding"]["median_ms"]
                .as_f64()
                .is_some()
        );
    }
}

#[test]
fn bad_arguments_are_explained() {
    let output = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args(["turn-test", "--server", "no-equals-sign", "--password", "x"])
        .output()
        .expect("ccc runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected REGION=URL"));
    let output = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args(["turn-test", "--server", "a=turn:127.0.0.1"])
        .output()
        .expect("ccc runs");
    assert!(!output.status.success(), "credentials are required");
}
