//! Session timers (RFC 4028) when the other side asks for them.

use super::*;

const ANSWER: &[u8] = b"v=0\r\no=- 9 9 IN IP4 10.0.0.1\r\n";

/// An INVITE asking for a session timer (with `extra` headers).
fn invite_asking(extra: &[(KnownHeader, &str)]) -> Vec<u8> {
    let mut b = Builder::request("INVITE", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            "SIP/2.0/WS 127.0.0.1:8080;branch=z9hG4bK-st",
        )
        .header(
            KnownHeader::From,
            "\"Customer\" <sip:1003@ccc.test>;tag=caller1",
        )
        .header(KnownHeader::To, "<sip:1001@ccc.test>")
        .header(KnownHeader::CallId, "call-1")
        .header(KnownHeader::CSeq, "1 INVITE")
        .header(KnownHeader::Contact, "<sip:1003@127.0.0.1:5070>");
    for (name, value) in extra {
        b = b.header(*name, *value);
    }
    b.body(
        "application/sdp",
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.3\r\n".to_vec(),
    )
    .build()
    .unwrap()
}

/// The call answered (the 200 returned) and acknowledged.
fn answered(h: &mut Harness, invite: &[u8]) -> (CallHandle, String, Vec<u8>) {
    h.receive(invite);
    let [UaEvent::IncomingCall { call, .. }] = h.events()[..] else {
        panic!("no call");
    };
    assert!(h.ua.answer(h.now, call, ANSWER));
    let ok = h.one_sent();
    let tag = our_tag(&ok);
    h.receive(&in_dialog("ACK", 1, &tag, "z9hG4bK-ack"));
    assert_eq!(h.events(), [UaEvent::CallEstablished { call }]);
    (call, tag, ok)
}

#[test]
fn the_caller_refreshes_and_the_session_expires_without_its_refresh() {
    let mut h = Harness::new();
    let (call, tag, ok) = answered(
        &mut h,
        &invite_asking(&[
            (KnownHeader::SessionExpires, "120;refresher=uac"),
            (KnownHeader::Supported, "timer"),
        ]),
    );
    let m = parse(&ok).unwrap();
    assert_eq!(
        m.header(KnownHeader::SessionExpires),
        Some("120;refresher=uac")
    );
    assert_eq!(m.header(KnownHeader::Require), Some("timer"));
    // The caller's refresh: the same offer again, answered without the program.
    h.advance(Duration::from_secs(60));
    assert!(h.sent().is_empty(), "this side does not refresh");
    h.receive(&in_dialog_with(
        "INVITE",
        2,
        &tag,
        "z9hG4bK-refresh",
        &[
            (KnownHeader::SessionExpires, "120;refresher=uac"),
            (KnownHeader::Supported, "timer"),
        ],
        Some(("application/sdp", b"v=0\r\no=- 1 1 IN IP4 10.0.0.3\r\n")),
    ));
    assert!(h.events().is_empty(), "an unchanged offer is no question");
    let refreshed = h.one_sent();
    let m = parse(&refreshed).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.body, ANSWER, "the same answer");
    assert_eq!(
        m.header(KnownHeader::SessionExpires),
        Some("120;refresher=uac")
    );
    h.receive(&in_dialog("ACK", 2, &tag, "z9hG4bK-refresh-ack"));
    // No refresh after that: the BYE at 120 - 32 s after the last refresh.
    h.advance(Duration::from_secs(87));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    let bye = h.one_sent();
    assert_eq!(parse(&bye).unwrap().method(), Some("BYE"));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::SessionExpired
        }]
    );
    h.receive(&reply(&bye, 200, "OK", &[]));
    assert!(h.events().is_empty(), "reported once");
}

#[test]
fn this_side_refreshes_by_update_when_allowed_else_by_re_invite() {
    for (allow, method) in [
        ("INVITE, ACK, BYE, UPDATE", "UPDATE"),
        ("INVITE, ACK, BYE", "INVITE"),
    ] {
        let mut h = Harness::new();
        let (call, _, ok) = answered(
            &mut h,
            &invite_asking(&[
                (KnownHeader::SessionExpires, "90;refresher=uas"),
                (KnownHeader::Allow, allow),
            ]),
        );
        let m = parse(&ok).unwrap();
        assert_eq!(
            m.header(KnownHeader::SessionExpires),
            Some("90;refresher=uas")
        );
        assert!(
            m.header(KnownHeader::Require).is_none(),
            "the caller did not say it supports timers"
        );
        h.advance(Duration::from_secs(44));
        assert!(h.sent().is_empty());
        h.advance(Duration::from_secs(1));
        let refresh = h.one_sent();
        let r = parse(&refresh).unwrap();
        assert_eq!(r.method(), Some(method), "{allow}");
        assert_eq!(
            r.header(KnownHeader::SessionExpires),
            Some("90;refresher=uac")
        );
        if method == "INVITE" {
            assert_eq!(r.body, ANSWER, "the same SDP: nothing changes");
        } else {
            assert!(r.body.is_empty());
        }
        h.receive(&reply(
            &refresh,
            200,
            "OK",
            &[(KnownHeader::SessionExpires, "90;refresher=uac")],
        ));
        if method == "INVITE" {
            assert_eq!(parse(&h.one_sent()).unwrap().method(), Some("ACK"));
        }
        assert!(h.events().is_empty(), "a refresh is not reported");
        // The next refresh half an interval later.
        h.advance(Duration::from_secs(45));
        let again = h.one_sent();
        assert_eq!(parse(&again).unwrap().method(), Some(method));
        // A refresh that finds no session ends the call.
        h.receive(&reply(&again, 481, "Call/Transaction Does Not Exist", &[]));
        let sent = h.sent();
        assert!(
            sent.iter()
                .any(|m| parse(m).unwrap().method() == Some("BYE")),
            "BYE sent"
        );
        assert_eq!(
            h.events(),
            [UaEvent::CallEnded {
                call,
                reason: EndReason::SessionExpired
            }]
        );
    }
}

