//! The user agent against a simulated registrar, on simulated time.

use std::time::{Duration, Instant};

use super::*;
use crate::auth::{Challenge, DigestClient};
use crate::message::{Builder, KnownHeader, parse};

struct Harness {
    ua: UserAgent,
    now: Instant,
}

impl Harness {
    fn new() -> Self {
        let config = UaConfig::new(
            "1001",
            "secret1001",
            "ccc.test",
            "urn:uuid:00000000-0000-4000-8000-000000000001",
        );
        let mut ua = UserAgent::new(config, 42);
        let now = Instant::now();
        ua.handle_flow(now, true);
        Self { ua, now }
    }

    fn sent(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.ua.poll_transmit()).collect()
    }

    fn one_sent(&mut self) -> Vec<u8> {
        let mut sent = self.sent();
        assert_eq!(sent.len(), 1, "exactly one message sent");
        sent.remove(0)
    }

    fn events(&mut self) -> Vec<UaEvent> {
        std::iter::from_fn(|| self.ua.poll_event()).collect()
    }

    fn receive(&mut self, bytes: &[u8]) {
        self.ua.handle_message(self.now, bytes);
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(due) = self.ua.poll_timeout().filter(|d| *d <= end) {
            self.now = self.now.max(due);
            self.ua.handle_timeout(self.now);
        }
        self.now = end;
    }
}

/// A registrar's answer to `request`.
fn answer(request: &[u8], code: u16, reason: &str, extra: &[(KnownHeader, &str)]) -> Vec<u8> {
    let r = parse(request).unwrap();
    let mut b = Builder::response(code, reason)
        .header(KnownHeader::Via, r.header(KnownHeader::Via).unwrap())
        .header(KnownHeader::From, r.header(KnownHeader::From).unwrap())
        .header(
            KnownHeader::To,
            format!("{};tag=reg1", r.header(KnownHeader::To).unwrap()),
        )
        .header(KnownHeader::CallId, r.call_id().unwrap())
        .header(KnownHeader::CSeq, r.header(KnownHeader::CSeq).unwrap());
    for (name, value) in extra {
        b = b.header(*name, *value);
    }
    b.build().unwrap()
}

/// The Contact as a registrar returns it: with the expiry it granted (300 s).
fn granted(contact: &str) -> String {
    contact.replace(";expires=600", ";expires=300")
}

const CHALLENGE: &str = "Digest realm=\"ccc.test\", nonce=\"n1\", qop=\"auth\"";

fn registered(h: &mut Harness) -> Vec<u8> {
    h.ua.register(h.now);
    let first = h.one_sent();
    h.receive(&answer(
        &first,
        401,
        "Unauthorized",
        &[(KnownHeader::WwwAuthenticate, CHALLENGE)],
    ));
    let second = h.one_sent();
    let contact = parse(&second)
        .unwrap()
        .header(KnownHeader::Contact)
        .unwrap()
        .to_owned();
    h.receive(&answer(
        &second,
        200,
        "OK",
        &[(KnownHeader::Contact, &granted(&contact))],
    ));
    assert_eq!(h.events(), [UaEvent::Registered { expires: 300 }]);
    second
}

#[test]
fn register_answers_the_challenge_the_rfc_7118_way() {
    let mut h = Harness::new();
    h.ua.register(h.now);
    let first = h.one_sent();
    let m = parse(&first).unwrap();
    assert_eq!(m.method(), Some("REGISTER"));
    assert_eq!(m.request_uri(), Some("sip:ccc.test"));
    let via = m.via().unwrap();
    assert_eq!(via.transport, "WS");
    assert!(via.host.ends_with(".invalid"), "RFC 7118: {}", via.host);
    assert!(via.branch().unwrap().starts_with("z9hG4bK"));
    let contact = m.contacts().next().unwrap().unwrap();
    assert_eq!(
        contact.sip_uri().unwrap().params.value("transport"),
        Some("ws")
    );
    assert_eq!(
        contact.params.value("+sip.instance"),
        Some("<urn:uuid:00000000-0000-4000-8000-000000000001>")
    );
    assert_eq!(contact.params.value("reg-id"), Some("1"));
    assert_eq!(m.expires().unwrap(), Some(600));
    assert!(m.header(KnownHeader::Authorization).is_none());

    h.receive(&answer(
        &first,
        401,
        "Unauthorized",
        &[(KnownHeader::WwwAuthenticate, CHALLENGE)],
    ));
    let second = h.one_sent();
    let m2 = parse(&second).unwrap();
    assert_eq!(m2.call_id(), m.call_id(), "one Call-ID per registration");
    assert_eq!(m2.cseq().unwrap().seq, m.cseq().unwrap().seq + 1);
    let auth = m2.header(KnownHeader::Authorization).unwrap();
    assert!(
        auth.contains("username=\"1001\"") && auth.contains("nc=00000001"),
        "{auth}"
    );
    // The response is the digest of the right credentials.
    let cnonce = auth
        .split("cnonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let expected = DigestClient::new("1001", "secret1001").authorize(
        &Challenge::parse(CHALLENGE).unwrap(),
        "REGISTER",
        "sip:ccc.test",
        cnonce,
    );
    assert!(auth.contains(&expected.response));
    assert!(h.events().is_empty());
    assert!(!h.ua.is_registered());

    let contact = m2.header(KnownHeader::Contact).unwrap();
    h.receive(&answer(
        &second,
        200,
        "OK",
        &[(KnownHeader::Contact, &granted(contact))],
    ));
    assert_eq!(h.events(), [UaEvent::Registered { expires: 300 }]);
    assert!(h.ua.is_registered());
    assert_eq!(
        h.ua.poll_timeout(),
        Some(h.now + Duration::from_secs(270)),
        "refresh at 90 %"
    );
}

