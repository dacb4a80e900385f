//! The emulator under load: many agents registered over SIP and signed in, many calls
//! up at once with PCMU audio both ways; the emulator's resident memory and CPU.
//!
//! A load run started on purpose:
//! `cargo bench -p ccc-benches --bench emulator_load -- --agents 1000 --calls 200 --hold 20`
//! (`cargo test` runs it small: 20 agents, 4 calls, 2 s). The emulator runs in a child
//! process (this binary again), so its figures are its own; this process plays the
//! agents: a ccc-sip client per agent, a ccc-media session (PCMU) per answered call.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use ccc_media::audio::{AudioFrame, AudioSink, Tone};
use ccc_media::call::{CallAudio, CallConfig, MediaSession};
use ccc_media::codec::Codec;
use ccc_media::dsp::Goertzel;
use ccc_openapi::Credentials;
use ccc_openapi::sign::{HttpMethod, ParamStyle, percent_encode, sign_v2, v2_common_params};
use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::LinkConfig;
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{UaConfig, UaEvent};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GROUP: &str = "sales@ccc-emulator";

struct Options {
    agents: usize,
    calls: usize,
    hold: Duration,
    /// A load run (`cargo bench`): report; a smoke run (`cargo test`): every call must
    /// be up with audio.
    full: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let (agents, calls, hold) = if full { (1000, 200, 20) } else { (20, 4, 2) };
    Options {
        agents: value("--agents").map_or(agents, |v| v as usize),
        calls: value("--calls").map_or(calls, |v| v as usize),
        hold: Duration::from_secs(value("--hold").unwrap_or(hold)),
        full,
    }
}

fn extension(i: usize) -> String {
    format!("{}", 10_000 + i)
}

/// The child: an emulator with `agents` load agents in one skill group, PCMU only,
/// customers that do not record; prints its info and serves until stdin closes.
fn run_child(agents: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let mut scenario = Scenario::default();
        let template = scenario.agents[1].clone();
        scenario.agents.clear();
        for i in 0..agents {
            let mut a = template.clone();
            a.user_id = format!("load{i:05}@ccc-emulator");
            a.login_name = format!("load{i:05}");
            a.display_name = format!("Load {i}");
            a.extension = extension(i);
            a.password = format!("pw-{i}");
            a.ram_id = 300_000_000_000_000 + i as i64;
            a.mobile = None;
            scenario.agents.push(a);
        }
        // Every caller follows the default script: the built-in scripted lines
        // (13800000001-4: busy, no answer, hang up after 5 s) would end calls on their
        // own; the callers here are 1380000NNNN, which they overlap.
        scenario.customers.clear();
        scenario.default_customer.record = false;
        scenario.platform.ring_timeout_ms = 120_000;
        let mut config = EmulatorConfig::new(scenario);
        config.media.codecs = vec![Codec::Pcmu];
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        println!("{}", emulator.info().to_json());
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
        emulator.shutdown().await;
    });
}

/// Resident memory (now and peak) and CPU time of a process, from /proc.
fn usage(pid: u32) -> (u64, u64, Duration) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let cpu = Duration::from_millis((ticks(11) + ticks(12)) * 10);
    (kib("VmRSS:") * 1024, kib("VmHWM:") * 1024, cpu)
}

async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
    let status = String::from_utf8_lossy(&raw[..split])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = serde_json::from_slice(&raw[(split + 4).min(raw.len())..]).unwrap_or(Value::Null);
    (status, json)
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::from(SystemTime::now())
        .replace_nanosecond(0)
        .expect("a whole second");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("formats")
}

static NONCE: AtomicUsize = AtomicUsize::new(0);

