//! Our `SipClient`s against our `SipServer` over real sockets (ws and wss): register with
//! digest, get called, answer, hold and unhold both ways, INFO both ways, BYE from each
//! side; a wrong password is refused; a closed flow drops its binding; a delayed flow
//! carries its messages late, a black-holed one goes silent until the client gives it up.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::LinkEvent;
use ccc_sip::server::{
    FlowFault, FlowId, Leg, ListenConfig, ServerConfig, ServerEvent, ServerEvents, SipServer,
    TlsIdentity, UnregisterReason,
};
use ccc_sip::transport::{TlsRoots, WsConnect};
use ccc_sip::ua::{CallHandle, EndReason, RegistrationError, UaEvent};
use ccc_testpeers::TestCa;
use tokio::time::timeout;

mod common;
use common::{WAIT, next_leg_event, next_server, next_ua, quick_link, user};

const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const HOLD: &[u8] = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
const UNHOLD: &[u8] = b"v=0\r\no=- 2 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const CUSTOMER: &str = "\"13800000000\" <sip:13800000000@ccc.test>";

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn start_server(ca: &TestCa) -> (SipServer, ServerEvents) {
    let mut users = HashMap::new();
    users.insert("1001".to_owned(), "secret1001".to_owned());
    users.insert("1002".to_owned(), "secret1002".to_owned());
    let mut listen = ListenConfig::ws(loopback());
    let identity = TlsIdentity::from_pem(&ca.leaf_pem, &ca.leaf_key_pem).expect("the test leaf");
    listen.wss = Some((loopback(), identity));
    SipServer::start(
        ServerConfig::new("ccc.test"),
        listen,
        Arc::new(users),
        0x5e4e,
    )
    .await
    .expect("the server starts")
}

fn client(url: String, ca: &TestCa, name: &str, password: &str) -> SipClient {
    let connect = WsConnect::new(url).with_roots(TlsRoots::Custom(vec![ca.ca_der.clone()]));
    let mut ua = user(name);
    ua.password = password.to_owned();
    SipClient::spawn(quick_link(connect), ua, u64::from(name.as_bytes()[3]))
}

async fn registered(events: &mut ServerEvents) -> FlowId {
    next_server(events, |e| match e {
        ServerEvent::Registered {
            flow,
            aor,
            refreshed: false,
            ..
        } if aor == "sip:1001@ccc.test" => Some(flow),
        _ => None,
    })
    .await
}