#[test]
fn refreshes_before_expiry_with_the_known_challenge() {
    let mut h = Harness::new();
    let before = registered(&mut h);
    h.advance(Duration::from_secs(269));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    let refresh = h.one_sent();
    let (a, b) = (parse(&before).unwrap(), parse(&refresh).unwrap());
    assert_eq!(a.call_id(), b.call_id());
    assert_eq!(b.cseq().unwrap().seq, a.cseq().unwrap().seq + 1);
    let auth = b
        .header(KnownHeader::Authorization)
        .expect("pre-emptive credentials");
    assert!(auth.contains("nc=00000002"), "{auth}");
    let contact = b.header(KnownHeader::Contact).unwrap().to_owned();
    h.receive(&answer(
        &refresh,
        200,
        "OK",
        &[(KnownHeader::Contact, &granted(&contact))],
    ));
    assert_eq!(h.events(), [UaEvent::Registered { expires: 300 }]);
}

#[test]
fn a_wrong_password_fails_once_and_clearly() {
    let mut h = Harness::new();
    h.ua.register(h.now);
    let first = h.one_sent();
    h.receive(&answer(
        &first,
        401,
        "Unauthorized",
        &[(KnownHeader::WwwAuthenticate, CHALLENGE)],
    ));
    let second = h.one_sent();
    h.receive(&answer(
        &second,
        401,
        "Unauthorized",
        &[(KnownHeader::WwwAuthenticate, CHALLENGE)],
    ));
    assert!(h.sent().is_empty(), "no loop of retries");
    assert_eq!(
        h.events(),
        [UaEvent::RegistrationFailed(
            RegistrationError::WrongCredentials {
                realm: "ccc.test".into()
            }
        )]
    );
    assert_eq!(h.ua.poll_timeout(), None);
}

#[test]
fn a_stale_nonce_is_answered_again() {
    let mut h = Harness::new();
    let before = registered(&mut h);
    h.advance(Duration::from_secs(270));
    let refresh = h.one_sent();
    let stale = "Digest realm=\"ccc.test\", nonce=\"n2\", qop=\"auth\", stale=true";
    h.receive(&answer(
        &refresh,
        401,
        "Unauthorized",
        &[(KnownHeader::WwwAuthenticate, stale)],
    ));
    let again = h.one_sent();
    assert!(
        parse(&again)
            .unwrap()
            .header(KnownHeader::Authorization)
            .unwrap()
            .contains("nonce=\"n2\"")
    );
    assert!(h.events().is_empty());
    assert_ne!(before, again);
}

#[test]
fn interval_too_brief_takes_the_minimum() {
    let mut h = Harness::new();
    h.ua.register(h.now);
    let first = h.one_sent();
    h.receive(&answer(
        &first,
        423,
        "Interval Too Brief",
        &[(KnownHeader::MinExpires, "1200")],
    ));
    let again = h.one_sent();
    assert_eq!(parse(&again).unwrap().expires().unwrap(), Some(1200));
    h.receive(&answer(
        &again,
        200,
        "OK",
        &[(KnownHeader::Expires, "1200")],
    ));
    assert_eq!(h.events(), [UaEvent::Registered { expires: 1200 }]);
}

