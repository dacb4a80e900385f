//! Many workbenches in one process against one emulator: the time from `register()`
//! to ready, the memory of an idle registered agent (its links up: OpenAPI, the agent
//! link, and SIP when the emulator serves it), and the time from the emulator offering
//! a call to `onCallComing` reaching the program.
//!
//! A load run started on purpose:
//! `cargo bench -p ccc-benches --bench workbench_load -- --agents 200 --calls 50`
//! (`-- --help` lists the options; `cargo test` runs it small: 10 agents, 5 calls, 3
//! quiet). The emulator runs in a child process (this binary again), so the memory
//! measured here is the workbenches' own.
//!
//! Figures:
//! - **quiet register**: first, `--quiet` agents one at a time, each `register()` to
//!   ready beside the same requests made by hand with nothing else going on, on the
//!   same shared client (its pool of connections), where the workbench makes them:
//!   `RequestLoginInfo`, `GetLoginDetails` and `ListConfig` at once; then at once the
//!   SIP registration over WebSocket with its digest round, the agent link's upgrade
//!   and first frame, and `ListSkillGroupsOfUser`, `ListOutboundPhoneNumberOfUser`,
//!   `GetTURNServerList`, `GetTURNCredentials`; then `SignInGroup` beside
//!   `AddAgentDevice`; then `ReadyForService`. That is the emulator's own handling
//!   time along the sign-in's critical path, its round trips included; the difference,
//!   in loopback round trips, is what the workbench adds (target: at most 3). Beside it
//!   the sign-in's minimum by hand (`RequestLoginInfo`; SIP and the agent link;
//!   `SignInGroup`; `ReadyForService`), which the workbench's extra requests cost CPU
//!   against on a small machine. The round trip is one OpenAPI request
//!   (`PollUserStatus`), measured before and between the quiet registrations.
//! - **register**: each `register()` until it returns (it settles at ready), with at
//!   most `--parallel` (default 16) at once; median and 99th percentile.
//! - **idle memory**: registered in two halves; what the second half adds to this
//!   process's resident memory and live heap (a counting allocator), divided by its
//!   agents: each agent's own memory, apart from the shared OpenAPI client's connection
//!   pool (sized by the concurrency, not the agents), which the whole process's figure
//!   beside it includes.
//! - **offer to onCallComing**: from the start of the admin request that places the
//!   call (the offer happens while it is served) to the agent's event: an upper bound;
//!   beside it the admin request's own time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use ccc_openapi::transport::Direct;
use ccc_openapi::{Client, Credentials, v2017, v2020};
use ccc_workbench::{Config, Event, Status, Workbench};
use serde_json::Value;

/// Counts the bytes allocated and not yet freed, so the figures say what the agents
/// keep on the heap apart from what the allocator holds around it (RSS).
struct LiveHeap;

static LIVE: AtomicI64 = AtomicI64::new(0);

fn live_bytes() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: every call goes to the system allocator unchanged; the counter only adds and
// subtracts the sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for LiveHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(size(layout), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(size(layout), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            i64::try_from(new_size).unwrap_or(i64::MAX) - size(layout),
            Ordering::Relaxed,
        );
        // SAFETY: the caller's contract is passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: LiveHeap = LiveHeap;

struct Options {
    agents: usize,
    calls: usize,
    parallel: usize,
    quiet: usize,
    full: bool,
}

const USAGE: &str =
    "workbench_load: N workbenches in one process against an emulator in a child process

  --agents N     workbenches registered and kept idle (default 200; 10 under cargo test)
  --calls N      calls offered one at a time, offer to onCallComing (default 50; 5)
  --parallel N   registrations at once (default 16)
  --quiet N      agents registered one at a time, beside the same requests by hand (default 20; 3)
  --help         this text";

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let full = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let (agents, calls, quiet) = if full { (200, 50, 20) } else { (10, 5, 3) };
    Options {
        agents: value("--agents").unwrap_or(agents).max(1),
        calls: value("--calls").unwrap_or(calls),
        parallel: value("--parallel").unwrap_or(16).max(1),
        quiet: value("--quiet").unwrap_or(quiet),
        full,
    }
}

