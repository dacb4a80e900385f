//! The SIP client registers to Kamailio over ws and wss, refreshes on the wire, says
//! clearly when the password is wrong, and comes back by itself after Kamailio restarts.

use ccc_sip::client::{ClientEvent, SipClient};

mod common;
use ccc_sip::link::{LinkConfig, LinkEvent};
use ccc_sip::transport::{TlsRoots, WsConnect};
use ccc_sip::ua::{RegistrationError, UaConfig, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig};
use common::{WAIT, next_ua, quick_link, user};
use tokio::time::timeout;

fn ua(password: &str) -> UaConfig {
    let mut ua = user("1001");
    ua.password = password.to_owned();
    ua
}

fn link(url: String) -> LinkConfig {
    quick_link(WsConnect::new(url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_over_ws_and_wss() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut plain = SipClient::spawn(link(kam.ws_url()), ua("secret1001"), 1);
    assert!(
        matches!(
            next_ua(&mut plain).await,
            UaEvent::Registered { expires: 600 }
        ),
        "{}",
        kam.log_tail()
    );
    timeout(WAIT, plain.shutdown())
        .await
        .expect("shutdown settles");

    let mut secure_link = link(kam.wss_url());
    secure_link.connect = secure_link
        .connect
        .with_roots(TlsRoots::Custom(vec![kam.ca_der().to_vec()]));
    let mut secure = SipClient::spawn(secure_link, ua("secret1001"), 2);
    assert!(matches!(
        next_ua(&mut secure).await,
        UaEvent::Registered { .. }
    ));
    timeout(WAIT, secure.shutdown())
        .await
        .expect("shutdown settles");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_clear_error() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut client = SipClient::spawn(link(kam.ws_url()), ua("wrong"), 3);
    let event = next_ua(&mut client).await;
    assert_eq!(
        event,
        UaEvent::RegistrationFailed(RegistrationError::WrongCredentials {
            realm: "ccc.test".into()
        })
    );
    assert!(event_text(&event).contains("refused the user or password"));
    client.shutdown().await;
}

fn event_text(event: &UaEvent) -> String {
    match event {
        UaEvent::RegistrationFailed(e) => e.to_string(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_and_survives_a_kamailio_restart() {
    let config = KamailioConfig {
        min_expires: 1,
        ..KamailioConfig::default()
    };
    let Some(mut kam) = Kamailio::start(config).expect("Kamailio starts") else {
        return;
    };
    let mut short = ua("secret1001");
    short.expires = 2;
    let mut client = SipClient::spawn(link(kam.ws_url()), short, 4);
    assert_eq!(
        next_ua(&mut client).await,
        UaEvent::Registered { expires: 2 }
    );
    // Refreshed a second later, on the wire, answered by Kamailio.
    assert_eq!(
        next_ua(&mut client).await,
        UaEvent::Registered { expires: 2 }
    );

    kam.stop();
    assert_eq!(next_ua(&mut client).await, UaEvent::RegistrationLost);
    kam.restart().expect("Kamailio comes back");
    // Reconnected and registered again, without being asked.
    loop {
        match timeout(WAIT, client.next_event())
            .await
            .expect("an event in time")
            .expect("running")
        {
            ClientEvent::Ua(UaEvent::Registered { expires }) => {
                assert_eq!(expires, 2);
                break;
            }
            ClientEvent::Link(LinkEvent::Connected { peer, .. }) => {
                assert_eq!(peer.port(), kam.ws_port());
            }
            ClientEvent::Ua(other) => panic!("unexpected {other:?}"),
            _ => {}
        }
    }
    timeout(WAIT, client.shutdown())
        .await
        .expect("shutdown settles");
}

/// Sends an OPTIONS for `sip:1001@ccc.test` to Kamailio over UDP, as another party would;
/// returns the status code of the final answer.
async fn options_to_1001(kam: &Kamailio, n: u32) -> u16 {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let request = format!(
        "OPTIONS sip:1001@ccc.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-opt-{n};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@ccc.test>;tag=p{n}\r\nTo: <sip:1001@ccc.test>\r\nCall-ID: probe-{n}-{port}\r\n\
         CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    socket
        .send_to(request.as_bytes(), kam.udp_addr())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = timeout(WAIT, socket.recv(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        let answer = ccc_sip::message::parse(&buf[..n]).expect("a SIP answer");
        if let Some(code) = answer.status().filter(|c| *c >= 200) {
            return code;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_routes_requests_to_the_registered_agent_until_it_unregisters() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    assert_eq!(options_to_1001(&kam, 1).await, 404, "not registered yet");
    let mut client = SipClient::spawn(link(kam.ws_url()), ua("secret1001"), 5);
    assert!(matches!(
        next_ua(&mut client).await,
        UaEvent::Registered { .. }
    ));
    // Through Kamailio, over our WebSocket, answered by our user agent.
    assert_eq!(options_to_1001(&kam, 2).await, 200, "{}", kam.log_tail());
    timeout(WAIT, client.shutdown())
        .await
        .expect("shutdown settles");
    assert_eq!(options_to_1001(&kam, 3).await, 404, "shutdown unregistered");
}