#[test]
fn no_answer_times_out_after_timer_f() {
    let mut h = Harness::new();
    h.ua.register(h.now);
    h.sent();
    h.advance(Duration::from_secs(31));
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(
        h.events(),
        [UaEvent::RegistrationFailed(RegistrationError::Timeout)]
    );
}

#[test]
fn other_failures_are_reported() {
    let mut h = Harness::new();
    h.ua.register(h.now);
    let first = h.one_sent();
    h.receive(&answer(&first, 403, "Forbidden", &[]));
    assert_eq!(
        h.events(),
        [UaEvent::RegistrationFailed(RegistrationError::Rejected {
            code: 403,
            reason: "Forbidden".into()
        })]
    );
    h.ua.register(h.now);
    let again = h.one_sent();
    h.receive(&answer(
        &again,
        401,
        "Unauthorized",
        &[(KnownHeader::WwwAuthenticate, "Digest nonce=\"x\"")],
    ));
    assert!(matches!(
        h.events()[..],
        [UaEvent::RegistrationFailed(
            RegistrationError::BadChallenge(_)
        )]
    ));
}

#[test]
fn the_flow_going_down_loses_the_binding_and_up_renews_it() {
    let mut h = Harness::new();
    registered(&mut h);
    h.ua.handle_flow(h.now, false);
    assert_eq!(h.events(), [UaEvent::RegistrationLost]);
    assert!(!h.ua.is_registered());
    h.advance(Duration::from_secs(600));
    assert!(h.sent().is_empty(), "nothing to send on a dead flow");
    h.ua.handle_flow(h.now, true);
    let renewed = h.one_sent();
    assert_eq!(parse(&renewed).unwrap().method(), Some("REGISTER"));
}

#[test]
fn unregister_removes_the_binding() {
    let mut h = Harness::new();
    registered(&mut h);
    h.ua.unregister(h.now);
    let removal = h.one_sent();
    let m = parse(&removal).unwrap();
    assert_eq!(m.expires().unwrap(), Some(0));
    h.receive(&answer(&removal, 200, "OK", &[]));
    assert_eq!(h.events(), [UaEvent::Unregistered]);
    assert_eq!(h.ua.poll_timeout(), None, "no refresh after unregistering");
}

#[test]
fn requests_it_does_not_handle_get_the_rfc_answers() {
    let mut h = Harness::new();
    let request = |method: &str, to_tag: &str| {
        Builder::request(method, "sip:1001@h.invalid;transport=ws")
            .header(KnownHeader::Via, "SIP/2.0/WS proxy.test;branch=z9hG4bKp1")
            .header(KnownHeader::From, "<sip:1002@ccc.test>;tag=f1")
            .header(KnownHeader::To, format!("<sip:1001@ccc.test>{to_tag}"))
            .header(KnownHeader::CallId, "c1")
            .header(KnownHeader::CSeq, format!("1 {method}"))
            .build()
            .unwrap()
    };
    for (method, to_tag, code) in [
        ("OPTIONS", "", 200),
        ("BYE", ";tag=t1", 481),
        ("SUBSCRIBE", "", 501),
        ("MESSAGE", "", 405),
    ] {
        h.receive(&request(method, to_tag));
        let reply = h.one_sent();
        let m = parse(&reply).unwrap();
        assert_eq!(m.status(), Some(code), "{method}");
        assert_eq!(m.via().unwrap().branch(), Some("z9hG4bKp1"));
        assert_eq!(m.call_id(), Some("c1"));
        assert!(
            m.to().unwrap().tag().is_some(),
            "a To tag on a final answer"
        );
        if method == "OPTIONS" {
            assert!(m.header(KnownHeader::Allow).unwrap().contains("INVITE"));
        }
    }
    // The same request twice gets the same To tag.
    h.receive(&request("OPTIONS", ""));
    h.receive(&request("OPTIONS", ""));
    let tags: Vec<String> = h
        .sent()
        .iter()
        .map(|r| parse(r).unwrap().to().unwrap().tag().unwrap().to_owned())
        .collect();
    assert_eq!(tags[0], tags[1]);
    h.receive(&request("ACK", ";tag=t1"));
    assert!(h.sent().is_empty(), "ACK is never answered");
    h.receive(b"garbage");
    assert!(matches!(h.events()[..], [UaEvent::Malformed(_)]));
    // A response to nothing of ours is dropped.
    h.receive(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKnope\r\nCSeq: 9 REGISTER\r\nContent-Length: 0\r\n\r\n");
    assert!(h.sent().is_empty() && h.events().is_empty());
}
