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
    let second = challenged_and_granted(h);
    assert_eq!(h.events(), [UaEvent::Registered { expires: 300 }]);
    second
}

/// Answers the REGISTER just sent with a digest challenge and its retry with a 200;
/// returns the retry.
fn challenged_and_granted(h: &mut Harness) -> Vec<u8> {
    let first = h.one_sent();
    assert_eq!(parse(&first).unwrap().method(), Some("REGISTER"));
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
fn a_secure_flow_says_wss_in_via() {
    let mut h = Harness::new();
    h.ua.set_secure_flow();
    h.ua.register(h.now);
    let register = h.one_sent();
    let m = parse(&register).unwrap();
    assert_eq!(m.via().unwrap().transport, "WSS");
    let contact = m.contacts().next().unwrap().unwrap();
    assert_eq!(
        contact.sip_uri().unwrap().params.value("transport"),
        Some("ws"),
        "RFC 7118: the Contact's transport stays ws"
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
    // Tried again by itself, 15-30 s later (RFC 5626 4.5), then after 30-60 s.
    h.advance(Duration::from_secs(14));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(16));
    let retry = h.one_sent();
    assert_eq!(parse(&retry).unwrap().method(), Some("REGISTER"));
    h.advance(TIMER_F);
    assert_eq!(
        h.events(),
        [UaEvent::RegistrationFailed(RegistrationError::Timeout)]
    );
    h.advance(Duration::from_secs(29));
    assert!(h.sent().is_empty(), "the wait doubles");
    h.advance(Duration::from_secs(31));
    assert_eq!(h.sent().len(), 1);
}

/// A registrar that is down for a while (503) is asked again when it says, and a
/// refresh that fails so does not leave the agent unregistered for good.
#[test]
fn transient_refusals_are_retried_and_others_are_not() {
    let mut h = Harness::new();
    registered(&mut h);
    h.advance(Duration::from_secs(270));
    let refresh = h.one_sent();
    h.receive(&answer(
        &refresh,
        503,
        "Service Unavailable",
        &[(KnownHeader::RetryAfter, "120 (maintenance)")],
    ));
    assert!(matches!(
        h.events()[..],
        [UaEvent::RegistrationFailed(RegistrationError::Rejected {
            code: 503,
            ..
        })]
    ));
    h.advance(Duration::from_secs(119));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    let again = h.one_sent();
    assert_eq!(parse(&again).unwrap().method(), Some("REGISTER"));
    h.receive(&answer(&again, 200, "OK", &[(KnownHeader::Expires, "300")]));
    assert_eq!(h.events(), [UaEvent::Registered { expires: 300 }]);
    // Refused for good: not retried.
    h.advance(Duration::from_secs(270));
    let refresh = h.one_sent();
    h.receive(&answer(&refresh, 404, "Not Found", &[]));
    h.events();
    h.advance(RETRY_MAX_FOR_TESTS);
    assert!(h.sent().is_empty());
    assert_eq!(h.ua.poll_timeout(), None);
}

/// A registrar that answers every REGISTER with a stale nonce is given up on.
#[test]
fn endless_stale_nonces_end() {
    let mut h = Harness::new();
    h.ua.register(h.now);
    let mut sent = h.one_sent();
    for n in 0..4 {
        let stale = format!("Digest realm=\"ccc.test\", nonce=\"s{n}\", stale=true");
        h.receive(&answer(
            &sent,
            401,
            "Unauthorized",
            &[(KnownHeader::WwwAuthenticate, &stale)],
        ));
        if n < 3 {
            sent = h.one_sent();
            assert!(h.events().is_empty());
        }
    }
    assert!(h.sent().is_empty());
    assert!(matches!(
        h.events()[..],
        [UaEvent::RegistrationFailed(
            RegistrationError::BadChallenge(_)
        )]
    ));
}

const RETRY_MAX_FOR_TESTS: Duration = Duration::from_secs(3600);

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
    // The same request twice gets the same To tag, whatever was made in between.
    let tag = |h: &mut Harness| {
        h.receive(&request("OPTIONS", ""));
        our_tag(&h.one_sent())
    };
    let first = tag(&mut h);
    h.ua.register(h.now);
    h.sent();
    assert_eq!(tag(&mut h), first);
    h.receive(&request("ACK", ";tag=t1"));
    assert!(h.sent().is_empty(), "ACK is never answered");
    h.receive(b"garbage");
    assert!(matches!(h.events()[..], [UaEvent::Malformed(_)]));
    // A response to nothing of ours is dropped.
    h.receive(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKnope\r\nCSeq: 9 REGISTER\r\nContent-Length: 0\r\n\r\n");
    assert!(h.sent().is_empty() && h.events().is_empty());
}

/// An INVITE as Kamailio relays it: two Record-Routes, the caller's Contact.
fn invite(branch: &str) -> Vec<u8> {
    Builder::request("INVITE", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::RecordRoute,
            "<sip:127.0.0.1:8080;transport=ws;r2=on;lr>",
        )
        .header(KnownHeader::RecordRoute, "<sip:127.0.0.1;r2=on;lr>")
        .header(
            KnownHeader::Via,
            format!("SIP/2.0/WS 127.0.0.1:8080;branch={branch}"),
        )
        .header(
            KnownHeader::Via,
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-uac",
        )
        .header(
            KnownHeader::From,
            "\"Customer\" <sip:1003@ccc.test>;tag=caller1",
        )
        .header(KnownHeader::To, "<sip:1001@ccc.test>")
        .header(KnownHeader::CallId, "call-1")
        .header(KnownHeader::CSeq, "1 INVITE")
        .header(KnownHeader::Contact, "<sip:1003@127.0.0.1:5070>")
        .body("application/sdp", b"v=0\r\n".to_vec())
        .build()
        .unwrap()
}

/// A request from the caller in the dialog, to our tag.
fn in_dialog(method: &str, cseq: u32, our_tag: &str, branch: &str) -> Vec<u8> {
    in_dialog_with(method, cseq, our_tag, branch, &[], None)
}

fn incoming(h: &mut Harness) -> CallHandle {
    h.receive(&invite("z9hG4bK-inv1"));
    let events = h.events();
    let [
        UaEvent::IncomingCall {
            call, from, sdp, ..
        },
    ] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert!(from.contains("Customer"));
    assert_eq!(sdp, b"v=0\r\n");
    *call
}

fn our_tag(response: &[u8]) -> String {
    parse(response)
        .unwrap()
        .to()
        .unwrap()
        .tag()
        .unwrap()
        .to_owned()
}

#[test]
fn an_incoming_call_rings_is_answered_and_hung_up_by_the_caller() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    assert!(h.ua.ringing(call));
    let ringing = h.one_sent();
    assert_eq!(parse(&ringing).unwrap().status(), Some(180));
    // A retransmitted INVITE gets the last response again.
    h.receive(&invite("z9hG4bK-inv1"));
    assert_eq!(h.one_sent(), ringing);
    assert!(h.ua.answer(h.now, call, b"v=0 answer"));
    let ok = h.one_sent();
    let m = parse(&ok).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.body, b"v=0 answer");
    assert_eq!(m.content_type(), Some("application/sdp"));
    assert_eq!(m.vias().count(), 2, "both Vias copied");
    let contact = m.contacts().next().unwrap().unwrap();
    assert!(contact.uri.ends_with(";transport=ws;ob") && contact.uri.contains(".invalid"));
    let tag = our_tag(&ok);
    assert_eq!(our_tag(&ringing), tag, "one To tag for the dialog");
    // Not acknowledged yet: resent at T1, then 2 T1.
    h.advance(Duration::from_millis(500));
    assert_eq!(h.one_sent(), ok);
    h.advance(Duration::from_millis(1000));
    assert_eq!(h.one_sent(), ok);
    h.receive(&in_dialog("ACK", 1, &tag, "z9hG4bK-ack"));
    assert_eq!(h.events(), [UaEvent::CallEstablished { call }]);
    h.advance(Duration::from_secs(10));
    assert!(h.sent().is_empty(), "no more retransmissions after the ACK");
    h.receive(&in_dialog("BYE", 2, &tag, "z9hG4bK-bye"));
    let bye_ok = h.one_sent();
    assert_eq!(parse(&bye_ok).unwrap().status(), Some(200));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }]
    );
    // The dialog is gone.
    h.receive(&in_dialog("BYE", 3, &tag, "z9hG4bK-bye2"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(481));
}