/// One signed 2020-07-01 request.
async fn call(info: &Value, action: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let credentials = Credentials::new(
        info["access_key_id"].as_str().unwrap_or_default(),
        info["access_key_secret"].as_str().unwrap_or_default(),
    );
    let nonce = format!("load-{}", NONCE.fetch_add(1, Ordering::Relaxed));
    let common = v2_common_params(
        action,
        "2020-07-01",
        &credentials,
        ParamStyle::Tea,
        "cn-shanghai",
        &timestamp(),
        &nonce,
    );
    let mut api = vec![("InstanceId".to_owned(), "ccc-emulator".to_owned())];
    api.extend(
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let all: Vec<(String, String)> = common.iter().chain(&api).cloned().collect();
    let signed = sign_v2(HttpMethod::Post, all, &credentials);
    let enc = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let mut query = common;
    query.push(("Signature".into(), signed.signature));
    let url = format!(
        "{}?{}",
        info["api_url"].as_str().unwrap_or_default(),
        enc(&query)
    );
    http(
        "POST",
        &url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        enc(&api).as_bytes(),
    )
    .await
}

async fn admin(info: &Value, method: &str, path: &str, body: Value) -> (u16, Value) {
    let auth = format!(
        "Bearer {}",
        info["admin_token"].as_str().unwrap_or_default()
    );
    let url = format!("{}{path}", info["admin_url"].as_str().unwrap_or_default());
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    http(
        method,
        &url,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await
}

/// Counts the frames in which the customer's 440 Hz tone is heard.
struct ToneCounter {
    heard: Arc<AtomicUsize>,
}

impl AudioSink for ToneCounter {
    fn write(&mut self, frame: &AudioFrame) {
        let g440 = Goertzel::new(440.0, frame.rate()).power(frame.samples());
        let g1k = Goertzel::new(1_000.0, frame.rate()).power(frame.samples());
        if g440 > 0.01 && g440 > 10.0 * g1k {
            self.heard.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One agent's phone: registers, answers every call with a PCMU session that says
/// 1000 Hz and counts the frames where it hears the customer's 440 Hz.
async fn agent(
    sip_url: String,
    domain: String,
    i: usize,
    registered: Arc<AtomicUsize>,
    heard: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
) {
    let mut link = LinkConfig::new(WsConnect::new(sip_url));
    link.keepalive = Duration::from_secs(30);
    let ua = UaConfig::new(
        extension(i),
        format!("pw-{i}"),
        domain,
        format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
    );
    let mut client = SipClient::spawn(link, ua, i as u64 + 1);
    let mut sessions = Vec::new();
    while let Some(event) = client.next_event().await {
        match event {
            ClientEvent::Ua(UaEvent::Registered { .. }) => {
                registered.fetch_add(1, Ordering::Relaxed);
            }
            ClientEvent::Ua(UaEvent::IncomingCall { call, sdp, .. }) => {
                let mut config = CallConfig::loopback();
                config.codecs = vec![Codec::Pcmu];
                let audio = CallAudio::new(
                    Tone::new(1_000.0, 0.3),
                    ToneCounter {
                        heard: heard.clone(),
                    },
                );
                let Ok((session, _events)) = MediaSession::new(config, audio).await else {
                    continue;
                };
                let Ok(answer) = session.answer(&String::from_utf8_lossy(&sdp)).await else {
                    continue;
                };
                client.ringing(call).await;
                if client.answer(call, answer.into_bytes()).await {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                sessions.push(session);
            }
            _ => {}
        }
    }
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(
            t0.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn kib(bytes: u64) -> u64 {
    bytes / 1024
}

async fn run_parent(o: Options) {
    let mut child: Child = Command::new(std::env::current_exe().expect("this binary"))
        .args(["--emulator-child", &o.agents.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the emulator process starts");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the emulator's info");
    let info: Value = serde_json::from_str(&line).expect("one JSON object");
    let (rss_idle, _, cpu0) = usage(pid);

    // Register every agent over SIP.
    let registered = Arc::new(AtomicUsize::new(0));
    let heard = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let sip = info["sip_ws_url"].as_str().expect("SIP").to_owned();
    let domain = info["sip_domain"].as_str().expect("a domain").to_owned();
    let t0 = Instant::now();
    for i in 0..o.agents {
        tokio::spawn(agent(
            sip.clone(),
            domain.clone(),
            i,
            registered.clone(),
            heard.clone(),
            answered.clone(),
        ));
    }
    wait_for("registration", Duration::from_secs(120), || {
        registered.load(Ordering::Relaxed) >= o.agents
    })
    .await;
    let register_time = t0.elapsed();
    let (_, _, cpu_registered) = usage(pid);

    // Sign every agent in and make it ready (8 requests at a time).
    let t1 = Instant::now();
    let users: Vec<String> = (0..o.agents)
        .map(|i| format!("load{i:05}@ccc-emulator"))
        .collect();
    for chunk in users.chunks(8) {
        let mut tasks = Vec::new();
        for user in chunk {
            let info = info.clone();
            let user = user.clone();
            let i: usize = user[4..9].parse().unwrap_or(0);
            tasks.push(tokio::spawn(async move {
                let device = format!("urn:uuid:00000000-0000-4000-8000-{i:012}");
                let groups = format!(r#"["{GROUP}"]"#);
                let (s1, b1) = call(
                    &info,
                    "SignInGroup",
                    &[
                        ("UserId", &user),
                        ("DeviceId", &device),
                        ("SignedSkillGroupIdList", &groups),
                    ],
                )
                .await;
                let (s2, b2) = call(&info, "ReadyForService", &[("UserId", &user)]).await;
                assert!(s1 == 200 && s2 == 200, "sign-in of {user}: {b1} {b2}");
            }));
        }
        for t in tasks {
            t.await.expect("a sign-in");
        }
    }
    let sign_in_time = t1.elapsed();
    let (rss_signed_in, _, _) = usage(pid);

    // Place the calls; the agents' phones answer them.
    let t2 = Instant::now();
    for c in 0..o.calls {
        let caller = format!("1380000{c:04}");
        let (status, body) = admin(
            &info,
            "POST",
            "/calls",
            json!({"caller": caller, "callee": "02150000001"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    wait_for("every call answered", Duration::from_secs(120), || {
        answered.load(Ordering::Relaxed) >= o.calls
    })
    .await;
    let setup_time = t2.elapsed();
    // Let media settle, then measure over the hold time.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let heard_before = heard.load(Ordering::Relaxed);
    let (_, _, cpu_before) = usage(pid);
    let t3 = Instant::now();
    tokio::time::sleep(o.hold).await;
    let span = t3.elapsed();
    let (rss_calls, hwm, cpu_after) = usage(pid);
    let heard_frames = heard.load(Ordering::Relaxed) - heard_before;
    let (_, agents) = admin(&info, "GET", "/agents", Value::Null).await;
    let talking = agents
        .as_array()
        .map_or(0, |a| a.iter().filter(|x| x["state"] == "TALKING").count());
    if talking < o.calls
        && let Some(list) = agents.as_array()
    {
        for a in list
            .iter()
            .filter(|a| !a["job_id"].is_null() && a["state"] != "TALKING")
        {
            println!(
                "  not talking: {} {} {}",
                a["user_id"], a["state"], a["job_id"]
            );
        }
        let (_, calls) = admin(&info, "GET", "/calls", Value::Null).await;
        println!("  live calls: {}", calls.as_array().map_or(0, Vec::len));
        let (_, records) = admin(&info, "GET", "/records", Value::Null).await;
        for r in records["calls"].as_array().into_iter().flatten() {
            println!(
                "  ended: {} {} {}",
                r["contact_id"], r["disposition"], r["agents"]
            );
        }
    }
    let cpu_share = (cpu_after - cpu_before).as_secs_f64() / span.as_secs_f64();
    let expected = o.calls as f64 * span.as_secs_f64() * 50.0;

    println!(
        "emulator load: {} agents registered and signed in, {} PCMU calls up with audio both ways",
        o.agents, o.calls
    );
    println!(
        "  registration of all agents: {:.2} s ({:.3} ms CPU of the emulator per registration)",
        register_time.as_secs_f64(),
        (cpu_registered - cpu0).as_secs_f64() * 1_000.0 / o.agents as f64
    );
    println!(
        "  sign-in + ready of all agents: {:.2} s",
        sign_in_time.as_secs_f64()
    );
    println!(
        "  {} calls placed and answered in {:.2} s; {} agents TALKING",
        o.calls,
        setup_time.as_secs_f64(),
        talking
    );
    println!(
        "  customer tone heard by the agents in {:.1} % of the frames expected ({} of {:.0})",
        100.0 * heard_frames as f64 / expected,
        heard_frames,
        expected
    );
    println!(
        "  emulator RSS: idle {} KiB, agents signed in {} KiB ({:.1} KiB per agent), with calls {} KiB ({:.1} KiB per call), peak {} KiB",
        kib(rss_idle),
        kib(rss_signed_in),
        (rss_signed_in.saturating_sub(rss_idle)) as f64 / 1024.0 / o.agents as f64,
        kib(rss_calls),
        (rss_calls.saturating_sub(rss_signed_in)) as f64 / 1024.0 / o.calls.max(1) as f64,
        kib(hwm)
    );
    println!(
        "  emulator CPU with the calls up: {:.1} % of one core ({:.2} ms per call-second); {:.1} s CPU in all",
        cpu_share * 100.0,
        cpu_share * 1_000.0 / o.calls.max(1) as f64,
        cpu_after.as_secs_f64()
    );

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("  machine load average (1, 5, 15 min): {}", load.join(" "));
    drop(child.stdin.take());
    let _ = child.wait();
    if o.full {
        assert!(
            talking * 100 >= o.calls * 95,
            "at least 95 % of the calls are up"
        );
    } else {
        assert_eq!(talking, o.calls, "every call is up");
        assert!(
            heard_frames as f64 > 0.5 * expected,
            "audio flows on the calls"
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--emulator-child") {
        let agents = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(10);
        return run_child(agents);
    }
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run_parent(o));
}
