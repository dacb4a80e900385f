//! Two ccc-media peers call each other over loopback host candidates (no TURN).

mod common;

use std::time::Duration;

use ccc_media::call::{AnswerDtlsRole, CallConfig, DtmfMode, FailReason, MediaError, MediaEvent};
use ccc_media::dsp::{dominant_tone, level_dbfs};
use common::{connect, connected, listen, peer, wait_for};

const TONES: [f64; 4] = [440.0, 700.0, 1000.0, 1400.0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_only_call_carries_both_tones() {
    let mut a = peer(CallConfig::loopback(), 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    both_tones(&mut a, &mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answerer_may_take_either_dtls_role() {
    for (role, setup) in [
        (AnswerDtlsRole::Active, "a=setup:active"),
        (AnswerDtlsRole::Passive, "a=setup:passive"),
    ] {
        let mut a = peer(CallConfig::loopback(), 440.0).await;
        let config = CallConfig {
            answer_dtls_role: role,
            ..CallConfig::loopback()
        };
        let mut b = peer(config, 1000.0).await;
        let offer = a.session.offer().await.unwrap();
        assert!(offer.contains("a=setup:actpass"));
        let answer = b.session.answer(&offer).await.unwrap();
        assert!(answer.contains(setup), "{role:?}: {answer}");
        a.session.set_remote(&answer).await.unwrap();
        both_tones(&mut a, &mut b).await;
    }
}

async fn both_tones(a: &mut common::Peer, b: &mut common::Peer) {
    let (after_a, after_b) = (connected(a).await, connected(b).await);
    eprintln!("connected after {after_a:?} / {after_b:?}");
    let (rate, heard_by_a) = listen(a, 600).await;
    assert_eq!(
        dominant_tone(&heard_by_a[heard_by_a.len() / 2..], rate, &TONES),
        Some(1000.0)
    );
    let (rate, heard_by_b) = listen(b, 600).await;
    assert_eq!(
        dominant_tone(&heard_by_b[heard_by_b.len() / 2..], rate, &TONES),
        Some(440.0)
    );
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

fn tone(heard: &(u32, Vec<i16>)) -> Option<f64> {
    dominant_tone(&heard.1[heard.1.len() / 3..], heard.0, &TONES)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_volume_and_an_inactive_hold_from_the_far_end() {
    let mut a = peer(CallConfig::loopback(), 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;

    // Mute (M31): b hears silence from a, a still hears b.
    a.session.set_muted(true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(tone(&listen(&mut b, 400).await), None);
    assert_eq!(tone(&listen(&mut a, 400).await), Some(1000.0));
    a.session.set_muted(false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(tone(&listen(&mut b, 400).await), Some(440.0));

    // Volume (M30): half volume is 6 dB down; zero is silence.
    let full = level_dbfs(&listen(&mut a, 400).await.1[1600..]);
    a.session.set_volume(0.5).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let half = level_dbfs(&listen(&mut a, 400).await.1[1600..]);
    assert!(
        (full - half - 6.02).abs() < 0.5,
        "{full} dBFS then {half} dBFS"
    );
    a.session.set_volume(0.0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(listen(&mut a, 300).await.1.iter().all(|s| *s == 0));
    a.session.set_volume(1.0).await.unwrap();

    // b holds with a=inactive, as some SIP phones do: a answers inactive, nothing flows.
    let hold = b
        .session
        .hold()
        .await
        .unwrap()
        .replace("a=sendonly", "a=inactive");
    let answer = a.session.answer(&hold).await.unwrap();
    assert!(answer.contains("a=inactive"), "{answer}");
    b.session.set_remote(&answer).await.unwrap();
    assert!(matches!(
        wait_for(&mut a.events, Duration::from_secs(2), |e| matches!(
            e,
            MediaEvent::Direction { .. }
        ))
        .await,
        Ok(MediaEvent::Direction {
            sending: false,
            receiving: false
        })
    ));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(tone(&listen(&mut a, 400).await), None);
    assert_eq!(tone(&listen(&mut b, 400).await), None);
    // And back.
    let unhold = b.session.unhold().await.unwrap();
    let answer = a.session.answer(&unhold).await.unwrap();
    assert!(answer.contains("a=sendrecv"), "{answer}");
    b.session.set_remote(&answer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tone(&listen(&mut a, 500).await), Some(1000.0));
    assert_eq!(tone(&listen(&mut b, 500).await), Some(440.0));
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
    assert!(
        wait_for(&mut a.events, Duration::from_secs(1), |e| *e
            == MediaEvent::Ended)
        .await
        .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_restart_keeps_the_call() {
    // A gathering timeout far beyond the test's limits: the restart's offer and answer
    // must come as soon as the new gathering is complete, not when the timeout gives up
    // on it (webrtc-rs reports that gathering as Complete again, with no Gathering
    // between, which was not counted: each side waited out its whole timeout).
    let config = CallConfig {
        gathering_timeout: Duration::from_secs(60),
        ..CallConfig::loopback()
    };
    let mut a = peer(config.clone(), 440.0).await;
    let mut b = peer(config, 1000.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;
    let before = a.session.offer().await.unwrap();
    let limit = Duration::from_secs(10);
    let restart = tokio::time::timeout(limit, a.session.restart_ice())
        .await
        .expect("the restart offer does not wait out the gathering timeout")
        .unwrap();
    let ufrag = |sdp: &str| {
        sdp.lines()
            .find(|l| l.starts_with("a=ice-ufrag:"))
            .map(str::to_owned)
    };
    assert_ne!(ufrag(&before), ufrag(&restart), "fresh ICE credentials");
    assert!(
        restart.contains("a=candidate"),
        "candidates gathered again: {before}\n----\n{restart}"
    );
    // On new sockets: a restart is for a path that broke, and the old socket (or its
    // TURN allocation) may be what broke.
    let addresses = |sdp: &str| -> Vec<String> {
        sdp.lines()
            .filter(|l| l.starts_with("a=candidate:"))
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some(format!("{}:{}", f.get(4)?, f.get(5)?))
            })
            .collect()
    };
    let (old, new) = (addresses(&before), addresses(&restart));
    assert!(
        !new.is_empty() && new.iter().all(|a| !old.contains(a)),
        "{old:?} -> {new:?}"
    );
    // The pending offer before was never answered: roll it into this exchange.
    let answer = tokio::time::timeout(limit, b.session.answer(&restart))
        .await
        .expect("nor does the answer to it")
        .unwrap();
    assert!(answer.contains("a=candidate"), "{answer}");
    assert_ne!(ufrag(&answer), None);
    a.session.set_remote(&answer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tone(&listen(&mut a, 500).await), Some(1000.0));
    assert_eq!(tone(&listen(&mut b, 500).await), Some(440.0));
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_every_interval_with_rtt_and_kept_for_upload() {
    let config = CallConfig {
        stats_interval: Duration::from_millis(300),
        keep_stats: true,
        ..CallConfig::loopback()
    };
    let mut a = peer(config, 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;
    // RTCP reports go once a second: wait for an interval that has the RTT.
    let stats = match wait_for(
        &mut a.events,
        Duration::from_secs(5),
        |e| matches!(e, MediaEvent::Stats(s) if s.rtt_ms.is_some() && s.packets_received > 20),
    )
    .await
    {
        Ok(MediaEvent::Stats(s)) => s,
        other => panic!("no stats with RTT: {other:?}"),
    };
    let rtt = stats.rtt_ms.unwrap();
    assert!((0.0..50.0).contains(&rtt), "loopback RTT {rtt} ms");
    assert!(stats.packets_sent > 20 && stats.bytes_sent > 0);
    assert_eq!(stats.packets_lost, 0);
    assert!(stats.jitter_ms < 30.0);
    assert!(stats.mos > 4.0, "{stats:?}");
    assert!(
        stats.level_received_dbfs > -20.0 && stats.level_sent_dbfs > -20.0,
        "{stats:?}"
    );
    let json = serde_json::to_value(&stats).unwrap();
    assert!(json.get("rtt_ms").is_some() && json.get("mos").is_some());
    a.session.close().await.unwrap();
    let kept = a.session.kept_stats();
    assert!(kept.len() >= 3, "{}", kept.len());
    assert!(kept.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_telephone_event_dtmf_mode_is_sip_info() {
    let config = CallConfig {
        telephone_event: None,
        ..CallConfig::loopback()
    };
    let mut a = peer(config, 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    match wait_for(&mut a.events, Duration::from_secs(5), |e| {
        matches!(e, MediaEvent::Connected { .. })
    })
    .await
    {
        Ok(MediaEvent::Connected { dtmf, .. }) => assert_eq!(dtmf, DtmfMode::SipInfo),
        other => panic!("{other:?}"),
    }
    connected(&mut b).await;
    assert_eq!(a.session.send_dtmf("12").await.unwrap(), DtmfMode::SipInfo);
    assert_eq!(b.session.dtmf_mode(), Some(DtmfMode::SipInfo));
    assert!(matches!(
        a.session.send_dtmf("1x").await,
        Err(MediaError::Dtmf(_))
    ));
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_end_without_ice_times_out_cleanly() {
    let config = CallConfig {
        connect_timeout: Duration::from_millis(800),
        ..CallConfig::loopback()
    };
    let mut a = peer(config, 440.0).await;
    let b = peer(CallConfig::loopback(), 1000.0).await;
    let offer = a.session.offer().await.unwrap();
    let answer = b.session.answer(&offer).await.unwrap();
    // The answer of a plain SIP phone: its candidate points at a port nobody answers on.
    b.session.close().await.unwrap();
    a.session.set_remote(&answer).await.unwrap();
    let started = std::time::Instant::now();
    match wait_for(&mut a.events, Duration::from_secs(5), |e| {
        matches!(e, MediaEvent::Failed { .. })
    })
    .await
    {
        Ok(MediaEvent::Failed { reason }) => {
            assert!(
                matches!(
                    reason,
                    FailReason::ConnectTimeout(_) | FailReason::IceFailed
                ),
                "{reason}"
            );
            assert!(
                reason.to_string().contains("did not connect") || reason == FailReason::IceFailed
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    a.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sdp_is_an_error_not_a_panic() {
    let a = peer(CallConfig::loopback(), 440.0).await;
    for garbage in ["", "hello", "v=0\r\nm=audio x\r\n", "v=0\r\n\0\0\0"] {
        let result = a.session.answer(garbage).await;
        assert!(
            matches!(result, Err(MediaError::Sdp(_) | MediaError::WebRtc { .. })),
            "{garbage:?}: {result:?}"
        );
    }
    assert!(a.session.set_remote("nonsense").await.is_err());
    // Still usable after all that.
    assert!(a.session.offer().await.unwrap().contains("m=audio"));
    a.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_hold_offer_is_withdrawn_and_the_call_goes_on() {
    let mut a = peer(CallConfig::loopback(), 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;
    // The re-INVITE carrying the hold is refused (491): withdraw it.
    let _hold = a.session.hold().await.unwrap();
    a.session.cancel_offer().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tone(&listen(&mut a, 400).await), Some(1000.0));
    assert_eq!(tone(&listen(&mut b, 400).await), Some(440.0), "not on hold");
    // And a later offer/answer works as usual.
    let offer = a.session.offer().await.unwrap();
    assert!(offer.contains("a=sendrecv"), "{offer}");
    let answer = b.session.answer(&offer).await.unwrap();
    a.session.set_remote(&answer).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(tone(&listen(&mut b, 400).await), Some(440.0));
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_limit_timeouts_are_taken_as_no_limit() {
    // Duration::MAX for "never give up": Instant + Duration::MAX used to panic the
    // media task as soon as the remote description came.
    let config = CallConfig {
        connect_timeout: Duration::MAX,
        gathering_timeout: Duration::MAX,
        operation_timeout: Duration::MAX,
        stats_interval: Duration::MAX,
        ..CallConfig::loopback()
    };
    let mut a = peer(config, 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    connect(&a, &b).await;
    connected(&mut a).await;
    connected(&mut b).await;
    assert_eq!(tone(&listen(&mut a, 500).await), Some(1000.0));
    a.session.set_muted(true).await.unwrap();
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}
