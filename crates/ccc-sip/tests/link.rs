//! The self-keeping SIP link: against Kamailio stopped and started again, against a
//! peer that goes silent, and with sends while down.

use std::time::Duration;

use ccc_sip::link::{DownReason, Link, LinkConfig, LinkError, LinkEvent};
use ccc_sip::transport::{WsConnect, WsFlow, WsLimits};
use ccc_testpeers::{Kamailio, KamailioConfig};
use tokio::net::TcpListener;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

async fn next(link: &mut Link) -> LinkEvent {
    timeout(WAIT, link.next_event())
        .await
        .expect("an event within 10 s")
        .expect("the link runs")
}

fn options(n: u32) -> String {
    format!(
        "OPTIONS sip:ccc.test SIP/2.0\r\nVia: SIP/2.0/WS link.invalid;branch=z9hG4bK-link-{n}\r\n\
         From: <sip:1001@ccc.test>;tag=l{n}\r\nTo: <sip:ccc.test>\r\nCall-ID: link-{n}\r\n\
         CSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

async fn expect_answer(link: &mut Link) {
    loop {
        if let LinkEvent::Message(bytes) = next(link).await {
            assert!(
                bytes.starts_with(b"SIP/2.0 200"),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_kamailio_restarts() {
    let Some(mut kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut config = LinkConfig::new(WsConnect::new(kam.ws_url()));
    config.min_backoff = Duration::from_millis(50);
    config.max_backoff = Duration::from_millis(200);
    let mut link = Link::spawn(config);
    assert!(matches!(next(&mut link).await, LinkEvent::Connected { .. }));
    link.send(options(1)).await.expect("sent");
    expect_answer(&mut link).await;

    kam.stop();
    let down = next(&mut link).await;
    assert!(
        matches!(
            down,
            LinkEvent::Disconnected(DownReason::Closed | DownReason::Failed(_))
        ),
        "{down:?}"
    );
    // While Kamailio is away: attempts fail and are reported, sends are refused.
    let failed = next(&mut link).await;
    assert!(
        matches!(failed, LinkEvent::ConnectFailed { .. }),
        "{failed:?}"
    );
    assert!(matches!(link.send(options(2)).await, Err(LinkError::Down)));

    kam.restart().expect("Kamailio starts again");
    loop {
        match next(&mut link).await {
            LinkEvent::Connected { peer, .. } => {
                assert_eq!(peer.port(), kam.ws_port());
                break;
            }
            LinkEvent::ConnectFailed { retry_in, .. } => {
                assert!(retry_in <= Duration::from_millis(300));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    link.send(options(3))
        .await
        .expect("sent after the reconnect");
    expect_answer(&mut link).await;
    timeout(WAIT, link.shutdown())
        .await
        .expect("shutdown settles");
}

#[tokio::test]
async fn a_silent_peer_is_declared_dead() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    // Accepts the WebSocket, then never reads (so never answers a ping).
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let flow = WsFlow::accept(tcp, WsLimits::default(), WAIT)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(flow);
    });
    let mut config = LinkConfig::new(WsConnect::new(url));
    config.keepalive = Duration::from_millis(50);
    config.dead_after = Duration::from_millis(300);
    let mut link = Link::spawn(config);
    assert!(matches!(next(&mut link).await, LinkEvent::Connected { .. }));
    let down = next(&mut link).await;
    assert!(
        matches!(down, LinkEvent::Disconnected(DownReason::Silent(d)) if d == Duration::from_millis(300)),
        "{down:?}"
    );
    link.shutdown().await;
    server.abort();
}

#[tokio::test]
async fn nothing_to_connect_to_is_reported_and_shutdown_still_settles() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = LinkConfig::new(WsConnect::new(format!("ws://127.0.0.1:{port}")));
    config.min_backoff = Duration::from_millis(20);
    let mut link = Link::spawn(config);
    for _ in 0..3 {
        assert!(matches!(
            next(&mut link).await,
            LinkEvent::ConnectFailed { .. }
        ));
    }
    assert!(matches!(link.send("x").await, Err(LinkError::Down)));
    timeout(WAIT, link.shutdown())
        .await
        .expect("shutdown settles");
}
