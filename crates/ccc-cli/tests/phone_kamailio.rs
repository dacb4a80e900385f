//! `ccc phone` against the independent peers: it registers to Kamailio over WebSocket
//! and takes a call from SIPp through it. SIPp does no ICE, so the media must give up
//! after `--media-timeout` and say so while the call itself completes (SIPp hangs up).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccc_testpeers::{Kamailio, KamailioConfig, Sipp};
use serde_json::Value;

fn scenario(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs `ccc` with `args`, collecting its JSON lines until it exits (at most `limit`).
fn run_phone(args: &[String], limit: Duration) -> (Vec<Value>, String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccc starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let mut lines = Vec::new();
    let code = loop {
        while let Ok(line) = rx.try_recv() {
            lines.push(line);
        }
        if let Ok(Some(status)) = child.try_wait() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    while let Ok(line) = rx.try_recv() {
        lines.push(line);
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    let events = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    (events, stderr, code)
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| match (e["event"].as_str(), e["kind"].as_str()) {
            (Some("error"), Some(kind)) => format!("error:{kind}"),
            (Some(event), _) => event.to_owned(),
            _ => "?".into(),
        })
        .collect()
}

#[test]
fn registers_and_takes_a_sipp_call_whose_media_times_out_cleanly() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let args: Vec<String> = [
        "phone",
        "--ws",
        &kam.ws_url(),
        "--user",
        "1001",
        "--password",
        "secret1001",
        "--domain",
        "ccc.test",
        "--auto-answer",
        "--loopback",
        "--tone",
        "440",
        "--media-timeout",
        "1",
        "--max-calls",
        "1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let phone = std::thread::spawn(move || run_phone(&args, Duration::from_secs(25)));
    // Give the phone time to register, then let SIPp call it.
    let registered_by = Instant::now() + Duration::from_secs(10);
    while Instant::now() < registered_by && !kam.log_tail().contains("1001") {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    // The candidate SIPp offers: a socket that takes the ICE checks and never answers.
    let black_hole = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
    let port = black_hole
        .local_addr()
        .expect("its address")
        .port()
        .to_string();
    let Some(sipp) = Sipp::start(
        &scenario("uac_webrtc_call.xml"),
        kam.udp_addr(),
        &["-s", "1001", "-m", "1", "-key", "black_hole", &port],
    )
    .expect("SIPp starts") else {
        return;
    };
    let run = sipp.wait(Duration::from_secs(20));
    let (events, stderr, code) = phone.join().expect("the phone thread");
    let seen = kinds(&events);
    for event in &events {
        eprintln!("{event}");
    }
    assert!(
        run.succeeded(),
        "SIPp: {}\n{}\nphone: {seen:?}\n{stderr}\n{}",
        run.log,
        run.messages,
        kam.log_tail()
    );
    assert_eq!(
        code,
        Some(0),
        "the phone exits by itself after the call: {seen:?}\n{stderr}"
    );
    let position = |kind: &str| {
        seen.iter()
            .position(|k| k == kind)
            .unwrap_or_else(|| panic!("no {kind} in {seen:?}\n{stderr}"))
    };
    let order = [
        position("registered"),
        position("incoming"),
        position("established"),
        position("error:media_timeout"),
        position("ended"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    let incoming = &events[position("incoming")];
    assert!(
        incoming["from"]
            .as_str()
            .unwrap_or("")
            .contains("13800000000")
    );
    let timeout = &events[position("error:media_timeout")];
    assert!(
        timeout["message"]
            .as_str()
            .unwrap_or("")
            .contains("did not connect"),
        "{timeout}"
    );
    assert_eq!(events[position("ended")]["reason"], "remote_hangup");
    assert!(
        !seen.iter().any(|k| k == "media"),
        "no media connected: {seen:?}"
    );
    // Our answer reached SIPp: a complete WebRTC answer with its candidates.
    assert!(
        run.messages.contains("a=fingerprint:sha-256"),
        "{}",
        run.messages
    );
    assert!(run.messages.contains("a=candidate:"), "{}", run.messages);
    assert!(run.messages.contains("a=setup:active") || run.messages.contains("a=setup:passive"));
}

#[test]
fn a_wrong_password_is_an_error_line_and_a_failure_exit() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let args: Vec<String> = [
        "phone",
        "--ws",
        &kam.ws_url(),
        "--user",
        "1001",
        "--password",
        "wrong",
        "--domain",
        "ccc.test",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (events, stderr, code) = run_phone(&args, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{events:?}\n{stderr}");
    let seen = kinds(&events);
    assert!(seen.contains(&"error:registration".to_owned()), "{seen:?}");
    assert!(!seen.contains(&"registered".to_owned()));
}

#[test]
fn bad_arguments_are_refused_before_connecting() {
    let (_, stderr, code) = run_phone(
        &[
            "phone",
            "--ws",
            "ws://127.0.0.1:9",
            "--user",
            "u",
            "--password",
            "p",
            "--dtmf",
            "12x",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>(),
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a DTMF digit"), "{stderr}");
    let (_, stderr, code) = run_phone(
        &[
            "phone",
            "--ws",
            "nonsense",
            "--user",
            "u",
            "--password",
            "p",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>(),
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a ws://"), "{stderr}");
}

#[test]
fn calls_a_sipp_callee_holds_sends_dtmf_by_info_and_hangs_up() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let black_hole = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
    let port = black_hole
        .local_addr()
        .expect("its address")
        .port()
        .to_string();
    let Some(callee) = Sipp::start(
        &scenario("uas_webrtc_hold_dtmf.xml"),
        kam.udp_addr(),
        &["-m", "1", "-key", "black_hole", &port],
    )
    .expect("SIPp starts") else {
        return;
    };
    let target = format!("sip:callee@{}", callee.addr());
    let args: Vec<String> = [
        "phone",
        "--ws",
        &kam.ws_url(),
        "--user",
        "1001",
        "--password",
        "secret1001",
        "--domain",
        "ccc.test",
        "--call",
        &target,
        "--loopback",
        "--media-timeout",
        "1",
        "--hold-after",
        "0.3",
        "--dtmf",
        "12",
        "--hangup-after",
        "2",
        "--max-calls",
        "1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (events, stderr, code) = run_phone(&args, Duration::from_secs(25));
    let run = callee.wait(Duration::from_secs(10));
    let seen = kinds(&events);
    for event in &events {
        eprintln!("{event}");
    }
    assert!(
        run.succeeded(),
        "SIPp: {}\n{}\nphone: {seen:?}\n{stderr}\n{}",
        run.log,
        run.messages,
        kam.log_tail()
    );
    assert_eq!(code, Some(0), "{seen:?}\n{stderr}");
    let position = |kind: &str| {
        seen.iter()
            .position(|k| k == kind)
            .unwrap_or_else(|| panic!("no {kind} in {seen:?}\n{stderr}"))
    };
    let order = [
        position("registered"),
        position("calling"),
        position("ringing"),
        position("established"),
        position("held"),
        position("error:media_timeout"),
        position("dtmf_sent"),
        position("ended"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(events[position("held")]["held"], true);
    assert_eq!(events[position("dtmf_sent")]["via"], "sip_info");
    assert_eq!(events[position("ended")]["reason"], "local_hangup");
    // What SIPp saw: our offer, the hold re-INVITE, both digits by INFO.
    assert!(run.messages.contains("a=setup:actpass"), "{}", run.messages);
    assert!(run.messages.contains("a=sendonly"), "{}", run.messages);
    assert!(run.messages.contains("Signal=1") && run.messages.contains("Signal=2"));
}

#[test]
fn two_phones_talk_through_kamailio_with_rfc_4733_dtmf() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let phone = |user: &str, password: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "phone",
            "--ws",
            &kam.ws_url(),
            "--user",
            user,
            "--password",
            password,
            "--domain",
            "ccc.test",
            "--loopback",
            "--max-calls",
            "1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let callee = phone("1002", "secret1002", &["--auto-answer", "--tone", "1000"]);
    let callee = std::thread::spawn(move || run_phone(&callee, Duration::from_secs(25)));
    // The callee registers first.
    std::thread::sleep(Duration::from_millis(1500));
    let caller = phone(
        "1001",
        "secret1001",
        &[
            "--call",
            "1002",
            "--tone",
            "440",
            "--dtmf",
            "5#",
            "--hangup-after",
            "2",
        ],
    );
    let (caller_events, caller_err, caller_code) = run_phone(&caller, Duration::from_secs(25));
    let (callee_events, callee_err, callee_code) = callee.join().expect("the callee thread");
    let (caller_seen, callee_seen) = (kinds(&caller_events), kinds(&callee_events));
    assert_eq!(caller_code, Some(0), "{caller_seen:?}\n{caller_err}");
    assert_eq!(callee_code, Some(0), "{callee_seen:?}\n{callee_err}");
    for seen in [&caller_seen, &callee_seen] {
        assert!(
            seen.contains(&"media".to_owned()),
            "media connected: {seen:?}"
        );
        assert!(!seen.iter().any(|k| k.starts_with("error")), "{seen:?}");
    }
    let media = caller_events
        .iter()
        .find(|e| e["event"] == "media")
        .unwrap();
    assert_eq!(media["dtmf"], "rfc4733");
    let digits: String = callee_events
        .iter()
        .filter(|e| e["event"] == "dtmf" && e["via"] == "rfc4733")
        .filter_map(|e| e["digit"].as_str())
        .collect();
    assert_eq!(digits, "5#", "{callee_seen:?}");
    // Audio flowed both ways: the stats lines hear the other's tone.
    for (events, who) in [(&caller_events, "caller"), (&callee_events, "callee")] {
        let heard = events
            .iter()
            .filter(|e| e["event"] == "stats")
            .filter_map(|e| e["level_received_dbfs"].as_f64())
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(heard > -20.0, "{who} heard {heard} dBFS");
    }
    let ended = |events: &[Value]| events.iter().find(|e| e["event"] == "ended").cloned();
    assert_eq!(ended(&caller_events).unwrap()["reason"], "local_hangup");
    assert_eq!(ended(&callee_events).unwrap()["reason"], "remote_hangup");
}
