//! The WebSocket flow against Kamailio (ws and wss) and against itself (the server side).

use std::time::Duration;

use bytes::Bytes;
use ccc_sip::transport::{Frame, TlsRoots, TransportError, WsConnect, WsFlow, WsLimits};
use ccc_testpeers::{Kamailio, KamailioConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn options(flow_local: std::net::SocketAddr) -> String {
    format!(
        "OPTIONS sip:ccc.test SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK-ws-{port};rport\r\n\
         From: <sip:1001@ccc.test>;tag=ws{port}\r\nTo: <sip:ccc.test>\r\nCall-ID: ws-options-{port}\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        port = flow_local.port()
    )
}

async fn exchange_options<S>(flow: &mut WsFlow<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    flow.send(options(flow.local_addr()))
        .await
        .expect("send OPTIONS");
    loop {
        match timeout(WAIT, flow.recv())
            .await
            .expect("an answer within 5 s")
            .expect("no error")
        {
            Some(Frame::Message(bytes)) => return String::from_utf8_lossy(&bytes).into_owned(),
            Some(_) => continue,
            None => panic!("closed"),
        }
    }
}

#[tokio::test]
async fn ws_and_wss_to_kamailio() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };

    let mut ws = WsFlow::connect(&WsConnect::new(kam.ws_url()))
        .await
        .expect("ws connects");
    assert_eq!(ws.peer_addr().port(), kam.ws_port());
    let answer = exchange_options(&mut ws).await;
    assert!(
        answer.starts_with("SIP/2.0 200"),
        "{answer}\n{}",
        kam.log_tail()
    );

    let how =
        WsConnect::new(kam.wss_url()).with_roots(TlsRoots::Custom(vec![kam.ca_der().to_vec()]));
    let mut wss = WsFlow::connect(&how)
        .await
        .expect("wss connects with the test CA");
    let answer = exchange_options(&mut wss).await;
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");

    // WebSocket ping, answered by Kamailio's WebSocket module.
    wss.ping().await.unwrap();
    let pong = timeout(WAIT, wss.recv())
        .await
        .expect("a pong within 5 s")
        .unwrap();
    assert_eq!(pong, Some(Frame::Pong));
    wss.close().await;
    ws.close().await;
}

#[tokio::test]
async fn wss_refuses_an_unknown_authority() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let other_ca = ccc_testpeers::TestCa::new().unwrap();
    let how = WsConnect::new(kam.wss_url()).with_roots(TlsRoots::Custom(vec![other_ca.ca_der]));
    let err = WsFlow::connect(&how)
        .await
        .expect_err("a certificate from another CA");
    assert!(matches!(err, TransportError::Tls(_)), "{err}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

/// A server flow and a client flow on 127.0.0.1.
async fn pair(limits: WsLimits) -> (WsFlow<TcpStream>, WsFlow) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        WsFlow::accept(tcp, limits, WAIT).await
    });
    let client = WsFlow::connect(&WsConnect::new(url))
        .await
        .expect("client connects");
    let server = server.await.unwrap().expect("server accepts");
    (server, client)
}

#[tokio::test]
async fn server_and_client_exchange_messages_and_keepalives() {
    let (mut server, mut client) = pair(WsLimits::default()).await;
    assert_eq!(server.peer_addr(), client.local_addr());
    client.send("INVITE sip:a@b SIP/2.0\r\n\r\n").await.unwrap();
    let got = timeout(WAIT, server.recv()).await.unwrap().unwrap();
    assert_eq!(
        got,
        Some(Frame::Message(Bytes::from_static(
            b"INVITE sip:a@b SIP/2.0\r\n\r\n"
        )))
    );
    // Not UTF-8: goes as a binary frame, arrives unchanged.
    server
        .send(Bytes::from_static(b"SIP/2.0 200 OK\r\n\r\n\xff"))
        .await
        .unwrap();
    let got = timeout(WAIT, client.recv()).await.unwrap().unwrap();
    assert_eq!(
        got,
        Some(Frame::Message(Bytes::from_static(
            b"SIP/2.0 200 OK\r\n\r\n\xff"
        )))
    );
    client.send_crlf_ping().await.unwrap();
    assert_eq!(
        timeout(WAIT, server.recv()).await.unwrap().unwrap(),
        Some(Frame::CrlfPing)
    );
    server.send_crlf_pong().await.unwrap();
    assert_eq!(
        timeout(WAIT, client.recv()).await.unwrap().unwrap(),
        Some(Frame::CrlfPong)
    );
    client.close().await;
    assert_eq!(
        timeout(WAIT, server.recv()).await.unwrap().unwrap(),
        None,
        "closed"
    );
}

#[tokio::test]
async fn oversized_messages_end_the_flow() {
    let limits = WsLimits {
        max_message_size: 1024,
        ..WsLimits::default()
    };
    let (mut server, mut client) = pair(limits).await;
    client.send(vec![b'x'; 4096]).await.unwrap();
    let err = timeout(WAIT, server.recv())
        .await
        .unwrap()
        .expect_err("too large");
    assert!(
        matches!(err, TransportError::MessageTooLarge(1024)),
        "{err}"
    );
}

#[tokio::test]
async fn clients_without_the_sip_subprotocol_are_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        WsFlow::accept(tcp, WsLimits::default(), WAIT).await
    });
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let upgrade = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(upgrade.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = timeout(WAIT, tcp.read(&mut answer)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 400"));
    assert!(server.await.unwrap().is_err());
}

#[tokio::test]
async fn every_wait_is_bounded() {
    // A server that accepts TCP and then says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(tcp);
    });
    let how = WsConnect::new(url.clone()).with_timeout(Duration::from_millis(200));
    let err = WsFlow::connect(&how).await.expect_err("no handshake");
    assert!(
        matches!(err, TransportError::ConnectTimeout { .. }),
        "{err}"
    );
    hold.abort();

    // A client that connects and then says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _silent = TcpStream::connect(addr).await.unwrap();
    let (tcp, _) = listener.accept().await.unwrap();
    let err = WsFlow::accept(tcp, WsLimits::default(), Duration::from_millis(200))
        .await
        .expect_err("no handshake");
    assert!(
        matches!(err, TransportError::ConnectTimeout { .. }),
        "{err}"
    );

    for bad in ["http://127.0.0.1:1", "sip:1001@ccc.test", ""] {
        let err = WsFlow::connect(&WsConnect::new(bad))
            .await
            .expect_err("not a WebSocket URL");
        assert!(matches!(err, TransportError::BadUrl(_)), "{bad}: {err}");
    }
}