#[test]
fn we_hang_up_with_a_bye_through_the_route_set() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    h.ua.answer(h.now, call, b"v=0");
    let tag = our_tag(&h.one_sent());
    h.receive(&in_dialog("ACK", 1, &tag, "z9hG4bK-ack"));
    h.events();
    assert!(h.ua.send_info(
        call,
        "application/dtmf-relay",
        b"Signal=5\r\nDuration=160\r\n"
    ));
    let info = h.one_sent();
    assert_eq!(parse(&info).unwrap().method(), Some("INFO"));
    assert!(h.ua.hang_up(h.now, call));
    let bye = h.one_sent();
    let m = parse(&bye).unwrap();
    assert_eq!(m.method(), Some("BYE"));
    assert_eq!(
        m.request_uri(),
        Some("sip:1003@127.0.0.1:5070"),
        "to the remote target"
    );
    let routes: Vec<_> = m.list(KnownHeader::Route).collect();
    assert_eq!(
        routes,
        [
            "<sip:127.0.0.1:8080;transport=ws;r2=on;lr>",
            "<sip:127.0.0.1;r2=on;lr>"
        ]
    );
    assert_eq!(m.from().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(m.to().unwrap().tag(), Some("caller1"));
    assert_eq!(
        m.cseq().unwrap(),
        crate::message::CSeq {
            seq: 2,
            method: "BYE"
        },
        "after the INFO's 1"
    );
    let answer = Builder::response(200, "OK")
        .header(KnownHeader::Via, m.header(KnownHeader::Via).unwrap())
        .header(KnownHeader::From, m.header(KnownHeader::From).unwrap())
        .header(KnownHeader::To, m.header(KnownHeader::To).unwrap())
        .header(KnownHeader::CallId, "call-1")
        .header(KnownHeader::CSeq, "2 BYE")
        .build()
        .unwrap();
    h.receive(&answer);
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }]
    );
}

