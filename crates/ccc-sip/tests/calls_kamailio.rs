//! SIPp calls our registered user agent through Kamailio: it rings, we answer, the call
//! ends with a BYE from either side; and a CANCEL before the answer.

use std::time::Duration;

use ccc_sip::client::SipClient;
use ccc_sip::ua::{CallHandle, EndReason, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig, Sipp, scenario_path};

mod common;
use common::{assert_succeeded, finished, kamailio_agent, next_ua};

const ANSWER_SDP: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

async fn incoming(client: &mut SipClient) -> CallHandle {
    match next_ua(client).await {
        UaEvent::IncomingCall {
            call, from, sdp, ..
        } => {
            assert!(from.contains("13800000000"), "{from}");
            assert!(sdp.starts_with(b"v=0"), "the caller's offer");
            call
        }
        other => panic!("expected a call, got {other:?}"),
    }
}

fn start_sipp(kam: &Kamailio, scenario: &str) -> Option<Sipp> {
    start_sipp_with(kam, scenario, &[])
}

fn start_sipp_with(kam: &Kamailio, scenario: &str, extra: &[&str]) -> Option<Sipp> {
    let mut args = vec!["-s", "1001", "-m", "1"];
    args.extend_from_slice(extra);
    Sipp::start(&scenario_path(scenario), kam.udp_addr(), &args).expect("SIPp starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_then_the_caller_hangs_up() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 11).await;
    let Some(sipp) = start_sipp(&kam, "uac_call.xml") else {
        return;
    };
    let call = incoming(&mut agent).await;
    assert!(agent.ringing(call).await);
    assert!(agent.answer(call, ANSWER_SDP.to_vec()).await);
    assert_eq!(next_ua(&mut agent).await, UaEvent::CallEstablished { call });
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }
    );
    let run = finished(sipp).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages.contains("a=rtpmap:0 PCMU/8000"),
        "our SDP answer reached the caller"
    );
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_then_we_hang_up() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 12).await;
    let Some(sipp) = start_sipp(&kam, "uac_call_callee_hangs_up.xml") else {
        return;
    };
    let call = incoming(&mut agent).await;
    assert!(agent.answer(call, ANSWER_SDP.to_vec()).await);
    assert_eq!(next_ua(&mut agent).await, UaEvent::CallEstablished { call });
    assert!(agent.hang_up(call).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(sipp).await;
    assert_succeeded(&run, Some(&kam));
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_while_ringing() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 13).await;
    let Some(sipp) = start_sipp_with(
        &kam,
        "uac_cancel.xml",
        &["-default_behaviors", "all,-abortunexp"],
    ) else {
        return;
    };
    let call = incoming(&mut agent).await;
    assert!(agent.ringing(call).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::Cancelled
        }
    );
    let run = finished(sipp).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages.contains("SIP/2.0 487"),
        "the caller saw 487 Request Terminated"
    );
    agent.shutdown().await;
}

const HOLD_SDP: &[u8] = b"v=0\r\no=- 2 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_call_a_sipp_uas_hold_info_unhold_and_hang_up() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 14).await;
    // SIPp plays the callee on its own port; Kamailio relays there.
    let Some(uas) = Sipp::start(
        &scenario_path("uas_hold_info.xml"),
        kam.udp_addr(),
        &["-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let target = format!("sip:callee@{}", uas.addr());
    let call = agent
        .invite(target, ANSWER_SDP.to_vec())
        .await
        .expect("running");
    // Kamailio challenges the INVITE; the user agent answers the challenge by itself.
    let mut progress = Vec::new();
    let answer = loop {
        match next_ua(&mut agent).await {
            UaEvent::CallProgress { call: c, code, .. } if c == call => progress.push(code),
            UaEvent::CallAnswered { call: c, sdp } if c == call => break sdp,
            other => panic!("unexpected {other:?}\n{}", kam.log_tail()),
        }
    };
    assert_eq!(progress, [180]);
    assert!(String::from_utf8_lossy(&answer).contains("a=sendrecv"));

    assert!(agent.update(call, HOLD_SDP.to_vec()).await, "hold");
    match next_ua(&mut agent).await {
        UaEvent::CallUpdated { call: c, sdp } => {
            assert_eq!(c, call);
            assert!(String::from_utf8_lossy(&sdp).contains("a=recvonly"), "held");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        agent
            .send_info(
                call,
                "application/dtmf-relay",
                b"Signal=5\r\nDuration=160\r\n".to_vec()
            )
            .await
    );
    assert!(agent.update(call, ANSWER_SDP.to_vec()).await, "unhold");
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::CallUpdated { .. }
    ));
    assert!(agent.hang_up(call).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(uas).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages.contains("Signal=5"),
        "the INFO reached the callee"
    );
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_nobody_fails_clearly() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 15).await;
    let call = agent
        .invite("sip:nobody@ccc.test", ANSWER_SDP.to_vec())
        .await
        .expect("running");
    loop {
        match next_ua(&mut agent).await {
            UaEvent::CallEnded { call: c, reason } => {
                assert_eq!(c, call);
                assert_eq!(reason, EndReason::Failed(404, "Not Found".into()));
                break;
            }
            UaEvent::CallProgress { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_transfer_a_sipp_callee_by_refer() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 16).await;
    let Some(uas) = Sipp::start(
        &scenario_path("uas_refer.xml"),
        kam.udp_addr(),
        &["-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let call = agent
        .invite(format!("sip:callee@{}", uas.addr()), ANSWER_SDP.to_vec())
        .await
        .expect("running");
    loop {
        match next_ua(&mut agent).await {
            UaEvent::CallAnswered { .. } => break,
            UaEvent::CallProgress { .. } => {}
            other => panic!("unexpected {other:?}\n{}", kam.log_tail()),
        }
    }
    assert!(agent.refer(call, "sip:1002@ccc.test", None).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::TransferAccepted { call }
    );
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::TransferProgress { call, code: 200 }
    );
    assert!(agent.hang_up(call).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(uas).await;
    assert_succeeded(&run, Some(&kam));
    assert!(run.messages.contains("Refer-To: <sip:1002@ccc.test>"));
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_invite_refused_with_491_is_tried_again_after_the_random_wait() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut agent = kamailio_agent(&kam, "1001", 17).await;
    let Some(uas) = Sipp::start(
        &scenario_path("uas_glare.xml"),
        kam.udp_addr(),
        &["-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let call = agent
        .invite(format!("sip:callee@{}", uas.addr()), ANSWER_SDP.to_vec())
        .await
        .expect("running");
    loop {
        match next_ua(&mut agent).await {
            UaEvent::CallAnswered { .. } => break,
            UaEvent::CallProgress { .. } => {}
            other => panic!("unexpected {other:?}\n{}", kam.log_tail()),
        }
    }
    let asked = std::time::Instant::now();
    assert!(agent.update(call, HOLD_SDP.to_vec()).await);
    match next_ua(&mut agent).await {
        UaEvent::CallUpdated { call: c, sdp } => {
            assert_eq!(c, call);
            assert!(String::from_utf8_lossy(&sdp).contains("a=recvonly"));
        }
        other => panic!("expected the retry's answer, got {other:?}"),
    }
    // This side placed the call (it owns the Call-ID): the retry waited 2.1 s or more.
    assert!(asked.elapsed() >= Duration::from_millis(2100));
    assert!(agent.hang_up(call).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(uas).await;
    assert_succeeded(&run, Some(&kam));
    agent.shutdown().await;
}