fn user(i: usize) -> String {
    format!("load{i:05}@ccc-emulator")
}

/// The child: an emulator with `agents` agents in one skill group; prints its info
/// as one JSON line and serves until its standard input closes.
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
            a.user_id = user(i);
            a.login_name = format!("load{i:05}");
            a.display_name = format!("Load {i}");
            a.extension = format!("{}", 10_000 + i);
            a.password = format!("pass-{i}");
            a.ram_id = 300_000_000_000_000 + i64::try_from(i).unwrap_or(0);
            a.mobile = None;
            scenario.agents.push(a);
        }
        let emulator = Emulator::start(EmulatorConfig::new(scenario))
            .await
            .expect("the emulator starts");
        println!("{}", emulator.info().to_json());
        // Serve until the parent closes our standard input.
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
        })
        .await;
        emulator.shutdown().await;
    });
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One `PollUserStatus` round trip.
async fn round_trip(client: &Client, instance: &str) -> Duration {
    let started = Instant::now();
    let _ = client
        .send(v2020::PollUserStatus::new(instance.to_owned()).user_id(user(0)))
        .await;
    started.elapsed()
}

/// Places an inbound call through the child's admin API; how long the request took.
async fn place_call(admin_url: &str, token: &str, caller: &str) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = admin_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = format!(r#"{{"caller":"{caller}","callee":"02150000001"}}"#);
    let request = format!(
        "POST /admin/calls HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("the admin API");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let took = started.elapsed();
    assert!(
        answer.starts_with(b"HTTP/1.1 201"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    took
}

/// `text` percent-encoded for a URL query (everything but the unreserved characters).
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The agent link by hand: a WebSocket upgrade over TCP (RFC 6455, with the RFC's
/// sample key), then the server's first frame (the agent's state). The open connection.
async fn agent_link_by_hand(url: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("ws://");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .expect("the agent link");
    stream.set_nodelay(true).expect("nodelay");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the upgrade");
    // The 101 answer, up to its blank line, and the first frame, unmasked from the
    // server: read in chunks, as a client library reads them.
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let mut read_more = async |stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>| {
        let n = stream.read(&mut chunk).await.expect("the agent link reads");
        assert!(n > 0, "the agent link closed during its upgrade");
        buf.extend_from_slice(&chunk[..n]);
        assert!(buf.len() < 64 * 1024, "an upgrade answer that does not end");
    };
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(&mut stream, &mut buf).await;
    };
    assert!(
        buf.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&buf[..head_end])
    );
    loop {
        let frame = &buf[head_end..];
        let need = match frame {
            [_, 126, a, b, ..] => Some(4 + usize::from(u16::from_be_bytes([*a, *b]))),
            [_, 127, rest @ ..] if rest.len() >= 8 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&rest[..8]);
                Some(10 + usize::try_from(u64::from_be_bytes(n)).expect("a frame that fits"))
            }
            [_, n, ..] if *n < 126 => Some(2 + usize::from(*n)),
            _ => None,
        };
        if need.is_some_and(|need| frame.len() >= need) {
            break;
        }
        read_more(&mut stream, &mut buf).await;
    }
    stream
}

/// Where the by-hand sign-in goes: the SIP WebSocket, the SIP domain, the agent link.
struct Links {
    sip: String,
    domain: String,
    agent_link: String,
}