#[test]
fn the_caller_cancels_before_the_answer() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    h.ua.ringing(call);
    h.sent();
    let cancel = Builder::request("CANCEL", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            "SIP/2.0/WS 127.0.0.1:8080;branch=z9hG4bK-inv1",
        )
        .header(
            KnownHeader::From,
            "\"Customer\" <sip:1003@ccc.test>;tag=caller1",
        )
        .header(KnownHeader::To, "<sip:1001@ccc.test>")
        .header(KnownHeader::CallId, "call-1")
        .header(KnownHeader::CSeq, "1 CANCEL")
        .build()
        .unwrap();
    h.receive(&cancel);
    let answers: Vec<u16> = h
        .sent()
        .iter()
        .map(|r| parse(r).unwrap().status().unwrap())
        .collect();
    assert_eq!(answers, [200, 487], "200 to the CANCEL, 487 to the INVITE");
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::Cancelled
        }]
    );
    assert!(!h.ua.answer(h.now, call, b"v=0"), "too late");
    // A CANCEL for nothing: 481.
    h.receive(&cancel);
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(481));
}

#[test]
fn rejecting_and_missing_acks() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    assert!(h.ua.reject(call, 486, "Busy Here"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(486));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::Rejected(486)
        }]
    );

    let mut h = Harness::new();
    h.receive(&invite("z9hG4bK-inv2"));
    let UaEvent::IncomingCall { call, .. } = h.events().remove(0) else {
        panic!()
    };
    h.ua.answer(h.now, call, b"v=0");
    h.sent();
    h.advance(Duration::from_secs(33));
    let sent: Vec<_> = h
        .sent()
        .into_iter()
        .map(|m| parse(&m).unwrap().method().map(str::to_owned))
        .collect();
    assert_eq!(
        sent.last().unwrap().as_deref(),
        Some("BYE"),
        "no ACK: the dialog ends with a BYE"
    );
    assert!(sent.len() > 5, "the 200 was resent meanwhile");
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::NoAck
        }]
    );
    h.advance(Duration::from_secs(40));
    assert!(h.events().is_empty(), "reported once");
}

