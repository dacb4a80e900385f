//! Our `SipServer` against independent peers: SIPp as an agent on a TCP connection
//! (digest computed by SIPp, its call answered by the server, held, INFO, hung up on by
//! the server), and SIPp behind Kamailio (the REGISTER relayed to the server over TCP,
//! then the server's INVITE relayed to a SIPp callee: hold, INFO, unhold, BYE).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ccc_sip::server::{
    Leg, ListenConfig, ServerConfig, ServerEvent, ServerEvents, SipServer, Transport,
};
use ccc_sip::ua::{EndReason, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig, Sipp, scenario_path};
use tokio::time::timeout;

mod common;
use common::{WAIT, assert_succeeded, finished, next_leg_event, next_server};

const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const HOLD: &[u8] = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n";
const UNHOLD: &[u8] = b"v=0\r\no=- 1 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

async fn start_server() -> (SipServer, ServerEvents) {
    let mut users = HashMap::new();
    users.insert("1001".to_owned(), "secret1001".to_owned());
    users.insert("1002".to_owned(), "secret1002".to_owned());
    let mut listen = ListenConfig::ws(SocketAddr::from(([127, 0, 0, 1], 0)));
    listen.tcp = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    SipServer::start(
        ServerConfig::new("ccc.test"),
        listen,
        Arc::new(users),
        0x5199,
    )
    .await
    .expect("the server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_registers_over_tcp_calls_in_is_held_and_hung_up_on() {
    let (server, mut events) = start_server().await;
    let tcp = server.tcp_addr().expect("TCP listener");
    let Some(sipp) = Sipp::start(
        &scenario_path("agent_tcp_register_call.xml"),
        tcp,
        &[
            "-t",
            "t1",
            "-s",
            "1001",
            "-au",
            "1001",
            "-ap",
            "secret1001",
            "-m",
            "1",
        ],
    )
    .expect("SIPp starts") else {
        return;
    };
    let (flow, transport) = next_server(&mut events, |e| match e {
        ServerEvent::FlowOpened {
            flow, transport, ..
        } => Some((flow, transport)),
        _ => None,
    })
    .await;
    assert_eq!(transport, Transport::Tcp);
    // SIPp's digest answer is checked by the server.
    let (registered, contact) = loop {
        match timeout(WAIT, events.next_event()).await {
            Ok(Some(ServerEvent::Registered {
                flow, contact, aor, ..
            })) if aor == "sip:1001@ccc.test" => break (flow, contact),
            Ok(Some(_)) => {}
            _ => {
                let run = finished(sipp).await;
                panic!("no registration\nSIPp: {}\n{}", run.log, run.messages);
            }
        }
    };
    assert_eq!(registered, flow);
    assert!(contact.ends_with(";transport=tcp"), "{contact}");
    let (on, call) = match next_leg_event(&mut events).await {
        (
            on,
            UaEvent::IncomingCall {
                call, from, sdp, ..
            },
        ) => {
            assert!(from.contains("sip:1001@ccc.test"), "{from}");
            assert!(sdp.starts_with(b"v=0"));
            (on, call)
        }
        other => panic!("expected SIPp's call, got {other:?}"),
    };
    assert_eq!(on, flow);
    let leg = Leg { flow, call };
    assert!(server.ringing(leg).await);
    assert!(server.answer(leg, OFFER.to_vec()).await);
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallEstablished { call }
    );
    assert!(server.update(leg, HOLD.to_vec()).await, "hold");
    match next_leg_event(&mut events).await.1 {
        UaEvent::CallUpdated { sdp, .. } => {
            assert!(String::from_utf8_lossy(&sdp).contains("a=recvonly"));
        }
        other => panic!("expected the hold's answer, got {other:?}"),
    }
    assert!(
        server
            .send_info(
                leg,
                "application/dtmf-relay",
                b"Signal=1\r\nDuration=160\r\n".to_vec()
            )
            .await
    );
    // SIPp plays its scenario in order: a BYE that overtakes its answer to the INFO
    // would be unexpected to it (SIP itself allows both at once).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.hang_up(leg).await);
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(sipp).await;
    assert_succeeded(&run, None);
    assert!(run.messages.contains("Signal=1"), "the INFO reached SIPp");
    assert!(run.messages.contains("a=sendonly"), "the hold reached SIPp");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_kamailio_the_server_calls_a_sipp_callee() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let (server, mut events) = start_server().await;
    let tcp = server.tcp_addr().expect("TCP listener");
    // The callee: SIPp answering on its own UDP port.
    let Some(callee) = Sipp::start(
        &scenario_path("uas_hold_info.xml"),
        kam.udp_addr(),
        &["-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    // Another SIPp registers the callee's address at the server, through Kamailio,
    // which relays the REGISTER over TCP and keeps that connection: the binding's flow.
    let registrar = format!("sip:127.0.0.1:{};transport=tcp", tcp.port());
    let contact = format!("sip:1002@{}", callee.addr());
    let auth_uri = format!("127.0.0.1:{};transport=tcp", tcp.port());
    let Some(register) = Sipp::start(
        &scenario_path("register_elsewhere.xml"),
        kam.udp_addr(),
        &[
            "-s",
            "1002",
            "-au",
            "1002",
            "-ap",
            "secret1002",
            "-m",
            "1",
            "-set",
            "registrar",
            &registrar,
            "-set",
            "contact",
            &contact,
            "-auth_uri",
            &auth_uri,
        ],
    )
    .expect("SIPp starts") else {
        return;
    };
    let run = finished(register).await;
    assert_succeeded(&run, Some(&kam));
    let bound = next_server(&mut events, |e| match e {
        ServerEvent::Registered {
            flow,
            aor,
            contact: c,
            ..
        } if aor == "sip:1002@ccc.test" => Some((flow, c)),
        _ => None,
    })
    .await;
    assert_eq!(bound.1, contact);
    // The server calls 1002: over Kamailio's connection, relayed to the callee.
    let leg = server
        .invite(
            "sip:1002@ccc.test",
            "\"13800000000\" <sip:13800000000@customers.test>",
            OFFER.to_vec(),
        )
        .await
        .expect("1002 is registered");
    assert_eq!(leg.flow, bound.0);
    loop {
        match next_leg_event(&mut events).await.1 {
            UaEvent::CallProgress { code, .. } => assert_eq!(code, 180),
            UaEvent::CallAnswered { sdp, .. } => {
                assert!(String::from_utf8_lossy(&sdp).contains("a=sendrecv"));
                break;
            }
            other => panic!("unexpected {other:?}\n{}", kam.log_tail()),
        }
    }
    assert!(server.update(leg, HOLD.to_vec()).await, "hold");
    match next_leg_event(&mut events).await.1 {
        UaEvent::CallUpdated { sdp, .. } => {
            assert!(String::from_utf8_lossy(&sdp).contains("a=recvonly"));
        }
        other => panic!("expected the hold's answer, got {other:?}"),
    }
    assert!(
        server
            .send_info(
                leg,
                "application/dtmf-relay",
                b"Signal=5\r\nDuration=160\r\n".to_vec()
            )
            .await
    );
    // As above: SIPp takes the INFO's answer before the next request.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.update(leg, UNHOLD.to_vec()).await, "unhold");
    assert!(matches!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallUpdated { .. }
    ));
    assert!(server.hang_up(leg).await);
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(callee).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages.contains("Signal=5"),
        "the INFO reached the callee"
    );
    server.shutdown().await;
}