/// What the platform needs for one agent's sign-in, done by hand with nothing else
/// going on: `RequestLoginInfo`; then at once the SIP registration (WebSocket,
/// REGISTER, its digest challenge, REGISTER) and the agent link (upgrade, first
/// frame); then `SignInGroup` and `ReadyForService`. How long it took; the agent is
/// signed out and its links closed after.
async fn by_hand(
    client: &Client,
    instance: &str,
    links: &Links,
    i: usize,
    everything: bool,
) -> Duration {
    use ccc_sip::client::{ClientEvent, SipClient};
    use ccc_sip::link::LinkConfig;
    use ccc_sip::transport::WsConnect;
    use ccc_sip::ua::{UaConfig, UaEvent};
    let user = user(i);
    let device = format!("urn:uuid:00000000-0000-4000-8000-{i:012}");
    let started = Instant::now();
    let login =
        client.send(v2017::RequestLoginInfo::new(instance.to_owned()).user_id(user.clone()));
    // With `everything`, the rest of what the workbench asks at start-up, where it
    // asks it: beside the login info, and beside the links.
    let beside_login = async {
        if everything {
            let details =
                client.send(v2020::GetLoginDetails::new(instance.to_owned()).user_id(user.clone()));
            let config = client.send(v2017::ListConfig::new(instance.to_owned()));
            let (details, config) = tokio::join!(details, config);
            details.expect("GetLoginDetails");
            config.expect("ListConfig");
        }
    };
    let (login, ()) = tokio::join!(login, beside_login);
    let login = login
        .expect("RequestLoginInfo")
        .login_info
        .expect("the login info");
    let beside_links = async {
        if everything {
            let skills = client.send(v2017::ListSkillGroupsOfUser::new(
                instance.to_owned(),
                user.clone(),
            ));
            let numbers = client.send(v2017::ListOutboundPhoneNumberOfUser::new(
                instance.to_owned(),
                user.clone(),
            ));
            let turn = client.send(v2017::GetTURNServerList::new(instance.to_owned()));
            let credentials = client.send(v2017::GetTURNCredentials::new(
                instance.to_owned(),
                login.user_name.clone().unwrap_or_default(),
            ));
            let (a, b, c, d) = tokio::join!(skills, numbers, turn, credentials);
            a.expect("ListSkillGroupsOfUser");
            b.expect("ListOutboundPhoneNumberOfUser");
            c.expect("GetTURNServerList");
            d.expect("GetTURNCredentials");
        }
    };
    let link_url = format!(
        "{}?UserId={}&SignData={}&Signature={}&DeviceId={}",
        links.agent_link,
        query_escape(&user),
        query_escape(login.sign_data.as_deref().unwrap_or_default()),
        query_escape(login.signature.as_ref().map_or("", |s| s.expose())),
        query_escape(&device),
    );
    let ua = UaConfig::new(
        format!("{}", 10_000 + i),
        format!("pass-{i}"),
        links.domain.clone(),
        device.clone(),
    );
    let mut phone = SipClient::spawn(
        LinkConfig::new(WsConnect::new(links.sip.clone())),
        ua,
        7 + i as u64,
    );
    let registered = async {
        let mut local = None;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), phone.next_event()).await {
                Ok(Some(ClientEvent::Ua(UaEvent::Registered { .. }))) => break local,
                Ok(Some(ClientEvent::Link(ccc_sip::link::LinkEvent::Connected {
                    local: at,
                    ..
                }))) => local = Some(at),
                Ok(Some(_)) => {}
                other => panic!("{user}: no SIP registration: {other:?}"),
            }
        }
    };
    let (link, sip_local, ()) =
        tokio::join!(agent_link_by_hand(&link_url), registered, beside_links);
    let sign_in = client.send(
        v2020::SignInGroup::new(instance.to_owned(), device.clone(), ["sales@ccc-emulator"])
            .user_id(user.clone()),
    );
    // With `everything`, the device record beside the sign-in, as the workbench makes
    // it (A22: with the SIP flow's address; `UserId` beside the model's parameters).
    let device_record = async {
        if everything && let Some(local) = sip_local {
            use ccc_openapi::{Action, Placement, transport::Request};
            let action = v2017::AddAgentDevice::new(
                instance.to_owned(),
                "ccc-rs/by-hand",
                local.ip().to_string(),
            )
            .client_port(local.port().to_string());
            let mut params = action.params();
            params.put("UserId", Placement::Query, &user);
            let request = Request::raw(
                v2017::AddAgentDevice::NAME,
                v2017::AddAgentDevice::VERSION,
                params,
            );
            client.call(&request).await.expect("AddAgentDevice");
        }
    };
    // The device record is not waited for (nor is it by the workbench): Ready is.
    let to_ready = async {
        sign_in.await.expect("SignInGroup");
        client
            .send(
                v2020::ReadyForService::new(instance.to_owned())
                    .user_id(user.clone())
                    .device_id(device.clone()),
            )
            .await
            .expect("ReadyForService");
        started.elapsed()
    };
    let (took, ()) = tokio::join!(to_ready, device_record);
    let _ = client
        .send(
            v2020::SignOutGroup::new(instance.to_owned())
                .user_id(user)
                .device_id(device),
        )
        .await;
    phone.shutdown().await;
    drop(link);
    took
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let agents = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1);
        run_child(agents);
        return;
    }
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(options));
}