/// The server calls 1001; the agent answers. Returns the server's leg and the agent's call.
async fn answered_call(
    server: &SipServer,
    events: &mut ServerEvents,
    agent: &mut SipClient,
) -> (Leg, CallHandle) {
    let leg = server
        .invite("sip:1001@ccc.test", CUSTOMER, OFFER.to_vec())
        .await
        .expect("1001 is registered");
    let call = match next_ua(agent).await {
        UaEvent::IncomingCall {
            call, from, sdp, ..
        } => {
            assert!(from.contains("13800000000"), "{from}");
            assert_eq!(sdp, OFFER);
            call
        }
        other => panic!("expected the server's call, got {other:?}"),
    };
    assert!(agent.ringing(call).await);
    assert!(agent.answer(call, ANSWER.to_vec()).await);
    assert!(matches!(
        next_leg_event(events).await.1,
        UaEvent::CallProgress { code: 180, .. }
    ));
    assert_eq!(
        next_leg_event(events).await.1,
        UaEvent::CallAnswered {
            call: leg.call,
            sdp: ANSWER.to_vec()
        }
    );
    assert_eq!(next_ua(agent).await, UaEvent::CallEstablished { call });
    (leg, call)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_is_called_over_ws_holds_sends_dtmf_and_hangs_up_both_ways() {
    let ca = TestCa::new().expect("a test CA");
    let (server, mut events) = start_server(&ca).await;
    let mut agent = client(server.ws_url().unwrap(), &ca, "1001", "secret1001");
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::Registered { expires: 600 }
    ));
    let flow = registered(&mut events).await;
    let bindings = server.bindings("sip:1001@ccc.test").await;
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].flow, flow);
    assert!(bindings[0].contact.ends_with(".invalid;transport=ws"));

    let (leg, call) = answered_call(&server, &mut events, &mut agent).await;
    assert_eq!(leg.flow, flow);
    // Hold from the server.
    assert!(server.update(leg, HOLD.to_vec()).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallUpdate {
            call,
            sdp: HOLD.to_vec()
        }
    );
    assert!(agent.answer(call, ANSWER.to_vec()).await);
    assert!(matches!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallUpdated { .. }
    ));
    // Unhold from the agent.
    assert!(agent.update(call, UNHOLD.to_vec()).await);
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallUpdate {
            call: leg.call,
            sdp: UNHOLD.to_vec()
        }
    );
    assert!(server.answer(leg, OFFER.to_vec()).await);
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::CallUpdated { .. }
    ));
    // DTMF by INFO, both ways.
    assert!(
        agent
            .send_info(
                call,
                "application/dtmf-relay",
                b"Signal=5\r\nDuration=160\r\n".to_vec()
            )
            .await
    );
    assert!(matches!(
        next_leg_event(&mut events).await.1,
        UaEvent::Info { ref body, .. } if body.starts_with(b"Signal=5")
    ));
    assert!(
        server
            .send_info(leg, "application/dtmf-relay", b"Signal=9\r\n".to_vec())
            .await
    );
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::Info { ref body, .. } if body.starts_with(b"Signal=9")
    ));
    // The agent hangs up.
    assert!(agent.hang_up(call).await);
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::RemoteHangup
        }
    );
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }
    );
    // A second call: the server hangs up.
    let (leg, call) = answered_call(&server, &mut events, &mut agent).await;
    assert!(server.hang_up(leg).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }
    );
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::LocalHangup
        }
    );
    // The agent calls out through the server.
    let out = agent
        .invite("sip:13800000000@ccc.test", OFFER.to_vec())
        .await
        .unwrap();
    let (flow, theirs) = match next_leg_event(&mut events).await {
        (flow, UaEvent::IncomingCall { call, from, .. }) => {
            assert!(from.contains("sip:1001@ccc.test"));
            (flow, call)
        }
        other => panic!("expected the agent's call, got {other:?}"),
    };
    let leg = Leg { flow, call: theirs };
    assert!(server.reject(leg, 486, "Busy Here").await);
    loop {
        match next_ua(&mut agent).await {
            UaEvent::CallEnded { call, reason } => {
                assert_eq!(call, out);
                assert_eq!(reason, EndReason::Failed(486, "Busy Here".into()));
                break;
            }
            UaEvent::CallProgress { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // Shutdown unregisters.
    timeout(WAIT, agent.shutdown()).await.expect("settles");
    let reason = next_server(&mut events, |e| match e {
        ServerEvent::Unregistered { reason, .. } => Some(reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, UnregisterReason::Removed);
    timeout(WAIT, server.shutdown()).await.expect("settles");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_wss_a_closed_flow_drops_the_binding_until_the_client_is_back_with_its_call() {
    let ca = TestCa::new().expect("a test CA");
    let (server, mut events) = start_server(&ca).await;
    let mut agent = client(server.wss_url().unwrap(), &ca, "1001", "secret1001");
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::Registered { .. }
    ));
    let flow = registered(&mut events).await;
    assert!(
        server.bindings("sip:1001@ccc.test").await[0]
            .contact
            .contains(".invalid")
    );
    let (leg, call) = answered_call(&server, &mut events, &mut agent).await;
    // The server drops the flow (a lost SIP link): the binding goes, the call waits
    // for the agent.
    assert!(server.close_flow(flow).await);
    assert_eq!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallRecovering { call: leg.call }
    );
    let (gone, reason) = next_server(&mut events, |e| match e {
        ServerEvent::Unregistered { flow, reason, .. } => Some((flow, reason)),
        _ => None,
    })
    .await;
    assert_eq!((gone, reason), (flow, UnregisterReason::FlowClosed));
    // The agent sees the loss, comes back by itself on a new flow, and moves the call
    // to it with a re-INVITE.
    let mut seen = Vec::new();
    loop {
        let event = timeout(WAIT, agent.next_event())
            .await
            .expect("in time")
            .expect("running");
        match event {
            ClientEvent::Ua(UaEvent::CallRecovered { call: c }) => {
                assert_eq!(c, call);
                break;
            }
            ClientEvent::Ua(
                event @ (UaEvent::CallRecovering { .. }
                | UaEvent::Registered { .. }
                | UaEvent::RegistrationLost),
            ) => seen.push(event),
            ClientEvent::Link(LinkEvent::Disconnected(_) | LinkEvent::Connected { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        matches!(seen[..], [UaEvent::CallRecovering { call: c }, UaEvent::RegistrationLost, UaEvent::Registered { .. }] if c == call),
        "{seen:?}"
    );
    let again = registered(&mut events).await;
    assert_ne!(again, flow);
    // The leg, still named by the old flow, reaches the agent over the new one.
    assert!(server.hang_up(leg).await);
    assert_eq!(
        next_ua(&mut agent).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }
    );
    // The client drops its end: the binding goes with the flow.
    drop(agent);
    let reason = next_server(&mut events, |e| match e {
        ServerEvent::Unregistered { flow, reason, .. } if flow == again => Some(reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, UnregisterReason::FlowClosed);
    assert!(server.bindings("sip:1001@ccc.test").await.is_empty());
    assert!(matches!(
        server
            .invite("sip:1001@ccc.test", CUSTOMER, OFFER.to_vec())
            .await,
        Err(ccc_sip::server::ServerError::Invite(_))
    ));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused() {
    let ca = TestCa::new().expect("a test CA");
    let (server, mut events) = start_server(&ca).await;
    let mut agent = client(server.ws_url().unwrap(), &ca, "1001", "not-the-password");
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::RegistrationFailed(RegistrationError::WrongCredentials { realm }) if realm == "ccc.test"
    ));
    let code = next_server(&mut events, |e| match e {
        ServerEvent::RegistrationRefused { code, aor, .. } if aor == "sip:1001@ccc.test" => {
            Some(code)
        }
        _ => None,
    })
    .await;
    assert_eq!(code, 401);
    assert!(server.bindings("sip:1001@ccc.test").await.is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_flow_is_late_and_a_black_holed_one_goes_silent() {
    let ca = TestCa::new().expect("a test CA");
    let (server, mut events) = start_server(&ca).await;
    let mut link = quick_link(WsConnect::new(server.ws_url().unwrap()));
    link.keepalive = std::time::Duration::from_millis(100);
    link.dead_after = std::time::Duration::from_millis(600);
    let mut agent = SipClient::spawn(link, user("1001"), 11);
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::Registered { .. }
    ));
    let flow = registered(&mut events).await;

    // Delayed: the INVITE reaches the agent no sooner than the delay; its 180 comes
    // back no sooner than the delay again. The keep-alive still passes (late).
    let delay = std::time::Duration::from_millis(300);
    assert!(server.set_flow_fault(flow, FlowFault::Delay(delay)).await);
    let sent = tokio::time::Instant::now();
    let leg = server
        .invite("sip:1001@ccc.test", CUSTOMER, OFFER.to_vec())
        .await
        .expect("1001 is registered");
    let call = match next_ua(&mut agent).await {
        UaEvent::IncomingCall { call, .. } => call,
        other => panic!("expected the server's call, got {other:?}"),
    };
    assert!(
        sent.elapsed() >= delay,
        "the INVITE came after {:?}",
        sent.elapsed()
    );
    assert!(agent.ringing(call).await);
    assert!(matches!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallProgress { code: 180, .. }
    ));
    assert!(
        sent.elapsed() >= delay * 2,
        "the 180 came after {:?}",
        sent.elapsed()
    );
    assert!(server.set_flow_fault(flow, FlowFault::None).await);
    assert!(agent.reject(call, 486, "Busy Here").await);
    assert!(matches!(
        next_leg_event(&mut events).await.1,
        UaEvent::CallEnded { call: c, .. } if c == leg.call
    ));

    // Black-holed: nothing answers the agent's keep-alives; it declares the flow dead
    // after its own `dead_after`, and comes back on a new flow.
    assert!(server.set_flow_fault(flow, FlowFault::BlackHole).await);
    loop {
        let event = timeout(WAIT, agent.next_event())
            .await
            .expect("in time")
            .expect("running");
        if let ClientEvent::Link(LinkEvent::Disconnected(reason)) = event {
            assert!(
                matches!(reason, ccc_sip::link::DownReason::Silent(d) if d == std::time::Duration::from_millis(600)),
                "{reason:?}"
            );
            break;
        }
    }
    // Its binding moves to the new flow (the old one is still open on the server's
    // side, silent, until the server's idle limit).
    next_server(&mut events, |e| match e {
        ServerEvent::Registered { flow: f, .. } if f != flow => Some(()),
        _ => None,
    })
    .await;
    assert_ne!(server.bindings("sip:1001@ccc.test").await[0].flow, flow);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_shut_down_in_a_call_hangs_it_up_rather_than_leaving_it_waiting() {
    let ca = TestCa::new().expect("a test CA");
    let (server, mut events) = start_server(&ca).await;
    let mut agent = client(server.ws_url().unwrap(), &ca, "1001", "secret1001");
    assert!(matches!(
        next_ua(&mut agent).await,
        UaEvent::Registered { .. }
    ));
    registered(&mut events).await;
    let (leg, _) = answered_call(&server, &mut events, &mut agent).await;
    timeout(WAIT, agent.shutdown()).await.expect("settles");
    let ended = next_server(&mut events, |e| match e {
        ServerEvent::Ua {
            event: UaEvent::CallEnded { call, reason },
            ..
        } if call == leg.call => Some(reason),
        _ => None,
    })
    .await;
    assert_eq!(ended, EndReason::RemoteHangup, "the client's BYE");
    server.shutdown().await;
}
