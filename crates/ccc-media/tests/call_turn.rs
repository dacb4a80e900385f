//! Two ccc-media peers call each other relay-only through a real coturn on 127.0.0.1
//! (relaying only to 127.0.0.1): both tones cross, RFC 4733 digits arrive in order,
//! hold silences both ways and unhold brings the audio back, the recording holds the
//! agent's tone on the left and the far end's on the right.

mod common;

use std::time::Duration;

use ccc_media::call::{CallConfig, DtmfMode, IcePolicy, IceServer, MediaEvent};
use ccc_media::codec::Codec;
use ccc_media::dsp::dominant_tone;
use ccc_testpeers::{Coturn, TurnAuth};
use common::{Peer, connect, connected, delay_proxy, listen, peer, wait_for};

const TONES: [f64; 4] = [440.0, 700.0, 1000.0, 1400.0];

fn coturn() -> Option<Coturn> {
    Coturn::start(
        TurnAuth::Static {
            user: "agent".into(),
            password: "secret-1".into(),
        },
        "ccc.test",
    )
    .expect("coturn")
}

fn relay_config(turn: &Coturn, codecs: &[Codec]) -> CallConfig {
    CallConfig {
        ice_servers: vec![IceServer::turn(turn.turn_url(), "agent", "secret-1")],
        ice_policy: IcePolicy::RelayOnly,
        codecs: codecs.to_vec(),
        ..CallConfig::loopback()
    }
}

fn tone_of(heard: &(u32, Vec<i16>)) -> Option<f64> {
    let (rate, samples) = heard;
    dominant_tone(&samples[samples.len() / 3..], *rate, &TONES)
}

