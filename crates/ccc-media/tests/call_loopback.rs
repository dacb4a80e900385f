//! Two ccc-media peers call each other over loopback host candidates (no TURN).

mod common;

use ccc_media::call::CallConfig;
use ccc_media::dsp::dominant_tone;
use common::{connect, connected, listen, peer};

const TONES: [f64; 4] = [440.0, 700.0, 1000.0, 1400.0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_only_call_carries_both_tones() {
    let mut a = peer(CallConfig::loopback(), 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    let (after_a, after_b) = (connected(&mut a).await, connected(&mut b).await);
    eprintln!("connected after {after_a:?} / {after_b:?}");
    let (rate, heard_by_a) = listen(&mut a, 600).await;
    assert_eq!(
        dominant_tone(&heard_by_a[heard_by_a.len() / 2..], rate, &TONES),
        Some(1000.0)
    );
    let (rate, heard_by_b) = listen(&mut b, 600).await;
    assert_eq!(
        dominant_tone(&heard_by_b[heard_by_b.len() / 2..], rate, &TONES),
        Some(440.0)
    );
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}
