//! `media_calls`: many concurrent calls between two local endpoints in this process
//! (host candidates on loopback, production ICE profile), each end playing a tone into
//! the other with 20 ms pacing, decoding and playing out what it hears. Reports the
//! CPU per call (whole process, both ends, over a 10 s steady window), the memory per
//! call (resident set growth over all calls), and the audio gaps: send ticks more than
//! a frame late, frames concealed, playout underruns, all summed over every end.
//!
//! Run: `cargo bench -p ccc-benches --bench media_calls` (100 Opus calls, then 300 PCMU
//! calls), or `cargo bench -p ccc-benches --bench media_calls -- CODEC CALLS [OPUS_COMPLEXITY]`
//! (`-- pcmu 50`, `-- opus 100 0`). The machine must be otherwise idle: other processes
//! take CPU from the calls, which then fall behind (the load average is printed).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccc_media::audio::Tone;
use ccc_media::call::{
    CallAudio, CallConfig, Discard, HostCandidates, MediaEvent, MediaEvents, MediaSession,
};
use ccc_media::codec::Codec;
use ccc_media::quality::CallStats;

/// The measured window under `cargo bench`; `cargo test` (which runs bench targets
/// without `--bench`) runs two PCMU calls for a short window, to keep the harness working.
fn window() -> Duration {
    if bench_mode() {
        Duration::from_secs(10)
    } else {
        Duration::from_millis(500)
    }
}

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// User plus system CPU time of this process, from /proc/self/stat (clock ticks of
/// 1/100 s on Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Resident set size in bytes, from /proc/self/statm.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

struct End {
    session: MediaSession,
    latest: Arc<Mutex<Option<CallStats>>>,
    connected: tokio::sync::watch::Receiver<bool>,
}

fn watch_events(
    mut events: MediaEvents,
) -> (
    Arc<Mutex<Option<CallStats>>>,
    tokio::sync::watch::Receiver<bool>,
) {
    let latest = Arc::new(Mutex::new(None));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let keep = Arc::clone(&latest);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                MediaEvent::Connected { .. } => {
                    let _ = tx.send(true);
                }
                MediaEvent::Stats(stats) => {
                    if let Ok(mut l) = keep.lock() {
                        *l = Some(stats);
                    }
                }
                _ => {}
            }
        }
    });
    (latest, rx)
}

async fn end(codec: Codec, tone: f64, complexity: Option<u8>) -> End {
    let mut config = CallConfig {
        host_candidates: HostCandidates::Loopback,
        codecs: vec![codec],
        ..CallConfig::default()
    };
    if let Some(c) = complexity {
        config.opus_complexity = c;
    }
    let (session, events) =
        MediaSession::new(config, CallAudio::new(Tone::new(tone, 0.3), Discard))
            .await
            .expect("session");
    let (latest, connected) = watch_events(events);
    End {
        session,
        latest,
        connected,
    }
}

async fn call(codec: Codec, complexity: Option<u8>) -> (End, End) {
    let a = end(codec, 440.0, complexity).await;
    let b = end(codec, 1000.0, complexity).await;
    let offer = a.session.offer().await.expect("offer");
    let answer = b.session.answer(&offer).await.expect("answer");
    a.session.set_remote(&answer).await.expect("set remote");
    (a, b)
}

#[derive(Default, Debug, Clone, Copy)]
struct Gaps {
    late_ticks: u64,
    concealed: u64,
    underruns: u64,
    received: u64,
}

fn gaps(ends: &[End]) -> Gaps {
    let mut g = Gaps::default();
    for end in ends {
        if let Ok(latest) = end.latest.lock()
            && let Some(s) = latest.as_ref()
        {
            g.late_ticks += s.late_ticks;
            g.concealed += s.concealed_frames;
            g.underruns += s.underruns;
            g.received += s.packets_received;
        }
    }
    g
}

/// The 1-minute load average: other work on the machine takes CPU from the calls.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_owned()
}

async fn run(codec: Codec, calls: usize, complexity: Option<u8>) {
    let load_before = load();
    let rss_before = rss();
    let started = Instant::now();
    let mut ends = Vec::with_capacity(calls * 2);
    for chunk in 0..calls.div_ceil(10) {
        let batch = (calls - chunk * 10).min(10);
        let made = futures_join(codec, batch, complexity).await;
        for (a, b) in made {
            ends.push(a);
            ends.push(b);
        }
    }
    let setup = started.elapsed();
    let mut failed = 0;
    for end in &mut ends {
        let wait =
            tokio::time::timeout(Duration::from_secs(15), end.connected.wait_for(|c| *c)).await;
        if !matches!(wait, Ok(Ok(_))) {
            failed += 1;
        }
    }
    // Warm up: jitter buffers filled, first stats out.
    tokio::time::sleep(if bench_mode() {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(300)
    })
    .await;
    let before = gaps(&ends);
    let (cpu0, t0) = (cpu_time(), Instant::now());
    tokio::time::sleep(window()).await;
    let (cpu1, t1) = (cpu_time(), Instant::now());
    // Let the last second's stats arrive.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = gaps(&ends);
    let rss_after = rss();
    let wall = (t1 - t0).as_secs_f64();
    let cpu = (cpu1 - cpu0).as_secs_f64() / wall;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
    let complexity = match (codec, complexity) {
        (Codec::Opus, Some(c)) => format!(" complexity {c}"),
        (Codec::Opus, None) => format!(" complexity {}", ccc_media::codec::opus::COMPLEXITY),
        _ => String::new(),
    };
    println!(
        "{codec:<5}{complexity} calls {calls:>4} (ends {:>4}, {failed} not connected, set up in {:.1} s): \
         CPU {:.1} % of one core = {:.1} % of {cores} cores, {:.3} % of a core per call; \
         memory {:.0} KiB per call; over {wall:.1} s: {} late ticks, {} concealed frames, \
         {} underruns, {} packets received; load average {load_before} before, {} after",
        ends.len(),
        setup.as_secs_f64(),
        cpu * 100.0,
        cpu * 100.0 / cores,
        cpu * 100.0 / calls as f64,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0 / calls as f64,
        after.late_ticks - before.late_ticks,
        after.concealed - before.concealed,
        after.underruns - before.underruns,
        after.received - before.received,
        load(),
    );
    for end in &ends {
        let _ = end.session.close().await;
    }
}

/// `batch` calls set up at once.
async fn futures_join(codec: Codec, batch: usize, complexity: Option<u8>) -> Vec<(End, End)> {
    let handles: Vec<_> = (0..batch)
        .map(|_| tokio::spawn(call(codec, complexity)))
        .collect();
    let mut out = Vec::with_capacity(batch);
    for h in handles {
        if let Ok(pair) = h.await {
            out.push(pair);
        }
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    match args.as_slice() {
        [codec, n, rest @ ..] => {
            let codec = match codec.as_str() {
                "opus" => Codec::Opus,
                "pcma" => Codec::Pcma,
                _ => Codec::Pcmu,
            };
            let complexity = rest.first().and_then(|c| c.parse().ok());
            run(codec, n.parse().unwrap_or(10), complexity).await;
        }
        _ if !bench_mode() => run(Codec::Pcmu, 2, None).await,
        _ => {
            run(Codec::Opus, 100, None).await;
            run(Codec::Pcmu, 300, None).await;
        }
    }
}
