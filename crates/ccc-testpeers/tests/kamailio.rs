//! The harness itself, against the real programs: Kamailio starts on free ports, speaks
//! SIP over UDP, WebSocket and secure WebSocket, checks digest passwords, and restarts
//! on the same ports. Skipped (loudly) outside CI when the programs are missing.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use ccc_testpeers::{Kamailio, KamailioConfig, Sipp, scenario_path};

const LIMIT: Duration = Duration::from_secs(20);

fn kamailio(config: KamailioConfig) -> Option<Kamailio> {
    Kamailio::start(config).expect("Kamailio starts")
}

#[test]
fn sipp_registers_through_kamailio_with_the_right_password_only() {
    let Some(kam) = kamailio(KamailioConfig::default()) else {
        return;
    };
    let scenario = scenario_path("register.xml");
    let Some(good) = Sipp::start(
        &scenario,
        kam.udp_addr(),
        &["-s", "1001", "-au", "1001", "-ap", "secret1001", "-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let run = good.wait(LIMIT);
    assert!(
        run.succeeded(),
        "register with the right password: {}\n{}\n{}",
        run.log,
        run.messages,
        kam.log_tail()
    );
    assert!(run.messages.contains("SIP/2.0 401"), "challenged first");
    assert!(run.messages.contains("SIP/2.0 200"), "then accepted");

    let bad = Sipp::start(
        &scenario,
        kam.udp_addr(),
        &["-s", "1001", "-au", "1001", "-ap", "wrong", "-m", "1"],
    )
    .expect("SIPp starts")
    .expect("installed");
    let run = bad.wait(LIMIT);
    assert!(
        !run.succeeded(),
        "a wrong password must not register:\n{}",
        run.messages
    );
    assert!(!run.messages.contains("SIP/2.0 200"), "{}", run.messages);
}

/// Sends a WebSocket upgrade asking for the `sip` subprotocol; returns the response head.
fn upgrade(stream: &mut impl ReadWrite, port: u16) -> String {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .expect("send the upgrade");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 4096 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn tcp(port: u16) -> TcpStream {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

fn assert_sip_websocket(head: &str) {
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-protocol: sip"),
        "{head}"
    );
    // RFC 6455 1.3: the accept value of the sample nonce.
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
}

#[test]
fn websocket_and_secure_websocket_speak_sip() {
    let Some(kam) = kamailio(KamailioConfig::default()) else {
        return;
    };
    assert!(kam.ws_url().starts_with("ws://127.0.0.1:"));
    assert_sip_websocket(&upgrade(&mut tcp(kam.ws_port()), kam.ws_port()));

    let mut roots = rustls::RootCertStore::empty();
    assert!(kam.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    roots
        .add(rustls::pki_types::CertificateDer::from(
            kam.ca_der().to_vec(),
        ))
        .expect("CA accepted");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp(kam.wss_port()));
    assert_sip_websocket(&upgrade(&mut tls, kam.wss_port()));
}

/// Sends one SIP request over UDP and returns the first response.
fn udp_request(kam: &Kamailio, request: &str) -> String {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let request = request.replace("PORT", &port.to_string());
    socket.send_to(request.as_bytes(), kam.udp_addr()).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("a response within 5 s");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

const REGISTER: &str = "REGISTER sip:ccc.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bK-harness-1;rport\r\n\
    From: <sip:1001@ccc.test>;tag=h1\r\nTo: <sip:1001@ccc.test>\r\nCall-ID: harness-1\r\nCSeq: 1 REGISTER\r\n\
    Contact: <sip:1001@127.0.0.1:PORT>\r\nMax-Forwards: 70\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n";

#[test]
fn challenges_use_the_configured_digest_algorithm() {
    let config = KamailioConfig {
        digest_algorithm: "SHA-256",
        ..KamailioConfig::default()
    };
    let Some(kam) = kamailio(config) else { return };
    let response = udp_request(&kam, REGISTER);
    assert!(response.starts_with("SIP/2.0 401"), "{response}");
    assert!(response.contains("algorithm=SHA-256"), "{response}");
}

#[test]
fn restart_comes_back_on_the_same_ports() {
    let Some(mut kam) = kamailio(KamailioConfig::default()) else {
        return;
    };
    let ws = kam.ws_port();
    kam.stop();
    assert!(!kam.is_running());
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, ws)).is_err(),
        "stopped means closed"
    );
    kam.restart().expect("restarts");
    assert_eq!(kam.ws_port(), ws);
    assert_sip_websocket(&upgrade(&mut tcp(ws), ws));
    assert!(udp_request(&kam, REGISTER).starts_with("SIP/2.0 401"));
}