async fn run(options: Options) {
    let mut child: Child = Command::new(std::env::current_exe().expect("this binary"))
        .args(["--child", &(options.agents + 2 * options.quiet).to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the emulator child starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("its info");
    let info: Value = serde_json::from_str(&line).expect("its info as JSON");
    let text = |key: &str| info[key].as_str().unwrap_or_default().to_owned();
    let sip = info["sip_ws_url"].is_string();
    let credentials = Credentials::new(text("access_key_id"), text("access_key_secret"));
    let direct = Direct::builder(credentials)
        .endpoint(text("api_url"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a transport");
    // One client for all agents, as a program with many agents would share it.
    let client = Client::new(direct);
    let instance = text("instance_id");

    // One OpenAPI round trip on loopback, the unit of the register target: measured
    // before and between the quiet registrations, under the same load as they are.
    let mut rtts = Vec::new();
    for _ in 0..20 {
        rtts.push(round_trip(&client, &instance).await);
    }

    let config = Config::builder(instance.clone(), true)
        .after_call_rule_seconds(0)
        .build()
        .expect("a config");

    // Quiet: one at a time, the workbench beside the same platform work by hand.
    let mut quiet_wb = Vec::new();
    let mut quiet_hand = Vec::new();
    let mut quiet_all = Vec::new();
    if sip {
        let links = Links {
            sip: text("sip_ws_url"),
            domain: text("sip_domain"),
            agent_link: text("agent_server_url"),
        };
        for k in 0..options.quiet {
            let i = options.agents + 2 * k;
            for _ in 0..5 {
                rtts.push(round_trip(&client, &instance).await);
            }
            quiet_hand.push(by_hand(&client, &instance, &links, i + 1, false).await);
            quiet_all.push(by_hand(&client, &instance, &links, i + 1, true).await);
            let wb = Workbench::builder(config.clone(), client.clone(), user(i))
                .without_local_lock()
                .build()
                .await
                .expect("a workbench");
            let started = Instant::now();
            wb.register(None, "default")
                .await
                .unwrap_or_else(|e| panic!("{}: register: {e}", user(i)));
            quiet_wb.push(started.elapsed());
            let _ = wb.shutdown().await;
        }
    }
    quiet_wb.sort();
    quiet_hand.sort();
    quiet_all.sort();
    rtts.sort();
    let rtt = percentile(&rtts, 0.5);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let before = rss_bytes();
    let heap_before = live_bytes();
    let mut workbenches = Vec::with_capacity(options.agents);
    let mut streams = Vec::with_capacity(options.agents);
    for i in 0..options.agents {
        let builder = Workbench::builder(config.clone(), client.clone(), user(i))
            .sip_device(sip)
            .without_local_lock()
            .register_timeout(Duration::from_secs(60));
        let wb = builder.build().await.expect("a workbench");
        streams.push(wb.events());
        workbenches.push(wb);
    }
    let heap_built = live_bytes();
    let built = rss_bytes();
    let workbenches = Arc::new(workbenches);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.parallel));
    let register = |range: std::ops::Range<usize>| {
        let tasks: Vec<_> = range
            .map(|i| {
                let wbs = Arc::clone(&workbenches);
                let permits = Arc::clone(&semaphore);
                tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await.expect("a permit");
                    let started = Instant::now();
                    wbs[i]
                        .register(None, "default")
                        .await
                        .unwrap_or_else(|e| panic!("{}: register: {e}", user(i)));
                    started.elapsed()
                })
            })
            .collect();
        async move {
            let mut took = Vec::new();
            for task in tasks {
                took.push(task.await.expect("the register task"));
            }
            took
        }
    };
    // In two halves: what the second half adds is each agent's own memory, apart from
    // what the shared client's connection pool holds (sized by the concurrency).
    let half = options.agents / 2;
    let started_all = Instant::now();
    let mut registers = register(0..half).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mid = rss_bytes();
    let heap_mid = live_bytes();
    registers.extend(register(half..options.agents).await);
    let all_registered = started_all.elapsed();
    registers.sort();
    for wb in workbenches.iter() {
        assert_eq!(wb.status_now().code, Status::Ready);
    }
    // Idle a moment with every link up, then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_bytes();
    let heap_after = live_bytes();
    let second = u64::try_from(options.agents - half).unwrap_or(1).max(1);
    #[allow(clippy::cast_precision_loss)]
    let per = |bytes: i64| bytes as f64 / 1024.0 / options.agents as f64;
    #[allow(clippy::cast_precision_loss)]
    let per_second = |bytes: i64| bytes as f64 / 1024.0 / second as f64;
    let signed = |b: u64| i64::try_from(b).unwrap_or(i64::MAX);
    // Each agent: its workbench (built before any register), and what registering it adds.
    let resident = per(signed(built) - signed(before)) + per_second(signed(after) - signed(mid));
    let heap = per(heap_built - heap_before) + per_second(heap_after - heap_mid);

    // Offer to onCallComing: one call at a time, to whichever agent it is offered.
    let (coming_tx, mut coming) = tokio::sync::mpsc::unbounded_channel();
    for mut stream in streams {
        let tx = coming_tx.clone();
        tokio::spawn(async move {
            while let Some(event) = stream.recv().await {
                if matches!(event, Event::CallComing(_)) && tx.send(Instant::now()).is_err() {
                    break;
                }
            }
        });
    }
    let mut offers = Vec::new();
    let mut admin_requests = Vec::new();
    let admin = text("admin_url");
    let token = text("admin_token");
    for c in 0..options.calls {
        let caller = format!("1390000{c:04}");
        // The offer happens while the admin request is served: from its start to the
        // event is an upper bound of the offer's latency.
        let placed = Instant::now();
        let took = place_call(&admin, &token, &caller).await;
        let at = tokio::time::timeout(Duration::from_secs(10), coming.recv())
            .await
            .expect("onCallComing within 10 s")
            .expect("an agent's events");
        offers.push(at.saturating_duration_since(placed));
        admin_requests.push(took);
        // Give the call back: the agent who got it answers and hangs up.
        for wb in workbenches.iter() {
            if wb.status_now().code == Status::Ringing {
                let _ = wb.answer().await;
                let _ = wb.hang_up().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    offers.sort();
    admin_requests.sort();

    println!(
        "workbench_load: load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "workbench_load: {} agents ({} links each: OpenAPI, agent link{}), {} at a time",
        options.agents,
        if sip { 3 } else { 2 },
        if sip {
            ", SIP"
        } else {
            "; this emulator serves no SIP"
        },
        options.parallel
    );
    let excess = (!quiet_wb.is_empty()).then(|| {
        let wb = ms(percentile(&quiet_wb, 0.5));
        let all = ms(percentile(&quiet_all, 0.5));
        let hand = ms(percentile(&quiet_hand, 0.5));
        println!(
            "  quiet register -> ready, one at a time ({} each): workbench median {wb:.2} ms (p99 {:.2})",
            quiet_wb.len(),
            ms(percentile(&quiet_wb, 0.99)),
        );
        println!(
            "    the same requests by hand (RequestLoginInfo, GetLoginDetails, ListConfig; then SIP REGISTER with its digest, the agent link's upgrade and first frame, ListSkillGroupsOfUser, ListOutboundPhoneNumberOfUser, GetTURNServerList, GetTURNCredentials; then SignInGroup beside AddAgentDevice; then ReadyForService): median {all:.2} ms (p99 {:.2})",
            ms(percentile(&quiet_all, 0.99)),
        );
        println!(
            "    the sign-in's minimum by hand (RequestLoginInfo; SIP and the agent link; SignInGroup; ReadyForService): median {hand:.2} ms (p99 {:.2})",
            ms(percentile(&quiet_hand, 0.99)),
        );
        let rtt_ms = ms(rtt).max(0.001);
        println!(
            "    the workbench adds {:.2} ms to the same requests = {:.1} loopback round trips of {:.3} ms (target <= 3); {:.2} ms = {:.1} round trips to the minimum",
            wb - all,
            (wb - all) / rtt_ms,
            rtt_ms,
            wb - hand,
            (wb - hand) / rtt_ms,
        );
        (wb, ms(percentile(&quiet_wb, 0.99)), (wb - all) / rtt_ms)
    });
    println!(
        "  register -> ready: median {:.1} ms, p99 {:.1} ms, max {:.1} ms; all in {:.2} s",
        ms(percentile(&registers, 0.5)),
        ms(percentile(&registers, 0.99)),
        ms(*registers.last().unwrap_or(&Duration::ZERO)),
        all_registered.as_secs_f64()
    );
    println!(
        "  one OpenAPI round trip (PollUserStatus, loopback): median {:.3} ms over {} (p99 {:.3})",
        ms(rtt),
        rtts.len(),
        ms(percentile(&rtts, 0.99)),
    );
    println!(
        "  idle memory per registered agent: {resident:.1} KiB resident, {heap:.1} KiB live heap ({:.1} KiB of it the workbench before register; registering measured on the second {second} agents)",
        per(heap_built - heap_before),
    );
    println!(
        "  the whole process: RSS {:.1} -> {:.1} MiB for {} agents ({:.1} KiB each, the shared client's connections included)",
        before as f64 / (1024.0 * 1024.0),
        after as f64 / (1024.0 * 1024.0),
        options.agents,
        per(i64::try_from(after.saturating_sub(before)).unwrap_or(0)),
    );
    if !offers.is_empty() {
        println!(
            "  offer -> onCallComing: median {:.2} ms, p99 {:.2} ms over {} calls, counted from the start of the admin request that places the call (which itself takes a median {:.2} ms)",
            ms(percentile(&offers, 0.5)),
            ms(percentile(&offers, 0.99)),
            offers.len(),
            ms(percentile(&admin_requests, 0.5)),
        );
    }
    // The issue's three targets side by side.
    println!("  summary (target):");
    if let Some((median, p99, rtts)) = excess {
        println!(
            "    register -> Ready, quiet: median {median:.2} ms, p99 {p99:.2} ms; {rtts:.1} round trips over the same requests by hand (<= 3)"
        );
    }
    println!(
        "    register -> Ready, {} at a time: median {:.1} ms, p99 {:.1} ms",
        options.parallel,
        ms(percentile(&registers, 0.5)),
        ms(percentile(&registers, 0.99)),
    );
    println!(
        "    idle agent, three links up: {resident:.1} KiB resident, {heap:.1} KiB live heap (<= 64 KiB)"
    );
    if !offers.is_empty() {
        println!(
            "    offer -> onCallComing: median {:.2} ms, p99 {:.2} ms (<= 5 ms)",
            ms(percentile(&offers, 0.5)),
            ms(percentile(&offers, 0.99)),
        );
    }
    if !options.full {
        // The smoke run under `cargo test`: everything settled.
        assert_eq!(registers.len(), options.agents);
        assert_eq!(offers.len(), options.calls);
    }
    for wb in workbenches.iter() {
        let _ = wb.clone().shutdown().await;
    }
    drop(child.stdin.take());
    let _ = child.wait();
}
