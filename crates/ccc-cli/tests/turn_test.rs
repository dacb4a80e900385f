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

#[test]
fn turns_servers_are_probed_with_the_given_ca() {
    let auth = TurnAuth::Static {
        user: "agent".into(),
        password: "pw".into(),
    };
    let Some(coturn) = Coturn::start_with_tls(auth, "region-tls.test").expect("coturn") else {
        return;
    };
    let ca_file = std::env::temp_dir().join(format!("ccc-turn-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, &coturn.ca().expect("a CA").ca_pem).unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ccc"))
            .args([
                "turn-test",
                "--username",
                "agent",
                "--password",
                "pw",
                "--json",
            ])
            .args([
                "--server",
                &format!("cn-tls={}", coturn.turns_url().unwrap()),
            ])
            .args(["--timeout-ms", "2000"])
            .args(extra)
            .output()
            .expect("ccc runs")
    };
    let output = run(&["--ca-file", ca_file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&ca_file);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let server = &answer["ranking"][0]["servers"][0];
    assert_eq!(server["successes"], 3, "{server}");
    assert!(
        server["connect"]["median_ms"].as_f64().unwrap() > 0.0,
        "{server}"
    );

    // Without the CA the platform's authorities do not vouch for the test certificate.
    let output = run(&[]);
    assert!(!output.status.success(), "no region works");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let error = answer["ranking"][0]["servers"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.starts_with("TLS:"), "{error}");

    let output = run(&["--ca-file", "/nonexistent/ca.pem"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--ca-file"));
}