#[test]
fn an_interval_below_the_minimum_gets_422() {
    let mut h = Harness::new();
    h.receive(&invite_asking(&[(KnownHeader::SessionExpires, "30")]));
    let refused = h.one_sent();
    let m = parse(&refused).unwrap();
    assert_eq!(m.status(), Some(422));
    assert_eq!(m.header(KnownHeader::MinSe), Some("90"));
    assert!(h.events().is_empty(), "no call");
}

#[test]
fn an_outgoing_call_takes_the_timer_of_its_answer_and_a_422_s_minimum() {
    let mut h = Harness::new();
    let call = h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0 offer");
    let invite = h.one_sent();
    assert!(
        parse(&invite)
            .unwrap()
            .header(KnownHeader::Supported)
            .unwrap()
            .contains("timer")
    );
    // The callee wants at least 1800 s.
    h.receive(&reply(
        &invite,
        422,
        "Session Interval Too Small",
        &[(KnownHeader::MinSe, "1800")],
    ));
    let sent = h.sent();
    assert_eq!(parse(&sent[0]).unwrap().method(), Some("ACK"));
    let retry = parse(&sent[1]).unwrap();
    assert_eq!(retry.header(KnownHeader::SessionExpires), Some("1800"));
    assert_eq!(retry.header(KnownHeader::MinSe), Some("1800"));
    h.receive(&reply(
        &sent[1],
        200,
        "OK",
        &[
            (KnownHeader::Contact, "<sip:1002@10.0.0.2>"),
            (KnownHeader::SessionExpires, "1800;refresher=uac"),
        ],
    ));
    h.sent();
    assert!(matches!(h.events()[..], [UaEvent::CallAnswered { .. }]));
    // This side, the UAC, refreshes at half the interval, with its own offer.
    h.advance(Duration::from_secs(899));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    let refresh = parse(&h.one_sent()).unwrap().body.to_vec();
    assert_eq!(refresh, b"v=0 offer");
    assert!(h.ua.hang_up(h.now, call));
}

#[test]
fn a_re_invite_without_session_expires_turns_the_timer_off() {
    let mut h = Harness::new();
    let (_, tag, _) = answered(
        &mut h,
        &invite_asking(&[(KnownHeader::SessionExpires, "120;refresher=uac")]),
    );
    h.receive(&in_dialog_with(
        "INVITE",
        2,
        &tag,
        "z9hG4bK-re",
        &[],
        Some(("application/sdp", b"v=0\r\no=- 1 2 IN IP4 10.0.0.3\r\n")),
    ));
    let [UaEvent::CallUpdate { call, .. }] = h.events()[..] else {
        panic!("a new offer");
    };
    assert!(h.ua.answer(h.now, call, ANSWER));
    let ok = h.one_sent();
    assert!(
        parse(&ok)
            .unwrap()
            .header(KnownHeader::SessionExpires)
            .is_none()
    );
    h.receive(&in_dialog("ACK", 2, &tag, "z9hG4bK-re-ack"));
    h.advance(Duration::from_secs(600));
    assert!(h.sent().is_empty() && h.events().is_empty(), "no expiry");
}

#[test]
fn an_update_without_a_body_refreshes_the_session() {
    let mut h = Harness::new();
    let (call, tag, _) = answered(
        &mut h,
        &invite_asking(&[(KnownHeader::SessionExpires, "120;refresher=uac")]),
    );
    h.advance(Duration::from_secs(80));
    h.receive(&in_dialog_with(
        "UPDATE",
        2,
        &tag,
        "z9hG4bK-up",
        &[(KnownHeader::SessionExpires, "120;refresher=uac")],
        None,
    ));
    let ok = h.one_sent();
    let m = parse(&ok).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(
        m.header(KnownHeader::SessionExpires),
        Some("120;refresher=uac")
    );
    // Refreshed at 80 s: it now ends at 80 + 88 s, not at 88 s.
    h.advance(Duration::from_secs(87));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(parse(&h.one_sent()).unwrap().method(), Some("BYE"));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::SessionExpired
        }]
    );
    // An UPDATE with a new offer is refused (offers go by re-INVITE here).
    let mut h = Harness::new();
    let (_, tag, _) = answered(&mut h, &invite_asking(&[]));
    h.receive(&in_dialog_with(
        "UPDATE",
        2,
        &tag,
        "z9hG4bK-up2",
        &[],
        Some(("application/sdp", b"v=0\r\no=- 1 5 IN IP4 10.0.0.3\r\n")),
    ));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(488));
}