#[test]
fn re_invites_are_offered_to_the_program() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    h.ua.answer(h.now, call, b"v=0");
    let tag = our_tag(&h.one_sent());
    h.receive(&in_dialog("ACK", 1, &tag, "z9hG4bK-ack"));
    h.events();
    let mut hold = in_dialog("INVITE", 2, &tag, "z9hG4bK-hold");
    // Give the re-INVITE a body: hold.
    let text = String::from_utf8(hold).unwrap().replace(
        "Content-Length: 0\r\n\r\n",
        "Content-Type: application/sdp\r\nContent-Length: 12\r\n\r\na=sendonly\r\n",
    );
    hold = text.into_bytes();
    h.receive(&hold);
    assert_eq!(
        h.events(),
        [UaEvent::CallUpdate {
            call,
            sdp: b"a=sendonly\r\n".to_vec()
        }]
    );
    h.ua.answer(h.now, call, b"a=recvonly");
    let ok = h.one_sent();
    assert_eq!(parse(&ok).unwrap().cseq().unwrap().seq, 2);
    h.receive(&in_dialog("ACK", 2, &tag, "z9hG4bK-ack2"));
    assert!(
        h.events().is_empty(),
        "no second CallEstablished for a re-INVITE"
    );
    h.advance(Duration::from_secs(5));
    assert!(h.sent().is_empty());
}

#[test]
fn unsupported_methods_in_a_known_dialog_get_405_not_481() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    h.ua.answer(h.now, call, b"v=0");
    let tag = our_tag(&h.one_sent());
    h.receive(&in_dialog("ACK", 1, &tag, "z9hG4bK-ack"));
    h.events();
    h.receive(&in_dialog("SUBSCRIBE", 2, &tag, "z9hG4bK-sub"));
    let answer = h.one_sent();
    let m = parse(&answer).unwrap();
    assert_eq!(m.status(), Some(405));
    assert!(!m.header(KnownHeader::Allow).unwrap().contains("SUBSCRIBE"));
    assert!(h.events().is_empty(), "the call goes on");
}

#[test]
fn losing_the_flow_ends_the_calls() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    h.ua.handle_flow(h.now, false);
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::FlowLost
        }]
    );
}

#[test]
fn dialog_making_responses_carry_the_record_routes() {
    let mut h = Harness::new();
    let call = incoming(&mut h);
    h.ua.ringing(call);
    h.ua.answer(h.now, call, b"v=0");
    for response in h.sent() {
        let m = parse(&response).unwrap();
        let routes: Vec<_> = m.list(KnownHeader::RecordRoute).collect();
        assert_eq!(routes.len(), 2, "{:?}", m.status());
    }
}

/// The callee's answer to this side's INVITE.
fn answer_invite(
    request: &[u8],
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(KnownHeader, &str)],
) -> Vec<u8> {
    let r = parse(request).unwrap();
    let to = r.header(KnownHeader::To).unwrap();
    let mut b = Builder::response(code, reason)
        .header(KnownHeader::Via, r.header(KnownHeader::Via).unwrap())
        .header(KnownHeader::From, r.header(KnownHeader::From).unwrap())
        .header(
            KnownHeader::To,
            to_tag.map_or_else(|| to.to_owned(), |t| format!("{to};tag={t}")),
        )
        .header(KnownHeader::CallId, r.call_id().unwrap())
        .header(KnownHeader::CSeq, r.header(KnownHeader::CSeq).unwrap());
    for (name, value) in extra {
        b = b.header(*name, *value);
    }
    b.build().unwrap()
}

