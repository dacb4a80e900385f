//! `media_setup`: call setup time, from the offerer's `offer()` to both peers reporting
//! `Connected` (ICE and DTLS-SRTP up), between two ccc-media peers in this process on
//! loopback: host candidates only, and relay-only through a coturn on 127.0.0.1.
//! Each case runs 25 calls one after another and prints min, median, p90 and max.
//!
//! Run: `cargo bench -p ccc-benches --bench media_setup` (needs coturn for the relay
//! cases; `scripts/install-test-deps` installs it).

use std::time::{Duration, Instant};

use ccc_media::audio::Silence;
use ccc_media::call::{
    CallAudio, CallConfig, ConnectProfile, Discard, HostCandidates, IcePolicy, IceServer,
    MediaEvent, MediaEvents, MediaSession,
};
use ccc_testpeers::{Coturn, TurnAuth};

/// Calls per case under `cargo bench`; `cargo test` (which runs bench targets without
/// `--bench`) makes two host-only calls, to keep the harness working.
fn calls() -> usize {
    if bench_mode() { 25 } else { 2 }
}

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

async fn connected(events: &mut MediaEvents) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(MediaEvent::Connected { .. })) => return Ok(()),
            Ok(Some(MediaEvent::Failed { reason })) => return Err(reason.to_string()),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Err("no Connected within 10 s".into()),
        }
    }
}

async fn one_call(config: &CallConfig) -> Result<Duration, String> {
    let session = |c: CallConfig| async move {
        MediaSession::new(c, CallAudio::new(Silence, Discard))
            .await
            .map_err(|e| e.to_string())
    };
    let (a, mut a_events) = session(config.clone()).await?;
    let (b, mut b_events) = session(config.clone()).await?;
    let t0 = Instant::now();
    let offer = a.offer().await.map_err(|e| e.to_string())?;
    let answer = b.answer(&offer).await.map_err(|e| e.to_string())?;
    a.set_remote(&answer).await.map_err(|e| e.to_string())?;
    let (ra, rb) = tokio::join!(connected(&mut a_events), connected(&mut b_events));
    let took = t0.elapsed();
    ra?;
    rb?;
    let _ = a.close().await;
    let _ = b.close().await;
    Ok(took)
}

fn report(name: &str, mut times: Vec<Duration>, failures: usize) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if times.is_empty() {
        println!("{name:<44} all {failures} calls failed");
        return;
    }
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<44} n={:<3} min {:>7.1} ms  median {:>7.1} ms  p90 {:>7.1} ms  max {:>7.1} ms  failures {failures}",
        times.len(),
        ms(times[0]),
        ms(at(0.5)),
        ms(at(0.9)),
        ms(times[times.len() - 1]),
    );
}

async fn case(name: &str, config: CallConfig) {
    let mut times = Vec::new();
    let mut failures = 0;
    for _ in 0..calls() {
        match one_call(&config).await {
            Ok(t) => times.push(t),
            Err(e) => {
                failures += 1;
                eprintln!("{name}: {e}");
            }
        }
    }
    report(name, times, failures);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let loopback = CallConfig {
        host_candidates: HostCandidates::Loopback,
        ..CallConfig::default()
    };
    case(
        "host-only, loopback profile",
        CallConfig {
            connect_profile: ConnectProfile::Loopback,
            ..loopback.clone()
        },
    )
    .await;
    if !bench_mode() {
        return;
    }
    case("host-only, production profile", loopback.clone()).await;
    let turn = Coturn::start(
        TurnAuth::Static {
            user: "bench".into(),
            password: "bench-pass".into(),
        },
        "ccc.bench",
    );
    let Ok(Some(turn)) = turn else {
        println!("relay cases skipped: coturn is not installed or did not start");
        return;
    };
    let relay = CallConfig {
        ice_servers: vec![IceServer::turn(turn.turn_url(), "bench", "bench-pass")],
        ice_policy: IcePolicy::RelayOnly,
        ..loopback
    };
    case(
        "relay-only (both), loopback profile",
        CallConfig {
            connect_profile: ConnectProfile::Loopback,
            ..relay.clone()
        },
    )
    .await;
    case("relay-only (both), production profile", relay).await;
}
