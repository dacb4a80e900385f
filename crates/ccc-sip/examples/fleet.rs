//! A fleet of user agents registered from one process to a local Kamailio: resident
//! memory per idle registered agent, CPU per registration, time until all are
//! registered. A load run people start on purpose, not a test.
//!
//! Run: `cargo run --release -p ccc-sip --example fleet -- 1000`
//! (needs Debian's kamailio; scripts/install-test-deps installs it).

use std::time::{Duration, Instant};

use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::LinkConfig;
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{UaConfig, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig, SipUser};

/// Resident memory (from /proc) and CPU time (user + system) of this process.
fn rss_and_cpu() -> (u64, Duration) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF);
    let cpu = usage.map_or(Duration::ZERO, |u| {
        let micros = |t: nix::sys::time::TimeVal| {
            Duration::from_micros(u64::try_from(t.tv_sec() * 1_000_000 + t.tv_usec()).unwrap_or(0))
        };
        micros(u.user_time()) + micros(u.system_time())
    });
    (rss_kib * 1024, cpu)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let users: Vec<SipUser> = (0..count)
        .map(|i| SipUser::new(format!("u{i:05}"), format!("p{i:05}")))
        .collect();
    let config = KamailioConfig {
        users: users.clone(),
        shared_memory_mb: 512,
        private_memory_mb: 64,
        max_connections: u32::try_from(count).unwrap_or(u32::MAX).saturating_add(64),
        ..KamailioConfig::default()
    };
    let Some(kam) = Kamailio::start(config).expect("Kamailio starts") else {
        eprintln!("fleet: kamailio is not installed");
        std::process::exit(1);
    };
    let (rss_before, cpu_before) = rss_and_cpu();
    let start = Instant::now();
    let mut clients = Vec::with_capacity(count);
    for (i, user) in users.iter().enumerate() {
        let mut link = LinkConfig::new(WsConnect::new(kam.ws_url()));
        // Keep-alives far apart: the figures are for idle agents.
        link.keepalive = Duration::from_secs(30);
        link.dead_after = Duration::from_secs(90);
        let ua = UaConfig::new(
            user.user.clone(),
            user.password.clone(),
            "ccc.test",
            format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
        );
        clients.push(SipClient::spawn(link, ua, 0x5eed_0000 + i as u64));
    }
    let mut registered = 0;
    for client in &mut clients {
        loop {
            match tokio::time::timeout(Duration::from_secs(60), client.next_event()).await {
                Ok(Some(ClientEvent::Ua(UaEvent::Registered { .. }))) => {
                    registered += 1;
                    break;
                }
                Ok(Some(ClientEvent::Ua(UaEvent::RegistrationFailed(e)))) => {
                    eprintln!("fleet: a registration failed: {e}");
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    eprintln!("fleet: an agent gave no answer in 60 s");
                    break;
                }
            }
        }
    }
    let all_in = start.elapsed();
    let (_, cpu_after) = rss_and_cpu();
    // Let the allocator and the runtime settle, then read the idle figure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_idle, _) = rss_and_cpu();
    let per_agent = rss_idle.saturating_sub(rss_before) / count.max(1) as u64;
    let cpu = cpu_after.saturating_sub(cpu_before);
    println!(
        "fleet: {registered} of {count} agents registered over ws in {:.2} s",
        all_in.as_secs_f64()
    );
    println!(
        "fleet: resident memory per idle registered agent: {:.1} KiB",
        per_agent as f64 / 1024.0
    );
    println!(
        "fleet: CPU per registration (this process): {:.3} ms",
        cpu.as_secs_f64() * 1000.0 / count.max(1) as f64
    );
    for client in clients {
        drop(client);
    }
}