#[test]
fn an_outgoing_call_answers_a_challenge_and_acks_every_2xx() {
    let mut h = Harness::new();
    let call = h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0 offer");
    let first = h.one_sent();
    assert_eq!(parse(&first).unwrap().body, b"v=0 offer");
    h.receive(&answer_invite(
        &first,
        407,
        "Proxy Authentication Required",
        Some("px"),
        &[(KnownHeader::ProxyAuthenticate, CHALLENGE)],
    ));
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "the ACK of the 407 and the INVITE again");
    let ack = parse(&sent[0]).unwrap();
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(
        ack.via().unwrap().branch(),
        parse(&first).unwrap().via().unwrap().branch(),
        "same transaction"
    );
    let second = parse(&sent[1]).unwrap();
    assert!(
        second
            .header(KnownHeader::ProxyAuthorization)
            .unwrap()
            .contains("uri=\"sip:1002@ccc.test\"")
    );
    assert_eq!(second.cseq().unwrap().seq, 2);
    h.receive(&answer_invite(
        &sent[1],
        180,
        "Ringing",
        Some("callee"),
        &[],
    ));
    assert!(matches!(
        h.events()[..],
        [UaEvent::CallProgress { code: 180, .. }]
    ));
    let ok = answer_invite(
        &sent[1],
        200,
        "OK",
        Some("callee"),
        &[
            (KnownHeader::Contact, "<sip:1002@10.0.0.2:5060>"),
            (KnownHeader::RecordRoute, "<sip:p1;lr>, <sip:p2;lr>"),
        ],
    );
    h.receive(&ok);
    assert_eq!(
        h.events(),
        [UaEvent::CallAnswered {
            call,
            sdp: Vec::new()
        }]
    );
    let ack = h.one_sent();
    let m = parse(&ack).unwrap();
    assert_eq!(
        (m.method(), m.request_uri()),
        (Some("ACK"), Some("sip:1002@10.0.0.2:5060"))
    );
    assert_eq!(
        m.list(KnownHeader::Route).collect::<Vec<_>>(),
        ["<sip:p2;lr>", "<sip:p1;lr>"],
        "the route set reversed"
    );
    // The 2xx again: the same ACK again.
    h.receive(&ok);
    assert_eq!(h.one_sent(), ack);
}

#[test]
fn cancelling_waits_for_a_provisional_answer() {
    let mut h = Harness::new();
    let call = h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0");
    let invite = h.one_sent();
    assert!(h.ua.hang_up(h.now, call));
    assert!(
        h.sent().is_empty(),
        "no CANCEL before a provisional answer (RFC 3261 9.1)"
    );
    h.receive(&answer_invite(&invite, 180, "Ringing", Some("t"), &[]));
    let cancel = h.one_sent();
    let c = parse(&cancel).unwrap();
    assert_eq!(c.method(), Some("CANCEL"));
    assert_eq!(
        c.via().unwrap().branch(),
        parse(&invite).unwrap().via().unwrap().branch()
    );
    h.events();
    h.receive(&answer_invite(
        &invite,
        487,
        "Request Terminated",
        Some("t"),
        &[],
    ));
    assert_eq!(parse(&h.one_sent()).unwrap().method(), Some("ACK"));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }]
    );
}

#[test]
fn an_unanswered_call_times_out() {
    let mut h = Harness::new();
    let call = h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0");
    h.sent();
    h.advance(Duration::from_secs(32));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::Timeout
        }]
    );
}

/// A call this side placed, answered and acknowledged; returns it and the 200's To tag.
fn answered_outgoing(h: &mut Harness, target: &str, callee_tag: &str) -> CallHandle {
    let call = h.ua.invite(h.now, target, b"v=0");
    let invite = h.one_sent();
    h.receive(&answer_invite(
        &invite,
        200,
        "OK",
        Some(callee_tag),
        &[(KnownHeader::Contact, "<sip:callee@10.0.0.2>")],
    ));
    h.sent();
    assert!(matches!(h.events()[..], [UaEvent::CallAnswered { .. }]));
    call
}