async fn digits(peer: &mut Peer, count: usize) -> String {
    let mut out = String::new();
    while out.len() < count {
        match wait_for(&mut peer.events, Duration::from_secs(5), |e| {
            matches!(e, MediaEvent::Dtmf { .. })
        })
        .await
        {
            Ok(MediaEvent::Dtmf { digit }) => out.push(digit),
            other => panic!("digits so far {out:?}, then {other:?}"),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_tones_dtmf_hold_and_recording() {
    let Some(turn) = coturn() else { return };
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("agent.wav");
    let mut agent_config = relay_config(&turn, &Codec::ALL);
    agent_config.recording = Some(recording.clone());
    let mut agent = peer(agent_config, 440.0).await;
    let mut customer = peer(relay_config(&turn, &Codec::ALL), 1000.0).await;

    connect(&agent, &customer).await;
    let after = connected(&mut agent).await;
    connected(&mut customer).await;
    eprintln!("relay-only call connected after {after:?}");
    let offer_sdp_relay = agent.session.dtmf_mode();
    assert_eq!(
        offer_sdp_relay,
        Some(DtmfMode::Rfc4733 {
            payload_type: 101,
            clock_rate: 8000
        }),
        "telephone-event/8000 beside Opus"
    );

    assert_eq!(
        tone_of(&listen(&mut agent, 600).await),
        Some(1000.0),
        "{}",
        turn.log_tail()
    );
    assert_eq!(tone_of(&listen(&mut customer, 600).await), Some(440.0));

    // DTMF both ways, in order.
    let mode = agent.session.send_dtmf("159#").await.unwrap();
    assert!(matches!(mode, DtmfMode::Rfc4733 { .. }));
    assert_eq!(digits(&mut customer, 4).await, "159#");
    customer.session.send_dtmf("*0D").await.unwrap();
    assert_eq!(digits(&mut agent, 3).await, "*0D");

    // Hold: the re-INVITE's offer is sendonly, the answer recvonly; no audio either way.
    let hold = agent.session.hold().await.unwrap();
    assert!(hold.contains("a=sendonly"), "{hold}");
    let answer = customer.session.answer(&hold).await.unwrap();
    assert!(answer.contains("a=recvonly"), "{answer}");
    agent.session.set_remote(&answer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        tone_of(&listen(&mut agent, 500).await),
        None,
        "silence on hold"
    );
    assert_eq!(
        tone_of(&listen(&mut customer, 500).await),
        None,
        "silence on hold"
    );

    // Unhold: the audio is back both ways.
    let unhold = agent.session.unhold().await.unwrap();
    assert!(unhold.contains("a=sendrecv"), "{unhold}");
    let answer = customer.session.answer(&unhold).await.unwrap();
    agent.session.set_remote(&answer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tone_of(&listen(&mut agent, 600).await), Some(1000.0));
    assert_eq!(tone_of(&listen(&mut customer, 600).await), Some(440.0));

    // Hang up: the recording is closed and holds both parties, each on its side.
    agent.session.close().await.unwrap();
    customer.session.close().await.unwrap();
    let mut reader = hound::WavReader::open(&recording).unwrap();
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 16_000));
    let all: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = all.iter().step_by(2).copied().collect();
    let right: Vec<i16> = all.iter().skip(1).step_by(2).copied().collect();
    assert!(
        left.len() > 16_000 * 2,
        "seconds of call recorded: {}",
        left.len()
    );
    // The last 0.4 s (after unhold).
    let tail = |c: &[i16]| c[c.len() - 6400..].to_vec();
    assert_eq!(
        dominant_tone(&tail(&left), 16_000, &TONES),
        Some(440.0),
        "agent left"
    );
    assert_eq!(
        dominant_tone(&tail(&right), 16_000, &TONES),
        Some(1000.0),
        "remote right"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_pcmu_call_negotiates_8khz_dtmf() {
    let Some(turn) = coturn() else { return };
    let mut a = peer(relay_config(&turn, &[Codec::Pcmu]), 700.0).await;
    let mut b = peer(relay_config(&turn, &[Codec::Pcmu, Codec::Pcma]), 1400.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;
    assert_eq!(
        a.session.dtmf_mode(),
        Some(DtmfMode::Rfc4733 {
            payload_type: 101,
            clock_rate: 8000
        })
    );
    assert_eq!(tone_of(&listen(&mut a, 600).await), Some(1400.0));
    assert_eq!(tone_of(&listen(&mut b, 600).await), Some(700.0));
    a.session.send_dtmf("42").await.unwrap();
    assert_eq!(digits(&mut b, 2).await, "42");
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opus_offer_to_a_g711_only_peer_falls_back_with_dtmf() {
    let Some(turn) = coturn() else { return };
    let mut a = peer(relay_config(&turn, &Codec::ALL), 700.0).await;
    let mut b = peer(relay_config(&turn, &[Codec::Pcma]), 1400.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;
    eprintln!(
        "a: {:?}, b: {:?}",
        a.session.dtmf_mode(),
        b.session.dtmf_mode()
    );
    assert_eq!(tone_of(&listen(&mut a, 600).await), Some(1400.0));
    assert_eq!(tone_of(&listen(&mut b, 600).await), Some(700.0));
    a.session.send_dtmf("7").await.unwrap();
    b.session.send_dtmf("3").await.unwrap();
    assert_eq!(digits(&mut b, 1).await, "7");
    assert_eq!(digits(&mut a, 1).await, "3");
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_time_shows_the_path_s_delay() {
    // The agent reaches coturn through a proxy holding every datagram 30 ms each way:
    // its RTP, and the far end's receiver reports, cross it, so RTCP's RTT (RFC 3550
    // 6.4.1, from our sender report's send time, LSR and DLSR) is 60 ms and a little.
    let Some(turn) = coturn() else { return };
    let delay = Duration::from_millis(30);
    let proxy = delay_proxy(turn.addr(), delay).await;
    let agent_config = CallConfig {
        ice_servers: vec![IceServer::turn(
            format!("turn:{proxy}?transport=udp"),
            "agent",
            "secret-1",
        )],
        stats_interval: Duration::from_millis(250),
        ..relay_config(&turn, &[Codec::Pcmu])
    };
    let mut agent = peer(agent_config, 440.0).await;
    let mut customer = peer(relay_config(&turn, &[Codec::Pcmu]), 1000.0).await;
    connect(&agent, &customer).await;
    connected(&mut agent).await;
    connected(&mut customer).await;
    let stats = match wait_for(
        &mut agent.events,
        Duration::from_secs(8),
        |e| matches!(e, MediaEvent::Stats(s) if s.rtt_ms.is_some()),
    )
    .await
    {
        Ok(MediaEvent::Stats(s)) => s,
        other => panic!("no RTT: {other:?}"),
    };
    let rtt = stats.rtt_ms.unwrap();
    eprintln!("RTT {rtt:.1} ms, MOS {:.2}", stats.mos);
    assert!(
        (60.0..100.0).contains(&rtt),
        "RTT {rtt} ms over a 2 x 30 ms path"
    );
    agent.session.close().await.unwrap();
    customer.session.close().await.unwrap();
}
