//! `ccc api`: the dry run signs exactly what CCC compares (signing.md's worked example
//! and a case of the generated fixtures), a real call reaches a server on 127.0.0.1
//! that verifies its signature, and bad input gets clear errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;

use ccc_openapi::Credentials;
use ccc_openapi::sign::{HttpMethod, verify_v2};
use serde_json::Value;

fn ccc(args: &[&str], with_key: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ccc"));
    command.arg("api").args(args);
    command
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN");
    if with_key {
        command
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret");
    }
    command.output().expect("run ccc")
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

const TS: &str = "2024-01-02T03:04:05Z";
const NONCE: &str = "3f1a9c2e-0b7d-4e21-9a55-5c0d1e2f3a4b";

#[test]
fn dry_run_gives_signing_md_worked_example() {
    let out = ccc(
        &[
            "RequestLoginInfo",
            "--param",
            "InstanceId=ccc-test-instance",
            "--param",
            "UserId=agent@ccc-test",
            "--style",
            "core",
            "--dry-run",
            "--timestamp",
            TS,
            "--nonce",
            NONCE,
        ],
        true,
    );
    let json = stdout_json(&out);
    assert_eq!(
        json["string_to_sign"],
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DRequestLoginInfo%26Format%3DJSON%26InstanceId%3Dccc-test-instance%26RegionId%3Dcn-shanghai%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3f1a9c2e-0b7d-4e21-9a55-5c0d1e2f3a4b%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-02T03%253A04%253A05Z%26UserId%3Dagent%2540ccc-test%26Version%3D2017-07-05"
    );
    assert_eq!(json["signature"], "Q3yncJGXspH16F0E/CB6v5gftfM=");
    assert_eq!(json["method"], "POST");
    assert!(json["body"].is_null(), "core style: all in the query");
    assert!(
        json["url"]
            .as_str()
            .unwrap()
            .starts_with("https://ccc.cn-shanghai.aliyuncs.com/?")
    );
}

#[test]
fn dry_run_matches_a_generated_fixture() {
    let fixtures: Value = serde_json::from_str(include_str!(
        "../../ccc-openapi/tests/data/signing-fixtures.json"
    ))
    .unwrap();
    for style in ["core", "tea"] {
        let case = fixtures["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "arrays past ten" && c["style"] == style)
            .unwrap();
        let mut args = vec!["ListSkillGroupsOfUser".to_owned()];
        for i in 1..=12 {
            args.push("--param".into());
            args.push(format!("SkillGroupId.{i}=skg-{i}"));
        }
        args.extend(
            [
                "--param",
                "InstanceId=ccc-test",
                "--style",
                style,
                "--dry-run",
                "--timestamp",
                TS,
                "--nonce",
                NONCE,
            ]
            .map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ccc(&args, true);
        let json = stdout_json(&out);
        if let Some(expected) = case["string_to_sign"].as_str() {
            assert_eq!(json["string_to_sign"], expected, "{style}");
        }
        assert_eq!(json["signature"], case["signature"], "{style}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no parameter SkillGroupId.1 in its model"),
            "{stderr}"
        );
        assert!(stderr.contains("the model requires UserId"), "{stderr}");
        if style == "tea" {
            assert!(
                json["body"]
                    .as_str()
                    .unwrap()
                    .contains("SkillGroupId.10=skg-10"),
                "tea: 2017 parameters in the body"
            );
        }
    }
}

/// One request on 127.0.0.1: verifies the V2 signature, answers `answer` (or CCC's
/// error when the signature is wrong), and hands back what it received.
fn one_request_server(answer: &'static str) -> (String, thread::JoinHandle<Vec<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut parts = line.split(' ');
        let method = parts.next().unwrap().to_owned();
        let target = parts.next().unwrap().to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        params.extend(url::form_urlencoded::parse(&body).into_owned());
        let m = if method == "GET" {
            HttpMethod::Get
        } else {
            HttpMethod::Post
        };
        let (status, text) = match verify_v2(m, &params, &Credentials::new("testid", "testsecret"))
        {
            Ok(()) => (200, answer.to_owned()),
            Err(e) => (
                400,
                serde_json::json!({"Code": "SignatureDoesNotMatch", "Message": e.to_string()})
                    .to_string(),
            ),
        };
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        )
        .unwrap();
        params
    });
    (url, handle)
}

#[test]
fn a_real_call_prints_the_answer() {
    let answer = r#"{"RequestId":"r-1","Code":"OK","HttpStatusCode":200,"Message":"","Params":[],"Data":{"UserContext":{"UserState":"READY"}}}"#;
    let (url, server) = one_request_server(answer);
    let out = ccc(
        &[
            "MakeCall",
            "--param",
            "InstanceId=ccc-test",
            "--param",
            "Callee=13800000000",
            "--endpoint",
            &url,
            "--method",
            "GET",
        ],
        true,
    );
    let json = stdout_json(&out);
    assert_eq!(json, serde_json::from_str::<Value>(answer).unwrap());
    let params = server.join().unwrap();
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "Version" && v == "2020-07-01"),
        "the version that has MakeCall"
    );
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "Callee" && v == "13800000000")
    );
}

#[test]
fn an_api_error_exits_1_with_the_message() {
    let (url, server) = one_request_server("unused");
    // A signature the server cannot verify: the secret differs.
    let out = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args([
            "api",
            "RefreshToken",
            "--param",
            "InstanceId=i",
            "--endpoint",
            &url,
        ])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
        .output()
        .unwrap();
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SignatureDoesNotMatch")
            && stderr.contains("server string to sign is:POST&%2F&"),
        "{stderr}"
    );
}

#[test]
fn bad_input_gets_clear_errors() {
    let out = ccc(&["RefreshToken", "--param", "InstanceId=i"], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
    let out = ccc(&["RefreshToken", "--param", "novalue"], true);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected NAME=VALUE"));
    let out = ccc(
        &[
            "RefreshToken",
            "--dry-run",
            "--timestamp",
            "2024-01-02 03:04:05",
        ],
        true,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = ccc(&["RefreshToken", "--timestamp", TS], true);
    assert_eq!(out.status.code(), Some(2), "--timestamp needs --dry-run");
    let out = ccc(
        &["RefreshToken", "--endpoint", "ftp://x", "--dry-run"],
        true,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = ccc(&["NoSuchAction", "--param", "A=b", "--dry-run"], true);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a 2017-07-05 action this tool knows")
    );
    // Connection refused: a clear error, exit 1.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = ccc(
        &[
            "RefreshToken",
            "--param",
            "InstanceId=i",
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
        ],
        true,
    );
    assert_eq!(out.status.code(), Some(1));
}