#[test]
fn blind_and_attended_transfers_by_refer() {
    let mut h = Harness::new();
    let first = answered_outgoing(&mut h, "sip:1002@ccc.test", "b-tag");
    assert!(h.ua.refer(h.now, first, "sip:1003@ccc.test", None));
    let refer = h.one_sent();
    let m = parse(&refer).unwrap();
    assert_eq!(m.method(), Some("REFER"));
    assert_eq!(m.header(KnownHeader::ReferTo), Some("<sip:1003@ccc.test>"));
    assert_eq!(
        m.header(KnownHeader::ReferredBy),
        Some("<sip:1001@ccc.test>")
    );
    assert!(
        !h.ua.refer(h.now, first, "sip:x@y", None),
        "one REFER at a time"
    );
    let accepted = Builder::response(202, "Accepted")
        .header(KnownHeader::Via, m.header(KnownHeader::Via).unwrap())
        .header(KnownHeader::From, m.header(KnownHeader::From).unwrap())
        .header(KnownHeader::To, m.header(KnownHeader::To).unwrap())
        .header(KnownHeader::CallId, m.call_id().unwrap())
        .header(KnownHeader::CSeq, m.header(KnownHeader::CSeq).unwrap())
        .build()
        .unwrap();
    h.receive(&accepted);
    assert_eq!(h.events(), [UaEvent::TransferAccepted { call: first }]);
    // The other party reports the transfer's progress.
    let from_tag = m.from().unwrap().tag().unwrap().to_owned();
    let notify = Builder::request("NOTIFY", "sip:1001@h.invalid;transport=ws")
        .header(KnownHeader::Via, "SIP/2.0/WS 10.0.0.2;branch=z9hG4bK-n1")
        .header(KnownHeader::From, "<sip:1002@ccc.test>;tag=b-tag")
        .header(
            KnownHeader::To,
            format!("<sip:1001@ccc.test>;tag={from_tag}"),
        )
        .header(KnownHeader::CallId, m.call_id().unwrap())
        .header(KnownHeader::CSeq, "1 NOTIFY")
        .header(KnownHeader::Event, "refer")
        .header(
            KnownHeader::SubscriptionState,
            "terminated;reason=noresource",
        )
        .body("message/sipfrag", b"SIP/2.0 200 OK\r\n".to_vec())
        .build()
        .unwrap();
    h.receive(&notify);
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(200));
    assert_eq!(
        h.events(),
        [UaEvent::TransferProgress {
            call: first,
            code: 200
        }]
    );

    // Attended: the second call replaces the new one at the far end.
    let second = answered_outgoing(&mut h, "sip:1003@ccc.test", "c;tag");
    assert!(h.ua.refer(h.now, second, "sip:1003@ccc.test", Some(first)));
    let refer = h.one_sent();
    let refer_to = parse(&refer)
        .unwrap()
        .header(KnownHeader::ReferTo)
        .unwrap()
        .to_owned();
    let first_call_id = parse(&notify).unwrap().call_id().unwrap().to_owned();
    assert_eq!(
        refer_to,
        format!(
            "<sip:1003@ccc.test?Replaces={}%3Bto-tag%3Db-tag%3Bfrom-tag%3D{from_tag}>",
            first_call_id
        )
    );
    assert!(!h.ua.refer(h.now, second, "sip:x@y", Some(CallHandle(999))));
}

mod glare;
mod recovery;
mod session_timer;
mod transfer;

/// An incoming call answered and acknowledged; returns it and this side's tag.
fn established(h: &mut Harness) -> (CallHandle, String) {
    let call = incoming(h);
    assert!(h.ua.answer(h.now, call, b"v=0\r\no=- 9 9 IN IP4 10.0.0.1\r\n"));
    let tag = our_tag(&h.one_sent());
    h.receive(&in_dialog("ACK", 1, &tag, "z9hG4bK-ack"));
    assert_eq!(h.events(), [UaEvent::CallEstablished { call }]);
    (call, tag)
}

/// A request from the caller in the dialog with more headers and a body.
fn in_dialog_with(
    method: &str,
    cseq: u32,
    our_tag: &str,
    branch: &str,
    headers: &[(KnownHeader, &str)],
    body: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let mut b = Builder::request(method, "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            format!("SIP/2.0/WS 127.0.0.1:8080;branch={branch}"),
        )
        .header(
            KnownHeader::From,
            "\"Customer\" <sip:1003@ccc.test>;tag=caller1",
        )
        .header(
            KnownHeader::To,
            format!("<sip:1001@ccc.test>;tag={our_tag}"),
        )
        .header(KnownHeader::CallId, "call-1")
        .header(KnownHeader::CSeq, format!("{cseq} {method}"));
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    if let Some((content_type, body)) = body {
        b = b.body(content_type, body.to_vec());
    }
    b.build().unwrap()
}

/// The response `code` to `request` from the other side (with a To tag).
fn reply(request: &[u8], code: u16, reason: &str, extra: &[(KnownHeader, &str)]) -> Vec<u8> {
    let r = parse(request).unwrap();
    let to = r.header(KnownHeader::To).unwrap();
    let to = if r.to().unwrap().tag().is_some() {
        to.to_owned()
    } else {
        format!("{to};tag=far")
    };
    let mut b = Builder::response(code, reason);
    for via in r.headers_named(KnownHeader::Via) {
        b = b.header(KnownHeader::Via, via);
    }
    b = b
        .header(KnownHeader::From, r.header(KnownHeader::From).unwrap())
        .header(KnownHeader::To, to)
        .header(KnownHeader::CallId, r.call_id().unwrap())
        .header(KnownHeader::CSeq, r.header(KnownHeader::CSeq).unwrap());
    for (name, value) in extra {
        b = b.header(*name, *value);
    }
    b.build().unwrap()
}

