//! `ccc emulator`: one JSON object with the URLs and credentials, a live endpoint, and a
//! clean stop when standard input closes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn prints_its_urls_and_credentials_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ccc runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("one line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
    for key in [
        "api_url",
        "agent_server_url",
        "instance_id",
        "access_key_id",
        "access_key_secret",
        "turn_servers",
    ] {
        assert!(!info[key].is_null(), "{key} in {info}");
    }
    assert!(info.as_object().unwrap().contains_key("sip_ws_url"));
    let agent = &info["agents"][0];
    assert_eq!(agent["user_id"], "alice@ccc-emulator");
    assert_eq!(agent["extension"], "8001");
    assert_eq!(agent["password"], "pass-8001");

    // The endpoint answers (unsigned, so with CCC's error for a missing parameter).
    let api = info["api_url"].as_str().unwrap();
    let host = api.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET /?Action=RequestLoginInfo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"Code\":\"MissingVersion\""), "{answer}");

    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn a_bad_scenario_file_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("ccc-emulator-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    let text = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_ccc"))
            .args(["emulator", "--print-scenario"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(text.contains("[instance]"));
    std::fs::write(&file, text.replace("level = 8", "level = 12")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args(["emulator", "--config"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("agent[1].skill[0].level: 12 is outside 1..=10"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
