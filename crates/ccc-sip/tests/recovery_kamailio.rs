//! A call through Kamailio outlives the agent's WebSocket flow (RFC 5626 flow recovery):
//! a test-side proxy in front of Kamailio's ws port cuts the connection mid-call; the
//! agent reconnects, registers again, and moves the dialog to the new flow with a
//! re-INVITE. Kamailio (its WebSocket NAT handling: `add_contact_alias` on the
//! re-INVITE's Contact, `handle_ruri_alias` on the way back) then routes the caller's
//! BYE over the new connection, the old one being gone.

use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{EndReason, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig, Sipp, scenario_path};

mod common;
use common::{CutProxy, assert_succeeded, finished, next_ua, quick_link, registered, user};

const ANSWER_SDP: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// The ports of the `alias=127.0.0.1~PORT~5` parameters Kamailio put in the Contacts
/// it relayed to SIPp, in order.
fn alias_ports(messages: &str) -> Vec<u16> {
    messages
        .match_indices("alias=127.0.0.1~")
        .filter_map(|(at, found)| {
            let rest = &messages[at + found.len()..];
            rest.split('~').next()?.parse().ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_survives_a_cut_flow_and_the_caller_s_bye_comes_over_the_new_one() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let proxy = CutProxy::start(([127, 0, 0, 1], kam.ws_port()).into()).await;
    let mut agent = registered(quick_link(WsConnect::new(proxy.ws_url())), user("1001"), 31).await;
    let Some(sipp) = Sipp::start(
        &scenario_path("uac_call_flow_recovery.xml"),
        kam.udp_addr(),
        &["-s", "1001", "-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let call = match next_ua(&mut agent).await {
        UaEvent::IncomingCall { call, .. } => call,
        other => panic!("expected a call, got {other:?}"),
    };
    assert!(agent.ringing(call).await);
    assert!(agent.answer(call, ANSWER_SDP.to_vec()).await);
    assert_eq!(next_ua(&mut agent).await, UaEvent::CallEstablished { call });

    proxy.cut();
    let mut seen = Vec::new();
    loop {
        let event = next_ua(&mut agent).await;
        let end = matches!(event, UaEvent::CallEnded { .. });
        seen.push(event);
        if end {
            break;
        }
    }
    let registered_at = seen
        .iter()
        .position(|e| matches!(e, UaEvent::Registered { .. }))
        .expect("registered again");
    assert_eq!(
        seen.iter()
            .position(|e| *e == UaEvent::CallRecovering { call }),
        Some(0),
        "{seen:?}"
    );
    let recovered_at = seen
        .iter()
        .position(|e| *e == UaEvent::CallRecovered { call })
        .expect("moved to the new flow");
    assert!(registered_at < recovered_at, "{seen:?}");
    assert_eq!(
        seen.last(),
        Some(&UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }),
        "the caller's BYE reached the agent: {seen:?}"
    );
    let run = finished(sipp).await;
    assert_succeeded(&run, Some(&kam));
    // Kamailio's alias in the 200 OK names the first connection, the one in the
    // re-INVITE the second.
    let ports = alias_ports(&run.messages);
    assert!(ports.len() >= 2, "{}", run.messages);
    assert_ne!(ports[0], ports[ports.len() - 1], "{ports:?}");
    agent.shutdown().await;
}