/// RFC 3261 7.3.1: a header value may be folded onto more lines; the answers copy it
/// (unfolded) rather than failing to be written.
#[test]
fn folded_headers_are_answered() {
    let mut h = Harness::new();
    h.receive(
        b"OPTIONS sip:1001@h.invalid SIP/2.0\r\n\
Via: SIP/2.0/WS 127.0.0.1:8080\r\n ;branch=z9hG4bK-fold\r\n\
From: \"Folded\"\r\n\t<sip:1003@ccc.test>;tag=f1\r\n\
To: <sip:1001@ccc.test>\r\n\
Call-ID: fold-1\r\n\
CSeq: 1\r\n  OPTIONS\r\n\
Content-Length: 0\r\n\r\n",
    );
    let answer = h.one_sent();
    let m = parse(&answer).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.via().unwrap().branch(), Some("z9hG4bK-fold"));
    assert_eq!(m.from().unwrap().tag(), Some("f1"));
    assert_eq!(m.cseq().unwrap().method, "OPTIONS");
    assert!(!answer.windows(3).any(|w| w == b"\r\n " || w == b"\r\n\t"));
    // RFC 3261 20.35: a response names its software in Server, not User-Agent.
    assert!(m.header(KnownHeader::Server).is_some());
    assert!(m.header(KnownHeader::UserAgent).is_none());

    let folded_invite = String::from_utf8(invite("z9hG4bK-inv1"))
        .unwrap()
        .replace("\"Customer\" <sip", "\"Customer\"\r\n <sip");
    h.receive(folded_invite.as_bytes());
    let events = h.events();
    let [UaEvent::IncomingCall { call, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert!(h.ua.ringing(*call));
    let ringing = h.one_sent();
    let m = parse(&ringing).unwrap();
    assert_eq!(m.status(), Some(180));
    assert_eq!(m.from().unwrap().display, Some("Customer"));
    // The program's reason phrase cannot break the answer either.
    assert!(h.ua.reject(*call, 486, "Busy\r\nX-Evil: 1"));
    let refusal = h.one_sent();
    let m = parse(&refusal).unwrap();
    assert_eq!(m.status(), Some(486));
    assert_eq!(m.other_header("X-Evil"), None);
}

/// RFC 7616 3.7 / RFC 8760 2.4: a server offering several algorithms sends one
/// challenge each, its favourite first; the first one this side knows is answered.
#[test]
fn the_first_challenge_it_can_answer_is_answered() {
    const OFFERED: [&str; 3] = [
        "Digest realm=\"ccc.test\", nonce=\"n5\", algorithm=SHA-512-256, qop=\"auth\"",
        "Digest realm=\"ccc.test\", nonce=\"n5\", algorithm=SHA-256, qop=\"auth\"",
        "Digest realm=\"ccc.test\", nonce=\"n5\", algorithm=MD5, qop=\"auth\"",
    ];
    let offered: Vec<(KnownHeader, &str)> = OFFERED
        .iter()
        .map(|c| (KnownHeader::WwwAuthenticate, *c))
        .collect();
    let mut h = Harness::new();
    h.ua.register(h.now);
    let first = h.one_sent();
    h.receive(&answer(&first, 401, "Unauthorized", &offered));
    assert!(h.events().is_empty(), "not a failure");
    let second = h.one_sent();
    let auth = parse(&second)
        .unwrap()
        .header(KnownHeader::Authorization)
        .unwrap()
        .to_owned();
    assert!(auth.contains("algorithm=SHA-256"), "{auth}");

    let proxy: Vec<(KnownHeader, &str)> = OFFERED
        .iter()
        .map(|c| (KnownHeader::ProxyAuthenticate, *c))
        .collect();
    h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0");
    let invite = h.one_sent();
    h.receive(&answer_invite(
        &invite,
        407,
        "Proxy Authentication Required",
        Some("px"),
        &proxy,
    ));
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "the ACK and the INVITE again");
    let retry = parse(&sent[1]).unwrap();
    assert!(
        retry
            .header(KnownHeader::ProxyAuthorization)
            .is_some_and(|a| a.contains("algorithm=SHA-256"))
    );
    assert!(h.events().is_empty());
}

