//! Digest answers that Kamailio accepts: REGISTER over WebSocket, MD5 and SHA-256, and a
//! wrong password challenged again.

use std::time::Duration;

use ccc_sip::auth::{Challenge, DigestClient};
use ccc_sip::transport::{Frame, WsConnect, WsFlow};
use ccc_testpeers::{Kamailio, KamailioConfig};
use tokio::time::timeout;

fn register(cseq: u32, port: u16, authorization: Option<&str>) -> String {
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "REGISTER sip:ccc.test SIP/2.0\r\nVia: SIP/2.0/WS h{port}.invalid;branch=z9hG4bK-dg-{port}-{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:1001@ccc.test>;tag=dg{port}\r\nTo: <sip:1001@ccc.test>\r\n\
         Call-ID: digest-{port}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:1001@h{port}.invalid;transport=ws>\r\n\
         Expires: 60\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

async fn answer(flow: &mut WsFlow) -> String {
    loop {
        match timeout(Duration::from_secs(5), flow.recv())
            .await
            .expect("an answer")
            .expect("no error")
        {
            Some(Frame::Message(bytes)) => return String::from_utf8_lossy(&bytes).into_owned(),
            Some(_) => continue,
            None => panic!("closed"),
        }
    }
}

fn challenge_of(response: &str) -> Challenge {
    let line = response
        .lines()
        .find_map(|l| l.strip_prefix("WWW-Authenticate:"))
        .unwrap_or_else(|| panic!("a challenge in {response}"));
    Challenge::parse(line).expect("a digest challenge")
}

async fn register_with(kam: &Kamailio, password: &str) -> (Challenge, String) {
    let mut flow = WsFlow::connect(&WsConnect::new(kam.ws_url()))
        .await
        .expect("connects");
    let port = flow.local_addr().port();
    flow.send(register(1, port, None)).await.unwrap();
    let first = answer(&mut flow).await;
    assert!(first.starts_with("SIP/2.0 401"), "{first}");
    let challenge = challenge_of(&first);
    let mut client = DigestClient::new("1001", password);
    let auth = client.authorize(&challenge, "REGISTER", "sip:ccc.test", "0a4f113b");
    flow.send(register(2, port, Some(&auth.header)))
        .await
        .unwrap();
    (challenge, answer(&mut flow).await)
}

#[tokio::test]
async fn md5_and_sha256_registrations_are_accepted() {
    for algorithm in ["MD5", "SHA-256"] {
        let config = KamailioConfig {
            digest_algorithm: algorithm,
            ..KamailioConfig::default()
        };
        let Some(kam) = Kamailio::start(config).expect("Kamailio starts") else {
            return;
        };
        let (challenge, second) = register_with(&kam, "secret1001").await;
        assert_eq!(challenge.algorithm.as_str(), algorithm);
        assert!(
            second.starts_with("SIP/2.0 200"),
            "{algorithm}: {second}\n{}",
            kam.log_tail()
        );
    }
}

#[tokio::test]
async fn a_wrong_password_is_challenged_again() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let (_, second) = register_with(&kam, "not-the-password").await;
    assert!(second.starts_with("SIP/2.0 401"), "{second}");
    assert!(
        !challenge_of(&second).stale,
        "a wrong password is not a stale nonce"
    );
}
