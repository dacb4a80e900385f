//! Session timers (RFC 4028) asked for by a SIPp caller through Kamailio: our agent
//! refreshes when it is the refresher, refuses a too brief interval with 422, and ends
//! the call with a BYE when the caller, the refresher, lets the session expire. Short
//! intervals (our Min-SE lowered to 2 s) keep the tests quick.

use std::time::Duration;

use ccc_sip::client::SipClient;
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{EndReason, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig, Sipp, scenario_path};

mod common;
use common::{assert_succeeded, finished, next_ua, quick_link, registered, user};

const SDP: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

async fn agent(kam: &Kamailio, seed: u64) -> SipClient {
    let mut ua = user("1001");
    ua.min_session_expires = 2;
    registered(quick_link(WsConnect::new(kam.ws_url())), ua, seed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_agent_refreshes_the_session_the_caller_asked_it_to() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut x = agent(&kam, 41).await;
    let Some(caller) = Sipp::start(
        &scenario_path("uac_session_timer_refreshed.xml"),
        kam.udp_addr(),
        &["-s", "1001", "-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let call = match next_ua(&mut x).await {
        UaEvent::IncomingCall { call, .. } => call,
        other => panic!("expected the call, got {other:?}"),
    };
    assert!(x.answer(call, SDP.to_vec()).await);
    assert_eq!(next_ua(&mut x).await, UaEvent::CallEstablished { call });
    // The refresh (at 2 s) is no event; the caller's BYE after it is.
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }
    );
    let run = finished(caller).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages.contains("Session-Expires: 4;refresher=uas"),
        "the answer grants the timer as asked"
    );
    assert!(
        run.messages.contains("Session-Expires: 4;refresher=uac"),
        "the refresh says who refreshes"
    );
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_brief_interval_gets_422_and_an_unrefreshed_session_ends() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut x = agent(&kam, 42).await;
    let Some(caller) = Sipp::start(
        &scenario_path("uac_session_timer_expires.xml"),
        kam.udp_addr(),
        &["-s", "1001", "-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    // The 1 s ask is refused before it becomes a call; the 3 s one is the call.
    let call = match next_ua(&mut x).await {
        UaEvent::IncomingCall { call, .. } => call,
        other => panic!("expected the call, got {other:?}"),
    };
    assert!(x.answer(call, SDP.to_vec()).await);
    assert_eq!(next_ua(&mut x).await, UaEvent::CallEstablished { call });
    let established = std::time::Instant::now();
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::SessionExpired
        }
    );
    // 3 s less a third: not before 2 s.
    assert!(established.elapsed() >= Duration::from_millis(1900));
    let run = finished(caller).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages
            .contains("SIP/2.0 422 Session Interval Too Small")
    );
    assert!(run.messages.contains("Min-SE: 2"));
    assert!(run.messages.contains("Session-Expires: 3;refresher=uac"));
    assert!(run.messages.contains("Require: timer"));
    x.shutdown().await;
}