/// RFC 3261 8.2.2.3: a request that requires an extension this side lacks gets 420.
#[test]
fn a_required_extension_it_lacks_gets_420() {
    let mut h = Harness::new();
    let requiring = String::from_utf8(invite("z9hG4bK-100rel"))
        .unwrap()
        .replace("Call-ID:", "Require: timer, 100rel\r\nCall-ID:");
    h.receive(requiring.as_bytes());
    let refusal = h.one_sent();
    let m = parse(&refusal).unwrap();
    assert_eq!(m.status(), Some(420));
    assert_eq!(m.header(KnownHeader::Unsupported), Some("100rel"));
    assert!(h.events().is_empty(), "no call offered");
    // What it supports is no reason to refuse.
    let timer = String::from_utf8(invite("z9hG4bK-timer")).unwrap().replace(
        "Call-ID:",
        "Require: Timer\r\nSession-Expires: 1800\r\nCall-ID:",
    );
    h.receive(timer.as_bytes());
    assert!(h.sent().is_empty());
    assert!(matches!(h.events()[..], [UaEvent::IncomingCall { .. }]));
}

/// A REFER the other side never answers fails after Timer F, and frees the call for
/// another; a target that is not a plain SIP URI is refused up front.
#[test]
fn an_unanswered_refer_settles() {
    let mut h = Harness::new();
    let call = answered_outgoing(&mut h, "sip:1002@ccc.test", "b-tag");
    for bad in [
        "tel:+8613800000000",
        "sip:1003@ccc.test>;x=<sip:evil@x",
        "sip:1003@ccc.test?Replaces=x",
        "sip:1003@ccc.test\r\nX: y",
    ] {
        assert!(!h.ua.refer(h.now, call, bad, None), "{bad:?}");
    }
    assert!(h.sent().is_empty());
    assert!(h.ua.refer(h.now, call, "sip:1003@ccc.test", None));
    h.one_sent();
    h.advance(TIMER_F - Duration::from_millis(1));
    assert!(h.events().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.events(), [UaEvent::TransferFailed { call, code: 408 }]);
    assert!(
        h.ua.refer(h.now, call, "sip:1003@ccc.test", None),
        "free again"
    );
}

/// A proxy's 100 Trying is a provisional answer: Timer B no longer runs (RFC 3261
/// 17.1.1.2), and a CANCEL may go at once (9.1); it is not reported as progress.
#[test]
fn a_100_trying_ends_timer_b_and_lets_a_cancel_go() {
    let mut h = Harness::new();
    let call = h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0");
    let invite = h.one_sent();
    h.receive(&answer_invite(&invite, 100, "Trying", None, &[]));
    assert!(h.events().is_empty(), "100 is not the callee's progress");
    h.advance(TIMER_F + Duration::from_secs(10));
    assert!(
        h.events().is_empty(),
        "no Timer B after a provisional answer"
    );
    assert!(h.ua.hang_up(h.now, call));
    let cancel = parse(&h.one_sent()).unwrap().method().map(str::to_owned);
    assert_eq!(cancel.as_deref(), Some("CANCEL"));
}

/// A flood of INVITEs nobody answers holds a bounded number of calls.
#[test]
fn calls_are_bounded() {
    let mut h = Harness::new();
    let template = String::from_utf8(invite("z9hG4bK-flood")).unwrap();
    for n in 0..=call::MAX_CALLS {
        let flood = template
            .replace("call-1", &format!("flood-{n}"))
            .replace("z9hG4bK-flood", &format!("z9hG4bK-flood{n}"));
        h.receive(flood.as_bytes());
    }
    assert_eq!(h.events().len(), call::MAX_CALLS, "one call offered each");
    let refusal = h.one_sent();
    let m = parse(&refusal).unwrap();
    assert_eq!(m.status(), Some(503));
    assert_eq!(m.header(KnownHeader::RetryAfter), Some("10"));
}
